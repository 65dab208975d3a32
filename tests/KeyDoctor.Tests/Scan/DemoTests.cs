using System.Text.Json;

namespace KeyDoctor.Tests.Scan;

/// <summary>The README's main command: `keydoctor scan demo/web01` on the demo image committed in the repository.</summary>
public class DemoTests
{
    private static string Demo => Path.Combine(Fixtures.RepoRoot, "demo", "web01");

    [Fact]
    public void DemoShowsTheSeedFailuresWithEvidence()
    {
        var result = Cli.Run("scan", Demo, "--json");
        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var ids = json.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()).ToHashSet();
        foreach (var expected in new[] { "KD1001", "KD1002", "KD1003", "KD2003", "KD2004", "KD2005", "KD2008", "KD3001", "KD4001" })
            Assert.Contains(expected, ids);
        var events = json.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("id").GetString() == "KD4001").ToList();
        Assert.Contains(events, e => e.GetProperty("message").GetString()!.Contains("NTE_BAD_KEYSET", StringComparison.Ordinal)
                                     && e.GetProperty("causedBy").EnumerateArray().Select(r => r.GetString()).SequenceEqual(["KD1002"]));
    }

    [Fact]
    public void ReadmeRunsTheDemo()
    {
        var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "README.md"));
        Assert.Contains("dotnet run --project src/KeyDoctor.Cli -- scan demo/web01", readme);
        Assert.Contains("bash tools/test.sh", readme);
        Assert.Contains("bash tools/test.sh", File.ReadAllText(Path.Combine(Fixtures.RepoRoot, ".ci", "run")));
    }
}
