using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Bench;

/// <summary>
/// Full enumeration of a hive (every key, its name, class name and timestamp, every value decoded) against
/// libregf's regfexport on the same file, in one run.
/// Usage: registry [hive] (default ../shared/fixtures/hives/regipy/SYSTEM)
/// </summary>
public static class RegistryBenchmark
{
    public static int Run(string[] args)
    {
        var path = args.Length > 0 ? args[0] : Path.Combine("..", "shared", "fixtures", "hives", "regipy", "SYSTEM");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"hive not found: {path}");
            return 2;
        }
        var size = new FileInfo(path).Length;
        var keys = 0;
        var values = 0;
        long checksum = 0;
        void Enumerate()
        {
            keys = 0;
            values = 0;
            var hive = RegistryHive.Open(path, replayLogs: false);
            foreach (var key in hive.Root.DescendantsAndSelf())
            {
                keys++;
                checksum += key.Name.Length + (key.ClassName?.Length ?? 0) + (key.LastWritten?.Ticks ?? 0) % 7;
                foreach (var value in key.Values)
                {
                    values++;
                    checksum += value.Name.Length + value.Decode() switch
                    {
                        string s => s.Length,
                        string[] list => list.Length,
                        byte[] bytes => bytes.Length,
                        _ => 8,
                    };
                }
            }
        }

        Enumerate(); // warm-up (JIT)
        var ours = Measure.Best(10, Enumerate);
        // regfexport writes straight to /dev/null (as in the research baseline), so pipe copying is not charged to it.
        var reference = Measure.BestExternal(3, "/bin/sh", "-c", "regfexport \"$1\" > /dev/null", "sh", path);
        Console.WriteLine($"hive: {path} ({size:N0} bytes, {keys:N0} keys, {values:N0} values; checksum {checksum})");
        Console.WriteLine($"KeyDoctor full enumeration: {ours.TotalMilliseconds:F1} ms ({Measure.MiBps(size, ours):F0} MiB/s), best of 10");
        Console.WriteLine($"regfexport > /dev/null: {reference.TotalMilliseconds:F1} ms ({Measure.MiBps(size, reference):F1} MiB/s), best of 3");
        Console.WriteLine($"ratio: {reference / ours:F1}x faster");
        Console.WriteLine($"peak RSS: {Measure.PeakRssBytes() / 1048576.0:F0} MiB");
        return 0;
    }
}
