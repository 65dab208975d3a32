using System.Text;
using System.Text.Json;
using KeyDoctor.Crypto.KeySets;

namespace KeyDoctor.Repair;

public enum StepOutcomeKind
{
    /// <summary>The step ran and did what it says.</summary>
    Done,

    /// <summary>Not needed: the finding is already gone (applying twice changes nothing the second time).</summary>
    Skipped,

    /// <summary>Written for a person to carry out (a .reg file to import); the machine itself is unchanged.</summary>
    Written,

    /// <summary>This target cannot do the step safely (the reason says why); nothing was changed for it.</summary>
    Refused,

    /// <summary>The step failed, or its check found the finding still there.</summary>
    Failed,

    /// <summary>A rollback step that ran because a later check failed.</summary>
    RolledBack,
}

public sealed record StepOutcome(int Order, RepairStepKind Kind, string FindingId, string Subject, StepOutcomeKind Outcome, string Detail);

/// <summary>A machine a plan can be applied to: the live Windows server, or an image folder (a mounted disk).</summary>
public interface IRepairTarget
{
    string Description { get; }

    /// <summary>The target's MachineGuid, to refuse a plan made for another machine; null when unknown.</summary>
    string? MachineGuid { get; }

    /// <summary>Reads the machine afresh and says whether the finding is still there.</summary>
    bool IsFindingPresent(string findingId, string subject);

    /// <summary>
    /// Whether a change still has something to do: by default, whether its finding is still there; a quarantine
    /// looks at its own files (a clean-up plan is not tied to a finding's threshold).
    /// </summary>
    bool IsChangeNeeded(RepairStep change) => change.Action is QuarantineKeyFilesAction quarantine
        ? KeyQuarantine.AnyLeft(this, quarantine)
        : IsFindingPresent(change.FindingId, change.Subject);

    /// <summary>The local folder of a Windows path of the machine (relative to the system drive), or null when it is not there.</summary>
    string? LocalFolder(string windowsPath) => null;

    /// <summary>Null when the target can carry out the change; else why not.</summary>
    string? CannotApply(RepairStep change);

    /// <summary>Runs a backup, change or rollback step. Exceptions are caught by the runner and count as a failure.</summary>
    StepOutcome Run(RepairStep step, RepairRun run);
}

/// <summary>
/// One application of a plan: its folder (owner-only: backups may hold key files), transcript and journal. The
/// journal records every file backed up before it is changed, so <see cref="RepairRunner.Rollback"/> can put the
/// machine back even after a crash half-way.
/// </summary>
public sealed class RepairRun
{
    public const string JournalFile = "journal.json";
    public const string TranscriptFile = "transcript.log";

    private readonly StreamWriter _transcript;

    private RepairRun(string folder, RepairJournal journal)
    {
        Folder = folder;
        Journal = journal;
        _transcript = new StreamWriter(new FileStream(Path.Combine(folder, TranscriptFile), OwnerOnlyFile.Options(FileMode.Append)), new UTF8Encoding(false)) { AutoFlush = true };
    }

    public string Folder { get; }
    public RepairJournal Journal { get; }

    /// <summary>Creates a new run folder (refusing one that exists and is not empty).</summary>
    public static RepairRun Create(string folder, string target, string? planSource)
    {
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new IOException($"{folder} exists and is not empty; choose another run folder");
        OwnerOnlyFile.CreateDirectory(folder); // backups hold key files, the transcript what the steps printed
        var run = new RepairRun(folder, new RepairJournal { Target = target, PlanSource = planSource, StartedUtc = DateTimeOffset.UtcNow });
        run.SaveJournal();
        return run;
    }

    /// <summary>Opens the folder of an earlier run, for its rollback.</summary>
    public static RepairRun Open(string folder)
    {
        var path = Path.Combine(folder, JournalFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} is not a repair run folder (no {JournalFile})", path);
        RepairJournal journal;
        try
        {
            journal = JsonSerializer.Deserialize(File.ReadAllText(path), RepairJson.Context.RepairJournal)
                      ?? throw new Formats.MalformedDataException("repair journal", 0, "empty journal");
        }
        catch (JsonException ex)
        {
            throw new Formats.MalformedDataException("repair journal", ex.BytePositionInLine ?? 0, $"{path} is not a repair journal: {ex.Message}", ex);
        }
        return new RepairRun(folder, journal);
    }

    public void Log(string line) => _transcript.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {line}");

