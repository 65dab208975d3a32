using System.Diagnostics;

namespace KeyDoctor.Bench;

/// <summary>Small timing helpers shared by the benchmarks: wall time, best of N, and external tools.</summary>
public static class Measure
{
    /// <summary>Runs <paramref name="action"/> <paramref name="runs"/> times and returns the best wall time.</summary>
    public static TimeSpan Best(int runs, Action action)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            sw.Stop();
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        return best;
    }

    /// <summary>Runs an external program with stdout discarded and returns the best wall time of N runs.</summary>
    public static TimeSpan BestExternal(int runs, string fileName, params string[] arguments) => Best(runs, () =>
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + fileName);
        p.StandardOutput.BaseStream.CopyTo(Stream.Null);
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{fileName} exited with {p.ExitCode}");
    });

    public static double MiBps(long bytes, TimeSpan time) => bytes / 1048576.0 / time.TotalSeconds;

    /// <summary>Peak resident set of this process, from /proc on Linux (0 elsewhere).</summary>
    public static long PeakRssBytes()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }
}
