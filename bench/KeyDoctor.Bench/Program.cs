// KeyDoctor benchmarks: each measures one reader against the reference tool an admin would use,
// in one run, and prints the figures recorded in docs/PERFORMANCE.md.
// Usage: dotnet run -c Release --project bench/KeyDoctor.Bench -- <benchmark> [args]
using KeyDoctor.Bench;

var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["explain"] = ExplainBenchmark.Run,
    ["iis"] = IisBenchmark.Run,
    ["keystore"] = KeyStoreBenchmark.Run,
    ["registry"] = RegistryBenchmark.Run,
    ["evtx"] = EvtxBenchmark.Run,
    ["evtx-corpus"] = EvtxCorpus.Run,
    ["recover"] = RecoverBenchmark.Run,
    ["pml"] = PmlBenchmark.Run,
    ["farm"] = FarmBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine("usage: KeyDoctor.Bench <" + string.Join('|', benchmarks.Keys) + "> [args]");
    return 2;
}
return run(args[1..]);