    public void SaveJournal()
    {
        var path = Path.Combine(Folder, JournalFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, OwnerOnlyFile.Options(FileMode.Create)))
            stream.Write(JsonSerializer.SerializeToUtf8Bytes(Journal, RepairJson.Context.RepairJournal));
        File.Move(temp, path, overwrite: true); // whole or not at all: a crash never leaves half a journal
    }

    /// <summary>Writes a file into the run folder, owner-only (backups and .reg files may hold key material).</summary>
    public string WritePrivateFile(string relative, ReadOnlySpan<byte> content)
    {
        var path = Path.Combine(Folder, relative);
        OwnerOnlyFile.CreateDirectory(Path.GetDirectoryName(path)!);
        OwnerOnlyFile.WriteAllBytes(path, content);
        return path;
    }

    public void Close() => _transcript.Dispose();
}

/// <summary>A file the run copied aside before changing it.</summary>
public sealed record JournalFileBackup(string Path, bool Existed, string? BackupFile, string? Sha256Before)
{
    /// <summary>The file's SHA-256 after the change, to notice later edits before a rollback overwrites them.</summary>
    public string? Sha256After { get; set; }

    public bool RolledBack { get; set; }
}

/// <summary>A quarantine of key files a run made, and whether it was put back.</summary>
public sealed record JournalQuarantine(string Folder, string Quarantine)
{
    public bool RolledBack { get; set; }
}

/// <summary>What a run did, kept in its folder as journal.json.</summary>
public sealed class RepairJournal
{
    public string Target { get; set; } = "";
    public string? PlanSource { get; set; }
    public DateTimeOffset StartedUtc { get; set; }
    public List<JournalFileBackup> Files { get; set; } = [];
    public List<StepOutcome> Outcomes { get; set; } = [];
    public List<string> RegistryFiles { get; set; } = [];

    /// <summary>Quarantines this run made (<c>keys clean</c>), each folder relative to the run folder.</summary>
    public List<JournalQuarantine> Quarantines { get; set; } = [];

    /// <summary>The backup of <paramref name="path"/> this run still holds (taken, not yet rolled back); null if none.</summary>
    public JournalFileBackup? PendingBackupOf(string path) =>
        Files.LastOrDefault(f => f.Path.Equals(path, StringComparison.OrdinalIgnoreCase) && !f.RolledBack);
}

/// <summary>What a rollback put back, and what it could not.</summary>
public sealed record RollbackResult(IReadOnlyList<string> Restored, IReadOnlyList<string> Problems);

/// <summary><c>repair apply --json</c>: what the run did, and what the changes still need.</summary>
public sealed record RepairApplyReport(string? RunFolder, IReadOnlyList<StepOutcome> Outcomes, bool NeedsReboot, bool NeedsIisRestart,
                                       bool Failed, bool RolledBack, IReadOnlyList<RepairDecision> NeedsDecision)
{
    /// <summary>The run's backups (and the snapshot): owner-only; delete them when satisfied with the repair.</summary>
    public string? BackupFolder { get; init; }
}

/// <summary><c>repair rollback --json</c>.</summary>
public sealed record RepairRollbackReport(string RunFolder, IReadOnlyList<string> Restored, IReadOnlyList<string> Problems);

/// <summary>The result of applying a plan.</summary>
public sealed record RepairResult(IReadOnlyList<StepOutcome> Outcomes, string RunFolder)
{
    public bool Failed => Outcomes.Any(o => o.Outcome == StepOutcomeKind.Failed);
    public bool RolledBack => Outcomes.Any(o => o.Outcome == StepOutcomeKind.RolledBack);
    public bool ChangedAnything => Outcomes.Any(o => o.Kind == RepairStepKind.Change && o.Outcome == StepOutcomeKind.Done);
    public bool LeftSomethingUndone => Outcomes.Any(o => o.Kind == RepairStepKind.Change && o.Outcome is StepOutcomeKind.Refused or StepOutcomeKind.Written);
}

