using KeyDoctor.Fuzz;
using Xunit.Abstractions;

namespace KeyDoctor.Tests.Fuzz;

/// <summary>
/// The reader contract (docs/formats/limits.md), checked on every reader: its seeds from ../shared/fixtures and a
/// fixed number of mutants from a fixed random seed end either read or in the typed malformed-data error, and
/// no input makes the reader allocate beyond its budget. The long coverage-guided campaigns run outside the suite
/// (tools/fuzz/campaign.sh); what they find is kept under tests/KeyDoctor.Fuzz/Regressions and replayed here.
/// </summary>
public class ReaderContractTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAndMutantsKeepTheContract(string name)
    {
        var target = FuzzTargets.Get(name);
        var result = InProcessCampaign.Run(target, target.SuiteMutants, randomSeed: 1);
        output.WriteLine($"{name}: {result.Executions} inputs, {result.Accepted} read, {result.Rejected} rejected with the typed error");
        Assert.True(result.Violations.Count == 0,
            $"{name}: {result.Violations.Count} contract violation(s), first: {result.Violations.FirstOrDefault().Input}: {result.Violations.FirstOrDefault().Outcome?.Detail}");
        // A target whose every input is rejected would test nothing past the first check.
        Assert.True(result.Accepted > 0, $"{name}: no input was read to the end");
    }

    public static TheoryData<string> Regressions()
    {
        var folder = Path.Combine(Fixtures.RepoRoot, "tests", "KeyDoctor.Fuzz", "Regressions");
        return [.. Directory.GetDirectories(folder).SelectMany(Directory.GetFiles).Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public void RegressionInputsKeepTheContract(string relative)
    {
        var target = FuzzTargets.Get(relative.Split(Path.DirectorySeparatorChar)[0]);
        var file = Path.Combine(Fixtures.RepoRoot, "tests", "KeyDoctor.Fuzz", "Regressions", relative);
        var outcome = Contract.Check(target, File.ReadAllBytes(file));
        Assert.True(outcome.Kind != OutcomeKind.Violation, $"{relative}: {outcome.Detail}");
    }
}
