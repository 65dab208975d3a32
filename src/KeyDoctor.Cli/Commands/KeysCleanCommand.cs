using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KeyDoctor.Cli.Json;
using KeyDoctor.Diagnosis.Clean;
using KeyDoctor.Repair;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keys clean`: every key file of the machine and service key stores as keep, quarantine or review, what uses each
/// kept key, the leak's shape, and (with -o) a repair plan that quarantines the orphans.
/// </summary>
internal static class KeysCleanCommand
{
    public static Command Create(CliContext context)
    {
        var source = new Argument<string?>("source")
        {
            Description = "An image folder or a bundle (.zip); left out on Windows: this machine.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var olderThan = new Option<int>("--older-than")
        {
            Description = "Keep every key modified within this many days (default 30).",
            DefaultValueFactory = _ => 30,
        };
        var output = (new Option<FileInfo?>("--output", "-o")
        {
            Description = "Write a repair plan (.json) that moves the orphans into the repair's backup folder; apply it with 'keydoctor repair apply'.",
        }).InExistingFolder();
        var json = CommonOptions.Json();
        var command = new Command("clean",
            "Find the orphan key files of MachineKeys, Crypto\\Keys and the service profiles' stores: keeps every key something uses (and says what), " +
            "never touches another MachineGuid's keys or a damaged key in use, and shows who is leaking. Nothing is moved without a plan.\n\n" +
            "Examples:\n" +
            "  keydoctor keys clean /mnt/web01\n" +
            "  keydoctor keys clean /mnt/web01 --older-than 90 -o clean.json\n" +
            "  keydoctor repair apply clean.json --image /mnt/web01\n" +
            "  keydoctor repair rollback keydoctor-repair-<time> --image /mnt/web01")
        {
            source, olderThan, output, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse => Run(context, parse.GetValue(source), parse.GetValue(olderThan), parse.GetValue(output), parse.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, string? sourcePath, int olderThan, FileInfo? plan, bool json)
    {
        if (olderThan < 0) throw new UserInputException($"--older-than {olderThan}: give a number of days, 0 or more");
        if (plan is not null && !plan.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"-o {plan.Name}: a clean-up plan names every orphan and is applied by 'keydoctor repair apply'; write it as a .json file");
        using var machine = LiveMachine.OpenSourceOrLive(sourcePath, "keys clean");
        // On this machine the last boot is known exactly: now minus the uptime.
        DateTimeOffset? lastBoot = sourcePath is null ? DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64) : null;
        var cleaner = new KeyCleaner(machine, new CleanOptions
        {
            OlderThanDays = olderThan, LastBoot = lastBoot, PlanLimit = plan is null ? 0 : RepairPlan.MaxQuarantinedFilesPerPlan,
        }).Prepare();
        IEnumerable<CleanRow> Rows(Action<long>? progress) => cleaner.Classify(progress);

        var plannedUtc = DateTimeOffset.UtcNow;
        if (json)
        {
            using var stream = JsonStream.Object(context);
            stream.Writer.WriteString("source", machine.Description);
            stream.Writer.WriteStartArray("files");
            foreach (var row in Rows(null)) stream.Add(KeysCleanJson.Row(row), KeyDoctorJson.Default.CleanRowJson);
            stream.Writer.WriteEndArray();
            var summary = cleaner.Summarize();
            var written = WritePlan(cleaner, machine.Description, plan, plannedUtc);
            stream.Writer.WritePropertyName("summary");
            var notPlanned = written is null ? 0 : cleaner.OrphansNotPlanned;
            stream.Add(KeysCleanJson.Summary(summary) with
            {
                Plan = written,
                NotPlanned = notPlanned > 0 ? notPlanned : null,
                PlanNote = notPlanned > 0 ? PlanLimitNote(notPlanned) : null,
            }, KeyDoctorJson.Default.CleanSummaryJson);
            return summary.Quarantine + summary.Review > 0 ? ExitCodes.Findings : ExitCodes.Healthy;
        }

        // Text: the rows are not printed (a million lines help nobody); the summary, the leak and the plan are.
        void Drain(Action<long>? progress)
        {
            foreach (var _ in Rows(progress)) { }
        }
        if (context.Interactive)
            context.ErrorConsole.Progress().AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new SpinnerColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("reading key-file headers");
                    task.IsIndeterminate = true;
                    Drain(done => task.Description = $"reading key-file headers: {done:N0} files");
                });
        else Drain(null);
        var result = cleaner.Summarize();
        var planPath = WritePlan(cleaner, machine.Description, plan, plannedUtc);
        PrintSummary(context, result, planPath, cleaner.OrphansNotPlanned);
        return result.Quarantine + result.Review > 0 ? ExitCodes.Findings : ExitCodes.Healthy;
    }

    private static string? WritePlan(KeyCleaner cleaner, string source, FileInfo? plan, DateTimeOffset plannedUtc)
    {
        if (plan is null) return null;
        var folders = cleaner.PlannedOrphans.Select(o => new OrphanFolder(o.Store, o.Names)).ToList();
        var repairPlan = CleanPlanner.Plan(source, cleaner.MachineGuid, folders, plannedUtc);
        using (var file = new FileStream(plan.FullName, FileMode.Create, FileAccess.Write))
            JsonSerializer.Serialize(file, repairPlan, RepairJson.Context.RepairPlan);
        return plan.FullName;
    }

    /// <summary>Why a plan holds fewer orphans than were found, and what to do: one wording for text and JSON.</summary>
    internal static string PlanLimitNote(long left) => string.Create(CultureInfo.InvariantCulture,
        $"The plan holds only the first {RepairPlan.MaxQuarantinedFilesPerPlan:N0} orphans (store by store, in file-name order); {left:N0} more are not in it: apply this plan, then run 'keydoctor keys clean' again for a plan of the next ones.");

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} bytes",
    };

    private static void PrintSummary(CliContext context, CleanSummary s, string? planPath, long left)
    {
        var o = context.Output;
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(inv, $"{s.Files:N0} key files ({Size(s.Bytes)}): {s.Keep:N0} keep, {s.Quarantine:N0} orphans to quarantine ({Size(s.QuarantineBytes)}), {s.Review:N0} to review"));
        o.WriteLine(string.Create(inv, $"MachineGuid {s.MachineGuid ?? "unknown"}; keys modified after {s.Reference.Time.AddDays(-s.OlderThanDays):yyyy-MM-dd} kept ({s.OlderThanDays} days before {s.Reference.Time:yyyy-MM-dd}, {s.Reference.Source})"));
        o.WriteLine(s.LastBoot is { } boot ? string.Create(inv, $"last boot {boot.Time:yyyy-MM-dd HH:mm} UTC ({boot.Source}): keys created since are kept") : "last boot: unknown");
        o.WriteLine();
        foreach (var store in s.Stores.Where(t => t.Files > 0))
            o.WriteLine(string.Create(inv, $"  {store.Store} ({store.Owner}): {store.Files:N0} files, {store.Keep:N0} keep, {store.Quarantine:N0} quarantine, {store.Review:N0} review"));
        if (s.KeptBy.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("Kept because:");
            foreach (var (why, count) in s.KeptBy) o.WriteLine(string.Create(inv, $"  {count,10:N0}  {why}"));
        }
        if (s.Quarantine > 0)
        {
            o.WriteLine();
            o.WriteLine($"The leak: {s.Rate}");
            o.WriteLine("  by container name:");
            foreach (var p in s.Patterns.Take(10))
                o.WriteLine(p.First == DateOnly.MinValue
                    ? string.Create(inv, $"  {p.Files,10:N0}  {p.Pattern}")
                    : string.Create(inv, $"  {p.Files,10:N0}  {p.Pattern}  ({p.First:yyyy-MM-dd} to {p.Last:yyyy-MM-dd}, ~{p.PerDay:N0}/day; e.g. {p.Example})"));
            o.WriteLine("  by creation day (busiest):");
            foreach (var d in s.Days.OrderByDescending(d => d.Files).ThenBy(d => d.Day).Take(7).OrderBy(d => d.Day))
                o.WriteLine(string.Create(inv, $"  {d.Files,10:N0}  {d.Day:yyyy-MM-dd}"));
            if (s.Creators.Count > 0)
            {
                o.WriteLine("  created by (Security 5058/5061):");
                foreach (var c in s.Creators.Take(10))
                    o.WriteLine(string.Create(inv, $"  {c.Events,10:N0}  {c.Process} as {c.Account} ({c.First:yyyy-MM-dd} to {c.Last:yyyy-MM-dd})"));
            }
            else o.WriteLine("  created by: unknown (no Security 5058/5061 events about these keys in the source; enable 'Audit Other System Events' to see the process)");
        }
        foreach (var gap in s.Unavailable) o.WriteLine($"Not read: {gap}");
        o.WriteLine();
        if (planPath is not null)
        {
            o.WriteLine($"Plan written to {planPath}: review it, then 'keydoctor repair apply {planPath}' (add --image <root> for a disk).");
            o.WriteLine("Applying moves each orphan into the run folder's quarantine with a manifest; 'keydoctor repair rollback <run folder>' puts them back.");
            o.WriteLine("Nothing is deleted: removing the quarantine folder, once the server has run well without those keys, is your own later step.");
            if (left > 0) o.WriteLine(PlanLimitNote(left));
        }
        else if (s.Quarantine > 0) o.WriteLine("Add -o clean.json to write the plan that quarantines the orphans (and 'keydoctor repair apply' it).");
        if (s.Review > 0) o.WriteLine("Review rows are never moved: see them with --json (another MachineGuid's keys are KD1001's evidence; a damaged key in use needs restoring).");
    }
}
