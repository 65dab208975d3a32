using KeyDoctor.Fuzz;

// keydoctor-fuzz: the fuzz targets on the command line. See README.md for a long afl++ campaign.
return Cli.Run(args);

internal static class Cli
{
    private const string Usage = """
        usage: keydoctor-fuzz list
               keydoctor-fuzz seeds <target> <folder>        write the target's seed corpus (from ../shared/fixtures)
               keydoctor-fuzz afl <target>                   run under afl-fuzz (SharpFuzz out-of-process loop)
               keydoctor-fuzz run <target> <file>...         check files against the reader contract (reproduce a crash)
               keydoctor-fuzz mutate <target> [count] [seed] the deterministic in-process run the test suite does;
                                                     violations are saved under artifacts/fuzz/<target>/violations
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            return args[0] switch
            {
                "list" => List(),
                "seeds" when args.Length == 3 => Seeds(FuzzTargets.Get(args[1]), args[2]),
                "afl" when args.Length == 2 => Afl(FuzzTargets.Get(args[1])),
                "run" when args.Length >= 3 => Reproduce(FuzzTargets.Get(args[1]), args[2..]),
                "mutate" when args.Length is >= 2 and <= 4 => Mutate(FuzzTargets.Get(args[1]),
                    args.Length > 2 ? int.Parse(args[2]) : 100_000, args.Length > 3 ? int.Parse(args[3]) : 1),
                _ => Fail(Usage),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    private static int List()
    {
        foreach (var target in FuzzTargets.All) Console.WriteLine($"{target.Name,-16} {target.Description}");
        return 0;
    }

    private static int Seeds(FuzzTarget target, string folder)
    {
        Directory.CreateDirectory(folder);
        var i = 0;
        foreach (var seed in target.Seeds())
        {
            // afl adds its own prefix to the name: keep ours short.
            var safe = string.Concat(Path.GetFileName(seed.Name).Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));
            var name = $"{i++:D3}-{safe[..Math.Min(safe.Length, 60)]}";
            File.WriteAllBytes(Path.Combine(folder, name), seed.Data);
        }
        Console.WriteLine($"{i} seed(s) for {target.Name} in {folder}");
        return 0;
    }

    private static int Afl(FuzzTarget target)
    {
        // No warm-up here: instrumented code may only run once SharpFuzz has attached afl's shared memory.
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            Contract.RunOrCrash(target, buffer.ToArray());
        });
        return 0;
    }

    private static int Reproduce(FuzzTarget target, string[] files)
    {
        var violations = 0;
        foreach (var file in files)
        {
            var outcome = Contract.Check(target, File.ReadAllBytes(file));
            Console.WriteLine($"{file}: {outcome.Kind}: {outcome.Detail}");
            if (outcome.Kind == OutcomeKind.Violation)
            {
                violations++;
                if (outcome.Exception is not null) Console.WriteLine(outcome.Exception);
            }
        }
        return violations == 0 ? 0 : 1;
    }

    private static int Mutate(FuzzTarget target, int count, int seed)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = InProcessCampaign.Run(target, count, seed);
        Console.WriteLine($"{target.Name}: {result.Executions} executions in {started.Elapsed.TotalSeconds:F1} s " +
                          $"({result.Executions / Math.Max(0.001, started.Elapsed.TotalSeconds):F0}/s): {result.Accepted} accepted, " +
                          $"{result.Rejected} rejected, {result.Violations.Count} violation(s)");
        var folder = Path.Combine("artifacts", "fuzz", target.Name, "violations");
        foreach (var (index, (input, data, outcome)) in result.Violations.Take(20).Index())
        {
            Directory.CreateDirectory(folder);
            var file = Path.Combine(folder, $"{seed}-{index}");
            File.WriteAllBytes(file, data);
            Console.WriteLine($"  {input} ({data.Length} bytes, saved as {file}): {outcome.Detail}");
        }
        return result.Violations.Count == 0 ? 0 : 1;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"keydoctor-fuzz: {message}");
        return 2;
    }
}
