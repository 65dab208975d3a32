using System.Diagnostics;
using System.Globalization;
using KeyDoctor.Cli;
using KeyDoctor.Diagnosis.Farm;
using KeyDoctor.Store;
using KeyDoctor.Tests.Farm;
using KeyDoctor.Tests.Store;

namespace KeyDoctor.Bench;

/// <summary>
/// `farm`: the farm comparison over generated node bundles, and a scan store holding many scans, on SQLite and (with
/// --postgres) on a throw-away PostgreSQL cluster. The nodes are FarmKit's (the tests' generator): every node with the
/// farm's keys and certificate, plus a clone pair, a node with its own iisWasKey and one missing the bound certificate.
/// Usage: farm [nodes=100] [scans=10000] [--dir DIR] [--keep] [--postgres] [--cli KEYDOCTOR]
/// </summary>
public static class FarmBenchmark
{
    public static int Run(string[] args)
    {
        var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !IsOptionValue(args, a)).ToList();
        var nodeCount = positional.Count > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 100;
        var scanCount = positional.Count > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 10_000;
        var dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "keydoctor-bench", "farm");
        var cli = Option(args, "--cli");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");

        // The nodes, then one bundle each, as 'keydoctor collect' writes them.
        var watch = Stopwatch.StartNew();
        using var kit = new FarmKit(Path.Combine(dir, "images"));
        var folders = new List<string>();
        for (var i = 1; i <= nodeCount; i++)
        {
            var options = i switch
            {
                3 => new FarmNodeOptions { OwnWasKey = true },
                4 => new FarmNodeOptions { CertificateMissing = true },
                _ => new FarmNodeOptions(),
            };
            folders.Add(kit.Node($"web{i:000}", $"WEB{i:000}", FarmKit.NodeGuid(i == 2 ? 1 : i), options));
        }
        var bundles = folders.Select(f => Path.Combine(dir, "bundles", Path.GetFileName(f) + ".zip")).ToList();
        Directory.CreateDirectory(Path.Combine(dir, "bundles"));
        for (var i = 0; i < folders.Count; i++)
            if (KeyDoctorApp.Run(["collect", "--from", folders[i], "-o", bundles[i]], TextWriter.Null, Console.Error) != 0) return 1;
        var bundleBytes = bundles.Sum(b => new FileInfo(b).Length);
        Console.WriteLine($"generated {nodeCount} node bundles ({bundleBytes / 1048576.0:F1} MiB) in {watch.Elapsed.TotalSeconds:F1} s");

        FarmReport? report = null;
        var farmTime = Measure.Best(3, () => report = FarmScanner.Scan(bundles));
        Console.WriteLine($"| farm over {nodeCount} bundles, library (FarmScanner.Scan, best of 3) | {Ms(farmTime)} | {Ms(farmTime / nodeCount)} per node | findings {string.Join(", ", report!.Findings.Select(f => $"{f.Finding.Id}[{f.Nodes.Count}]"))} |");
        if (cli is not null)
        {
            var external = Measure.Best(3, () => Findings(cli, ["farm", .. bundles, "--json"]));
            Console.WriteLine($"| `keydoctor farm <{nodeCount} bundles> --json`, whole process (best of 3) | {Ms(external)} | peak RSS {PeakRss(cli, ["farm", .. bundles, "--json"])} |");
        }

        Store("SQLite", Path.Combine(dir, "scans.db"), report!.Nodes, scanCount, cli);
        if (args.Contains("--postgres"))
        {
            using var server = new PostgresServer();
            Store("PostgreSQL", server.CreateDatabase(), report.Nodes, scanCount, cli);
        }
        Console.WriteLine($"peak RSS of the benchmark process: {Measure.PeakRssBytes() / 1048576} MiB");
        if (!args.Contains("--keep")) Directory.Delete(dir, recursive: true);
        return 0;
    }

    /// <summary>Records <paramref name="scans"/> scans (the nodes in turn, a minute apart) and reads them back the ways the commands do.</summary>
    private static void Store(string name, string target, IReadOnlyList<FarmNode> nodes, int scans, string? cli)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var watch = Stopwatch.StartNew();
        using (var store = ScanStore.Open(target, create: true))
            for (var i = 0; i < scans; i++)
                store.Record(nodes[i % nodes.Count], start.AddMinutes(i), "bench");
        var record = watch.Elapsed;
        using var reader = ScanStore.Open(target, create: false);
        var rows = reader.ScanCount();
        var latest = Measure.Best(3, () => FarmComparison.Compare(reader.LatestNodes()));
        var one = Measure.Best(3, () => reader.History(nodes[0].Name));
        var all = Measure.Best(1, () => reader.History());
        var size = File.Exists(target) ? $", file {new FileInfo(target).Length / 1048576.0:F1} MiB" : "";
        Console.WriteLine($"| {name}: record {scans} scans ({rows} in the store{size}) | {record.TotalSeconds:F1} s | {Ms(record / scans)} per scan |");
        Console.WriteLine($"| {name}: farm --store (latest of {nodes.Count} nodes, read + compare, best of 3) | {Ms(latest)} |");
        Console.WriteLine($"| {name}: history --node (one node, {scans / nodes.Count} scans, best of 3) | {Ms(one)} |");
        Console.WriteLine($"| {name}: history (all {scans} scans) | {Ms(all)} |");
        if (cli is not null)
            Console.WriteLine($"| {name}: `keydoctor farm --store … --json`, whole process (best of 3) | {Ms(Measure.Best(3, () => Findings(cli, ["farm", "--store", target, "--json"])))} | peak RSS {PeakRss(cli, ["farm", "--store", target, "--json"])} |");
    }

    /// <summary>Runs the command, stdout discarded; exit 1 (findings: the generated farm has some) is a success here.</summary>
    private static void Findings(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        process.StandardOutput.BaseStream.CopyTo(Stream.Null);
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode is not (0 or 1)) throw new InvalidOperationException($"{file} {arguments[0]} exited with {process.ExitCode}: {stderr}");
    }

    private static string PeakRss(string file, string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/time", ["-f", "%M", file, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        process.StandardOutput.BaseStream.CopyTo(Stream.Null);
        var lines = process.StandardError.ReadToEnd().Trim().Split('\n');
        process.WaitForExit();
        return long.TryParse(lines[^1], out var kib) ? $"{kib / 1024} MiB" : "?";
    }

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    private static bool IsOptionValue(string[] args, string value) =>
        Array.IndexOf(args, value) is var i and > 0 && args[i - 1] is "--dir" or "--cli";
}
