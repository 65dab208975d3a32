using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Tests.Procmon;

/// <summary>
/// Every event of the three real captures against Procmon's own CSV export of the same capture: process name,
/// PID, operation, path and result, in order.
/// </summary>
public class PmlCsvComparisonTests
{
    [Theory]
    [InlineData("LogFileUTC64Registry", 28240, true)]
    [InlineData("LogFileUTC32Filesystem", 8577, false)]
    [InlineData("LogFileUTC64Process", 3400, true)]
    public void EveryEventMatchesProcmonsCsvExport(string capture, int events, bool is64Bit)
    {
        using var pml = PmlReader.Open(ProcmonFixtures.Path(capture + ".pml"));
        using var csv = ProcmonCsvReader.Open(ProcmonFixtures.Path(capture + ".csv"));
        Assert.Equal(is64Bit, pml.Header.Is64Bit);
        var ours = pml.ReadEvents().ToList();
        var theirs = csv.ReadEvents().ToList();
        Assert.Equal(events, theirs.Count);
        Assert.Equal(theirs.Count, ours.Count);
        var mismatches = new List<string>();
        for (var i = 0; i < theirs.Count; i++)
        {
            var (a, b) = (ours[i], theirs[i]);
            if (a.Process.Name != b.Process.Name || a.Process.ProcessId != b.Process.ProcessId || a.Operation != b.Operation
                || a.Path != b.Path || a.Result != b.Result)
                mismatches.Add($"#{i}: ours {a.Process.Name}|{a.Process.ProcessId}|{a.Operation}|{a.Path}|{a.Result} vs csv {b.Process.Name}|{b.Process.ProcessId}|{b.Operation}|{b.Path}|{b.Result}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {theirs.Count} events differ:\n" + string.Join("\n", mismatches.Take(15)));
    }
}
