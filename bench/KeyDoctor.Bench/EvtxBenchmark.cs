using System.Buffers.Binary;
using System.Diagnostics;
using KeyDoctor.Cli;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Bench;

/// <summary>
/// EVTX throughput, one run, same files for every tool: our full parse to JSON Lines (the real
/// `keydoctor events --json` code path, in process, output discarded), our id-filtered scan, Debian's
/// evtxexport (text and -f xml) and python3-evtx's evtx_dump.py. Besides the real fixtures it builds a
/// larger log by repeating security.evtx's chunks (chunks are independent, so it is a valid EVTX file).
/// Usage: evtx [fixtures-dir] [repeat]
/// </summary>
public static class EvtxBenchmark
{
    public static int Run(string[] args)
    {
        var dir = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/fixtures/evtx"));
        var repeat = args.Length > 1 ? int.Parse(args[1]) : 12;
        var big = BuildRepeated(Path.Combine(dir, "security.evtx"), repeat);
        try
        {
            // Warm up: let the JIT reach its final (tier-1) code, and let its background compilations finish,
            // before anything is timed.
            var warmUp = Stopwatch.StartNew();
            while (warmUp.Elapsed < TimeSpan.FromSeconds(3))
            {
                RunCli(big, "--json");
                RunCli(big, "--id", "7024,36870,5061", "--json");
                ReadAll(big, 1);
                RunCli(Path.Combine(dir, "security.evtx"), "--json");
            }
            Thread.Sleep(2000);
            Console.WriteLine($"cores: {Environment.ProcessorCount}; load average before: {LoadAverage()}; {DateTime.UtcNow:yyyy-MM-dd}");
            Console.WriteLine("| file | size | records | tool | best time | MiB/s | vs evtxexport (faster mode) |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var (file, label, runPython) in new[]
                     {
                         (Path.Combine(dir, "security.evtx"), "security.evtx", true),
                         (Path.Combine(dir, "system.evtx"), "system.evtx", true),
                         (big, $"security.evtx chunks x{repeat}", false),
                     })
                Measure1(file, label, runPython);
            Console.WriteLine($"peak RSS of this process: {Measure.PeakRssBytes() / 1048576.0:F0} MiB; load average after: {LoadAverage()}");
        }
        finally
        {
            File.Delete(big);
        }
        return 0;
    }

    private static void Measure1(string file, string label, bool runPython)
    {
        var size = new FileInfo(file).Length;
        long records;
        using (var reader = EvtxReader.Open(file)) records = reader.ReadRecords().Count(r => !r.IsError);

        // The machine is shared: many runs, keep the best of each, for us and for the reference tools alike.
        var runs = 15;
        var json = Measure.Best(runs, () => RunCli(file, "--json"));
        var jsonOneCore = Measure.Best(runs, () => ReadAll(file, 1));
        var filtered = Measure.Best(runs, () => RunCli(file, "--id", "7024,36870,5061", "--json"));
        var evtxText = Measure.BestExternal(9, "/usr/bin/evtxexport", file);
        var evtxXml = Measure.BestExternal(9, "/usr/bin/evtxexport", "-f", "xml", file);
        var evtxexport = evtxText < evtxXml ? evtxText : evtxXml; // ratios against its faster mode
        var cli = Measure.BestExternal(3, "dotnet", Path.Combine(AppContext.BaseDirectory, "keydoctor.dll"), "events", file, "--json");

        void Row(string tool, TimeSpan t) =>
            Console.WriteLine($"| {label} | {size / 1048576.0:F1} MiB | {records} | {tool} | {t.TotalMilliseconds:F1} ms | " +
                              $"{Measure.MiBps(size, t):F1} | {evtxexport.TotalSeconds / t.TotalSeconds:F1}x |");
        Row("keydoctor events --json (in process, 2 cores)", json);
        Row("EvtxReader fields only, 1 core", jsonOneCore);
        Row("keydoctor events --id 7024,36870,5061 --json", filtered);
        Row("keydoctor events --json (new process, incl. .NET start)", cli);
        Row("evtxexport (text)", evtxText);
        Row("evtxexport -f xml", evtxXml);
        if (runPython)
            Row("python3-evtx evtx_dump.py", Measure.BestExternal(1, "/usr/bin/python3", "/usr/bin/evtx_dump.py", file));
    }

    /// <summary>The 1-minute load average (Linux), to judge how busy the shared machine was.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private static void RunCli(string file, params string[] options)
    {
        using var sink = new StreamWriter(Stream.Null);
        var code = KeyDoctorApp.Run(["events", file, .. options], sink, TextWriter.Null, interactive: false);
        if (code != 0) throw new InvalidOperationException($"keydoctor events exited with {code}");
    }

    private static void ReadAll(string file, int cores)
    {
        using var reader = EvtxReader.Open(file);
        foreach (var _ in reader.ReadRecords(new EvtxReadOptions { MaxDegreeOfParallelism = cores })) { }
    }

    /// <summary>A valid EVTX file made of <paramref name="file"/>'s chunks repeated; header count and CRC fixed.</summary>
    private static string BuildRepeated(string file, int repeat)
    {
        var bytes = File.ReadAllBytes(file);
        var header = bytes.AsSpan(0, 4096).ToArray();
        var chunks = new List<byte[]>();
        for (var offset = 4096; offset + 65536 <= bytes.Length; offset += 65536)
            if (EvtxChunkHeader.HasSignature(bytes.AsSpan(offset)))
                chunks.Add(bytes.AsSpan(offset, 65536).ToArray());
        var total = chunks.Count * repeat;
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)(total - 1));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(42), (ushort)total);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(124), Crc32.Compute(header.AsSpan(0, 120)));
        var path = Path.Combine(Path.GetTempPath(), $"keydoctor-bench-{Environment.ProcessId}.evtx");
        using var output = File.Create(path);
        output.Write(header);
        for (var r = 0; r < repeat; r++)
            foreach (var chunk in chunks) output.Write(chunk);
        Debug.Assert(output.Length == 4096 + (65536L * total));
        return path;
    }
}
