namespace KeyDoctor.Fuzz;

/// <summary>What an in-process run found.</summary>
public sealed record CampaignResult(string Target, int Executions, int Accepted, int Rejected,
    IReadOnlyList<(string Input, byte[] Data, Outcome Outcome)> Violations);

/// <summary>
/// The deterministic in-process run the test suite does for every target: each seed as is, then a fixed number of
/// mutants from a fixed random seed. The same build gives the same inputs and the same outcome on every machine.
/// </summary>
public static class InProcessCampaign
{
    public static CampaignResult Run(FuzzTarget target, int mutants, int randomSeed = 1)
    {
        var seeds = target.Seeds().ToList();
        if (seeds.Count == 0) throw new InvalidOperationException($"fuzz target {target.Name} has no seeds");
        var dictionary = target is ITokenDictionary tokens ? tokens.Tokens : [];
        var mutator = new Mutator(randomSeed, dictionary);
        var datas = seeds.Select(s => s.Data).ToList();
        var violations = new List<(string, byte[], Outcome)>();
        int accepted = 0, rejected = 0, executions = 0;

        void Execute(string name, byte[] data)
        {
            executions++;
            var outcome = Contract.Check(target, data);
            switch (outcome.Kind)
            {
                case OutcomeKind.Accepted: accepted++; break;
                case OutcomeKind.Rejected: rejected++; break;
                default: violations.Add((name, data, outcome)); break;
            }
        }

        foreach (var seed in seeds) Execute(seed.Name, seed.Data);
        for (var i = 0; i < mutants; i++)
        {
            var parent = seeds[i % seeds.Count];
            Execute($"mutant {i} of {parent.Name}", mutator.Mutate(parent.Data, datas));
        }
        return new CampaignResult(target.Name, executions, accepted, rejected, violations);
    }
}

/// <summary>Text formats offer tokens the mutator splices in (element names, keywords), as afl's -x dictionaries do.</summary>
public interface ITokenDictionary
{
    IReadOnlyList<byte[]> Tokens { get; }
}
