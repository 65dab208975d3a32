using System.Diagnostics;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Bench;

/// <summary>
/// Process Monitor capture reading: generates a capture the size of a typical support case (default 53,000
/// events, 24 MB: registry reads of MachineGuid and crypto settings, MachineKeys and certificate-store file opens,
/// with 24-frame stacks, across 60 processes) with <see cref="PmlWriter"/>, times the reader in-process, and the
/// whole process of `keydoctor trace --json` against procmon-parser (Python) when its source is given.
/// Usage: pml &lt;keydoctor.dll&gt; [procmon-parser source folder] [events=53000] [--keep PATH] [--no-measure]
/// (--no-measure only writes the capture to --keep's path, for bench/whole-process.sh).
/// </summary>
public static class PmlBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: pml <keydoctor.dll> [procmon-parser folder] [events] [--keep path]");
            return 2;
        }
        var cli = args[0];
        var parser = args.Length > 1 && Directory.Exists(args[1]) ? args[1] : null;
        var count = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 53_000;
        var keep = Array.IndexOf(args, "--keep") is var k and >= 0 && k + 1 < args.Length ? args[k + 1] : null;
        var path = keep ?? Path.Combine(Path.GetTempPath(), $"kd-bench-{Environment.ProcessId}.pml");
        var sw = Stopwatch.StartNew();
        using (var file = File.Create(path)) Generate(file, count);
        Console.WriteLine($"generated {path}: {count} events, {new FileInfo(path).Length / 1e6:F1} MB in {sw.Elapsed.TotalSeconds:F1} s");
        if (keep is not null && args.Contains("--no-measure")) return 0;
        try
        {
            var read = 0;
            var inProcess = Measure.Best(5, () =>
            {
                using var reader = PmlReader.Open(path);
                read = reader.ReadEvents().Count();
            });
            Console.WriteLine($"PmlReader, all {read} events with details (in-process, best of 5): {inProcess.TotalMilliseconds:F0} ms");
            var ours = Measure.BestExternal(5, "dotnet", cli, "trace", path, "--json");
            Console.WriteLine($"whole process: dotnet keydoctor.dll trace <capture> --json (best of 5): {ours.TotalMilliseconds:F0} ms");
            if (parser is not null)
            {
                var script = Path.Combine(parser, "..", "bench_procmon_parser.py");
                var theirs = Measure.Best(3, () =>
                {
                    var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
                    psi.ArgumentList.Add(script);
                    psi.ArgumentList.Add(path);
                    psi.Environment["PYTHONPATH"] = parser;
                    using var p = Process.Start(psi)!;
                    p.StandardOutput.BaseStream.CopyTo(Stream.Null);
                    p.StandardError.ReadToEnd();
                    p.WaitForExit();
                    if (p.ExitCode != 0) throw new InvalidOperationException("procmon-parser failed");
                });
                Console.WriteLine($"whole process: python3 procmon-parser, every event with details (best of 3): {theirs.TotalMilliseconds:F0} ms");
                Console.WriteLine($"ratio: {theirs / ours:F1}x");
            }
            Console.WriteLine($"peak RSS of this benchmark process: {Measure.PeakRssBytes() / 1048576} MiB");
        }
        finally
        {
            if (keep is null) File.Delete(path);
        }
        return 0;
    }

    private static void Generate(Stream output, int count)
    {
        var processes = Enumerable.Range(0, 60).Select(i => new ProcmonProcess
        {
            Index = i,
            ProcessId = (uint)(400 + (i * 4)),
            Name = i % 3 == 0 ? "w3wp.exe" : i % 3 == 1 ? "svchost.exe" : "inetinfo.exe",
            ImagePath = @"C:\Windows\System32\svchost.exe",
            CommandLine = $@"C:\Windows\System32\svchost.exe -k netsvcs -p -s Service{i}",
            User = i % 2 == 0 ? @"NT AUTHORITY\SYSTEM" : @"IIS APPPOOL\DefaultAppPool",
            Integrity = "System",
        }).ToList();
        var start = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        PmlWriter.Write(output, "WEB01", processes, Enumerable.Range(0, count).Select(i => (i % 5) switch
        {
            0 => new PmlEventToWrite
            {
                ProcessIndex = i % 60, ThreadId = (uint)(1000 + (i % 97)), Time = start.AddTicks(i * 1000L), Class = ProcmonEventClass.Registry,
                Operation = 5, Path = @"HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid", StringValue = "5a0e9ed4-1a7d-4f43-9c7f-2c1d0b6a9e11", StackDepth = 24,
            },
            1 => new PmlEventToWrite
            {
                ProcessIndex = i % 60, ThreadId = (uint)(1000 + (i % 97)), Time = start.AddTicks(i * 1000L), Class = ProcmonEventClass.Registry,
                Operation = 0, Path = $@"HKLM\SOFTWARE\Microsoft\Cryptography\Defaults\Provider\Microsoft Strong Cryptographic Provider{i % 7}", StackDepth = 24,
            },
            2 => new PmlEventToWrite
            {
                ProcessIndex = i % 60, ThreadId = (uint)(1000 + (i % 97)), Time = start.AddTicks(i * 1000L), Class = ProcmonEventClass.FileSystem,
                Operation = 20, Path = $@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\c2319c42033a5ca7f44e731bfba3dbbc_{i % 13:x8}-1a7d-4f43-9c7f-2c1d0b6a9e11",
                OpenResult = 1, StackDepth = 24,
            },
            3 => new PmlEventToWrite
            {
                ProcessIndex = i % 60, ThreadId = (uint)(1000 + (i % 97)), Time = start.AddTicks(i * 1000L), Class = ProcmonEventClass.FileSystem,
                Operation = 20, Path = $@"C:\inetpub\wwwroot\site{i % 50}\default{i % 11}.aspx", Status = i % 4 == 0 ? 0xC0000034 : 0, OpenResult = i % 4 == 0 ? null : 1, StackDepth = 24,
            },
            _ => new PmlEventToWrite
            {
                ProcessIndex = i % 60, ThreadId = (uint)(1000 + (i % 97)), Time = start.AddTicks(i * 1000L), Class = ProcmonEventClass.Registry,
                Operation = 5, Path = $@"HKLM\SOFTWARE\Microsoft\SystemCertificates\MY\Certificates\{i % 29:X40}\Blob", Status = 0xC0000034, StackDepth = 24,
            },
        }));
    }
}
