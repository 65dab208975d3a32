using System.Text;
using KeyDoctor.Diagnosis.ErrorCodes;

namespace KeyDoctor.Bench;

/// <summary>
/// `explain`: loading the embedded name table, scanning pasted messages, and (with --cli) the whole command as
/// a process. Usage: explain [--cli path/to/keydoctor.dll]
/// </summary>
public static class ExplainBenchmark
{
    private const string Message7024 =
        "The IIS Admin Service service terminated with service-specific error 2148073478 (0x80090006).";

    public static int Run(string[] args)
    {
        var first = Measure.Best(1, () => _ = ErrorNameTable.Embedded.Entries.Count);
        var names = ErrorNameTable.Embedded;
        Console.WriteLine($"table: {names.Entries.Count} names, {names.FacilityCount} facilities; first use (read + parse + JIT) {first.TotalMilliseconds:F1} ms");

        var errorNames = ErrorNameTable.ReadResource("KeyDoctor.ErrorNames.tsv");
        var facilities = ErrorNameTable.ReadResource("KeyDoctor.Facilities.tsv");
        var parse = Measure.Best(20, () => _ = new ErrorNameTable(errorNames, facilities));
        Console.WriteLine($"table parse (warm, best of 20): {parse.TotalMilliseconds:F2} ms");

        const int messages = 100_000;
        var scan = Measure.Best(5, () =>
        {
            for (var i = 0; i < messages; i++) _ = ErrorCodeScanner.Scan(Message7024, names);
        });
        Console.WriteLine($"scan 7024 message: {scan.TotalMilliseconds * 1000 / messages:F2} µs per message (best of 5 x {messages})");

        var log = BuildEventText(1 << 20);
        var found = 0;
        var bulk = Measure.Best(5, () => found = ErrorCodeScanner.Scan(log, names).Count);
        Console.WriteLine($"scan 1 MiB of event text: {bulk.TotalMilliseconds:F1} ms = {Measure.MiBps(Encoding.UTF8.GetByteCount(log), bulk):F1} MiB/s, {found} distinct codes");

        var explainer = new ErrorExplainer(names, NoSystemMessages.Instance);
        var codes = names.Entries.Select(e => e.Kind switch
        {
            ErrorCodeKind.Win32 => ErrorCode.FromWin32(e.Value),
            ErrorCodeKind.NtStatus => ErrorCode.FromNtStatus(e.Value),
            _ => ErrorCode.FromHresult(e.Value),
        }).ToList();
        var explain = Measure.Best(5, () => { foreach (var c in codes) _ = explainer.Explain(c); });
        Console.WriteLine($"explain every named code ({codes.Count}): {explain.TotalMilliseconds:F1} ms");

        var cli = args.Length == 2 && args[0] == "--cli" ? args[1] : null;
        if (cli is not null)
        {
            var process = Measure.BestExternal(5, "dotnet", cli, "explain", Message7024, "0x80070520", "--json");
            Console.WriteLine($"process 'dotnet keydoctor.dll explain <7024 message> 0x80070520 --json': {process.TotalMilliseconds:F0} ms (best of 5)");
        }
        Console.WriteLine($"peak RSS {Measure.PeakRssBytes() / 1048576.0:F0} MiB");
        return 0;
    }

    /// <summary>Event-log-like text: times, ids, GUIDs and paths (which must not match) with a code every ~40 lines.</summary>
    private static string BuildEventText(int size)
    {
        var random = new Random(7024);
        var codes = new[] { "0x80090016", "2148073478 (0x80090006)", "Error: 1312", "0xC000006D", "-2146893043" };
        var text = new StringBuilder(size + 256);
        for (var line = 0; text.Length < size; line++)
        {
            text.Append("2024-05-01 12:").Append(line % 60).Append(":05 Record ").Append(random.Next()).Append(" Event ID 7024 ")
                .Append("Process ID: 0x").Append(random.Next(0, 0xFFFF).ToString("X")).Append(' ')
                .Append(Guid.NewGuid()).Append(@" C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\").Append(random.Next().ToString("x8"))
                .Append(" version 10.0.17763.").Append(line);
            if (line % 40 == 0) text.Append(" failed ").Append(codes[line / 40 % codes.Length]);
            text.Append('\n');
        }
        return text.ToString(0, size);
    }
}