/// <summary>
/// Carries out a plan on a target: for each finding still present, its backup, change and check in order; at the
/// first failed check it runs the rollback of every change made so far, newest first, and stops. Changes the
/// target cannot make are refused (and reported), never attempted.
/// </summary>
public static class RepairRunner
{
    /// <summary>Refuses a target that is not the machine the plan was made for (checked before anything is written).</summary>
    public static void EnsureSameMachine(RepairPlan plan, IRepairTarget target)
    {
        if (plan.MachineGuid is { } planned && target.MachineGuid is { } actual && !planned.Equals(actual, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(plan.MachineGuidAfter, actual, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"the plan was made for MachineGuid {planned}, but {target.Description} has {actual}; make a new plan for it");
    }

    /// <summary>
    /// Why the plan cannot run on <paramref name="target"/> yet: each input a step it would run uses that has no value,
    /// and each file input that is not there. Empty when it can. An image runs no live-only step, so their inputs
    /// do not hold it up there.
    /// </summary>
    public static IReadOnlyList<string> InputProblems(RepairPlan plan, IRepairTarget target, Func<string, bool> fileExists)
    {
        var used = plan.Steps.Where(s => !(target is ImageRepairTarget && s.Action is LiveOnlyAction))
            .SelectMany(s => s.Commands).SelectMany(c => c.Inputs).ToHashSet(StringComparer.Ordinal);
        var inputs = plan.Inputs.Where(i => used.Contains(i.Name)).ToList();
        var problems = inputs.Where(i => i.Value is null).Select(i => $"{i.Name}: {i.Placeholder} is not filled in (give --input {i.Name}=VALUE)").ToList();
        problems.AddRange(inputs.Where(i => i is { Kind: Diagnosis.Commands.InputKind.File, Value: { } path } && !fileExists(path))
            .Select(i => $"{i.Name}: {i.Value} is not there ({i.Description})"));
        return problems;
    }

    /// <summary>What a run will do with each finding of a plan, decided before it changes anything.</summary>
    public static IReadOnlyList<(RepairStep Change, StepOutcomeKind? Verdict, string? Reason)> Preview(RepairPlan plan, IRepairTarget target) =>
        Preview(Group(plan.Steps), target);

    private static IReadOnlyList<(RepairStep Change, StepOutcomeKind? Verdict, string? Reason)> Preview(List<FindingSteps> groups, IRepairTarget target) =>
        groups.Select(group =>
            !target.IsChangeNeeded(group.Change) ? (group.Change, StepOutcomeKind.Skipped, "the finding is no longer there")
            : target.CannotApply(group.Change) is { } reason ? (group.Change, StepOutcomeKind.Refused, reason)
            : (group.Change, (StepOutcomeKind?)null, (string?)null)).ToList();

    public static RepairResult Apply(RepairPlan plan, IRepairTarget target, RepairRun run, Action<StepOutcome>? progress = null)
    {
        EnsureSameMachine(plan, target);
        var outcomes = new List<StepOutcome>();
        void Record(StepOutcome outcome)
        {
            outcomes.Add(outcome);
            run.Journal.Outcomes.Add(outcome);
            run.SaveJournal();
            run.Log($"step {outcome.Order} {outcome.Kind} {outcome.FindingId} {outcome.Subject}: {outcome.Outcome} {outcome.Detail}");
            progress?.Invoke(outcome);
        }
        StepOutcome Outcome(RepairStep step, StepOutcomeKind kind, string detail) =>
            new(step.Order, step.Kind, step.FindingId, step.Subject, kind, detail);

        // Decide first (so nothing is written when nothing is to be done), record in plan order as the run goes.
        var groups = Group(plan.Steps);
        var verdicts = Preview(groups, target).ToDictionary(v => v.Change.Order);
        if (verdicts.Values.All(v => v.Verdict is not null))
        {
            foreach (var (change, verdict, reason) in verdicts.Values) Record(Outcome(change, verdict!.Value, reason!));
            run.Log("nothing to change");
            return new RepairResult(outcomes, run.Folder);
        }

        foreach (var snapshot in plan.Steps.Where(s => s.Action is SnapshotAction))
            if (!RunStep(snapshot, rollingBack: false)) return new RepairResult(outcomes, run.Folder);

        var applied = new List<FindingSteps>();
        foreach (var group in groups)
        {
            if (verdicts[group.Change.Order] is { Verdict: { } decided, Reason: var why })
            {
                Record(Outcome(group.Change, decided, why!));
                continue;
            }
            // An earlier change may have fixed this one too (the MachineGuid put back finds the IIS container again).
            if (applied.Count > 0 && !target.IsChangeNeeded(group.Change))
            {
                Record(Outcome(group.Change, StepOutcomeKind.Skipped, "fixed by an earlier step of this run"));
                continue;
            }
            var ok = group.Backups.All(b => RunStep(b, rollingBack: false));
            if (ok)
            {
                applied.Add(group);
                ok = RunStep(group.Change, rollingBack: false);
            }
            else Record(Outcome(group.Change, StepOutcomeKind.Failed, "not applied: its backup did not complete"));
            if (ok)
            {
                if (group.Verify is { } verify)
                {
                    var written = outcomes.Last().Outcome == StepOutcomeKind.Written;
                    if (written)
                        Record(Outcome(verify, StepOutcomeKind.Written, "checked after the .reg file is imported"));
                    else if (target.IsChangeNeeded(group.Change))
                    {
                        Record(Outcome(verify, StepOutcomeKind.Failed, $"{group.Change.FindingId} is still there after the change"));
                        ok = false;
                    }
                    else Record(Outcome(verify, StepOutcomeKind.Done, $"{group.Change.FindingId} is gone"));
                }
            }
            if (!ok)
            {
                // Undo everything this run changed, newest first, then stop: a half-applied plan is worse than none.
                for (var i = applied.Count - 1; i >= 0; i--)
                    foreach (var rollback in applied[i].Rollbacks)
                        RunStep(rollback, rollingBack: true);
                break;
            }
        }
        return new RepairResult(outcomes, run.Folder);

        bool RunStep(RepairStep step, bool rollingBack)
        {
            var outcome = RunOrFail(target, step, run);
            if (rollingBack && outcome.Outcome == StepOutcomeKind.Done) outcome = outcome with { Outcome = StepOutcomeKind.RolledBack };
            Record(outcome);
            return outcome.Outcome is not (StepOutcomeKind.Failed or StepOutcomeKind.Refused);
        }
    }

    /// <summary>
    /// Puts back every file an earlier run changed, newest first, from its journal. A file changed again since the
    /// run (its hash is no longer the one the run left) is not overwritten unless <paramref name="force"/>.
    /// </summary>
    public static RollbackResult Rollback(RepairRun run, Func<JournalFileBackup, string?> restore)
    {
        var problems = new List<string>();
        var restored = new List<string>();
        foreach (var file in Enumerable.Reverse(run.Journal.Files).Where(f => !f.RolledBack))
        {
            if (restore(file) is { } problem)
            {
                problems.Add(problem);
                continue;
            }
            file.RolledBack = true;
            run.SaveJournal();
            run.Log($"rolled back {file.Path}");
            restored.Add(file.Existed ? $"put back {file.Path}" : $"removed {file.Path} (it did not exist before)");
        }
        return new RollbackResult(restored, problems);
    }

    /// <summary>
    /// Undoes an earlier run on the live server: the rollback steps of every change the journal records as done
    /// and not yet rolled back, newest first. Returns what could not be undone.
    /// </summary>
    public static RollbackResult RollbackLive(RepairPlan plan, IRepairTarget target, RepairRun run)
    {
        var problems = new List<string>();
        var restored = new List<string>();
        var done = run.Journal.Outcomes.Where(o => o.Kind == RepairStepKind.Change && o.Outcome == StepOutcomeKind.Done).ToList();
        var undone = run.Journal.Outcomes.Where(o => o.Kind == RepairStepKind.Rollback && o.Outcome == StepOutcomeKind.RolledBack)
            .Select(o => (o.FindingId, o.Subject)).ToHashSet();
        var groups = Group(plan.Steps);
        foreach (var change in Enumerable.Reverse(done).Where(c => !undone.Contains((c.FindingId, c.Subject))))
        {
            var group = groups.FirstOrDefault(g => g.Change.Order == change.Order);
            if (group is null || group.Rollbacks.Count == 0)
            {
                problems.Add($"step {change.Order} ({change.FindingId} {change.Subject}) has no rollback step in the plan");
                continue;
            }
            foreach (var rollback in group.Rollbacks)
            {
                var outcome = RunOrFail(target, rollback, run);
                if (outcome.Outcome == StepOutcomeKind.Done)
                {
                    outcome = outcome with { Outcome = StepOutcomeKind.RolledBack };
                    restored.Add($"step {rollback.Order}: {rollback.Title}");
                }
                else problems.Add($"step {rollback.Order} ({rollback.FindingId} {rollback.Subject}): {outcome.Detail}");
                run.Journal.Outcomes.Add(outcome);
                run.SaveJournal();
            }
        }
        return new RollbackResult(restored, problems);
    }

    /// <summary>The steps of one finding: backups, the change, its check, and its rollbacks.</summary>
    private sealed record FindingSteps(IReadOnlyList<RepairStep> Backups, RepairStep Change, RepairStep? Verify, IReadOnlyList<RepairStep> Rollbacks);

    /// <summary>A step run by the target; what the target throws for a step it could not do is that step's failure.</summary>
    private static StepOutcome RunOrFail(IRepairTarget target, RepairStep step, RepairRun run)
    {
        try
        {
            return target.Run(step, run);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException
                                       or Formats.MalformedDataException or System.ComponentModel.Win32Exception)
        {
            return new StepOutcome(step.Order, step.Kind, step.FindingId, step.Subject, StepOutcomeKind.Failed, ex.Message);
        }
    }

    /// <summary>The plan's findings, each with its steps by kind (the snapshot of the whole machine is no finding).</summary>
    private static List<FindingSteps> Group(IReadOnlyList<RepairStep> steps) =>
        RepairPlan.GroupByFinding(steps)
            .Where(g => g.Any(s => s.Kind == RepairStepKind.Change))
            .Select(g => new FindingSteps(
                g.Where(s => s.Kind == RepairStepKind.Backup).ToList(),
                g.First(s => s.Kind == RepairStepKind.Change),
                g.FirstOrDefault(s => s.Kind == RepairStepKind.Verify),
                g.Where(s => s.Kind == RepairStepKind.Rollback).ToList()))
            .ToList();
}
