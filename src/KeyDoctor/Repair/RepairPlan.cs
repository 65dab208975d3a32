using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Formats;

namespace KeyDoctor.Repair;

public enum RepairStepKind
{
    /// <summary>Saves what the change touches, by name, so the rollback has something to restore.</summary>
    Backup,

    /// <summary>The change itself.</summary>
    Change,

    /// <summary>Checks that the change worked (re-runs the relevant check).</summary>
    Verify,

    /// <summary>Undoes the change from the backup, if a step of its finding fails.</summary>
    Rollback,
}

/// <summary>
/// One step of a repair plan: the typed <see cref="Action"/> that <c>repair apply</c> carries out, the commands it
/// expands to (what the scripts and the live server run), and what it costs.
/// </summary>
public sealed record RepairStep(int Order, RepairStepKind Kind, string FindingId, string Subject, string Title)
{
    public string? Risk { get; init; }
    public bool NeedsReboot { get; init; }
    public bool NeedsIisRestart { get; init; }
    public RepairAction? Action { get; init; }

    /// <summary>The commands of <see cref="Action"/> (written to JSON for people and scripts; read back from the action).</summary>
    public IReadOnlyList<ShellCommand> Commands => Action?.Commands ?? [];
}

/// <summary>A finding with no safe automatic fix: what a person must decide, what it costs, and the commands of each choice.</summary>
public sealed record RepairDecision(string Id, string Subject, string Decision)
{
    public string? Risk { get; init; }
    public IReadOnlyList<ShellCommand> Commands { get; init; } = [];
    public IReadOnlyList<RequiredInput> Inputs { get; init; } = [];

    public static RepairDecision From(Finding finding, string? why = null) =>
        new(finding.Id, finding.Subject, (why is null ? "" : why + " ") + (finding.Fix?.Summary ?? finding.Message))
        {
            Risk = finding.Fix?.Risk,
            Commands = finding.Fix?.Commands ?? [],
            Inputs = finding.Fix?.Inputs ?? [],
        };
}

/// <summary>A finding an earlier step of the plan fixes too: dropped, with which step and why.</summary>
public sealed record NotNeeded(string Id, string Subject, string Reason);

/// <summary>
/// The steps that fix a scan's findings, in dependency order, worked out over a model of the machine: each change
/// between a backup of exactly what it touches and a check, with its rollback. Findings an earlier step fixes are
/// dropped (<see cref="NotNeeded"/>); findings with no safe automatic fix, or whose change would replace a key
/// container not proven bad, are left for a person (<see cref="NeedsDecision"/>). Saved as JSON (format
/// "keydoctor-repair-plan") or as a PowerShell or cmd script carrying the same JSON, so <c>repair apply</c> reads any.
/// </summary>
public sealed record RepairPlan
{
    public const string FormatName = "keydoctor-repair-plan";
    public const int FormatVersion = 2;
    internal const string ScriptMarker = "KEYDOCTOR-PLAN";

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = FormatVersion;

    /// <summary>What was scanned ("image /mnt/web01", "bundle web01.zip").</summary>
    public string? Source { get; init; }

    /// <summary>The MachineGuid the plan was made for: apply refuses a machine with another one.</summary>
    public string? MachineGuid { get; init; }

    /// <summary>The MachineGuid the plan itself sets back (KD1001 accepted): a machine that has it is the same machine.</summary>
    public string? MachineGuidAfter { get; init; }

    /// <summary>The snapshot key files are restored from, as the user named it.</summary>
    public string? Snapshot { get; init; }

    /// <summary>What a person must supply for the steps (a PFX, a key set, a key file): apply refuses while one is unfilled.</summary>
    public IReadOnlyList<RequiredInput> Inputs { get; init; } = [];

    public IReadOnlyList<RepairStep> Steps { get; init; } = [];
    public IReadOnlyList<RepairDecision> NeedsDecision { get; init; } = [];
    public IReadOnlyList<NotNeeded> NotNeeded { get; init; } = [];

    [JsonIgnore] public bool IsEmpty => Steps.Count == 0 && NeedsDecision.Count == 0;
    public bool NeedsReboot => Steps.Any(s => s.NeedsReboot);
    public bool NeedsIisRestart => Steps.Any(s => s.NeedsIisRestart);

    /// <summary>Inputs the steps use that have no value yet.</summary>
    [JsonIgnore] public IReadOnlyList<RequiredInput> UnfilledInputs => Inputs.Where(i => i.Value is null).ToList();

    /// <summary>
    /// The plan with inputs filled from <paramref name="values"/> (NAME → value); throws <see cref="ArgumentException"/>
    /// naming an input the plan does not have, or a value that cannot fill it.
    /// </summary>
    public RepairPlan WithInputs(IReadOnlyDictionary<string, string> values)
    {
        foreach (var name in values.Keys.Where(name => Inputs.All(i => i.Name != name)))
            throw new ArgumentException($"the plan has no input {name}" +
                                        (Inputs.Count == 0 ? "" : $"; its inputs are {string.Join(", ", Inputs.Select(i => i.Name))}"));
        return this with
        {
            Inputs = Inputs.Select(input =>
            {
                if (!values.TryGetValue(input.Name, out var value)) return input;
                if (input.Rejects(value) is { } problem) throw new ArgumentException($"--input {input.Name}: {problem}");
                return input with { Value = input.Kind == InputKind.File ? FullPath(value) : value.ToUpperInvariant() };
            }).ToList(),
        };
    }

    /// <summary>A file input as a full path; a Windows path (<c>C:\…</c>, <c>\server\…</c>) stays as it is, whatever OS plans it.</summary>
    private static string FullPath(string value) =>
        (value.Length >= 3 && char.IsAsciiLetter(value[0]) && value[1] == ':' && value[2] is '\\' or '/') || value.StartsWith(@"\\", StringComparison.Ordinal)
            ? value : Path.GetFullPath(value);

    /// <summary>Consecutive steps about the same finding (the snapshot of the whole machine is a group of its own).</summary>
    internal static List<List<RepairStep>> GroupByFinding(IReadOnlyList<RepairStep> steps)
    {
        var groups = new List<List<RepairStep>>();
        foreach (var step in steps)
        {
            if (groups.Count > 0 && groups[^1][0].FindingId == step.FindingId && groups[^1][0].Subject == step.Subject) groups[^1].Add(step);
            else groups.Add([step]);
        }
        return groups;
    }

    public string ToJson() => JsonSerializer.Serialize(this, RepairJson.Context.RepairPlan);

    /// <summary>The plan as a PowerShell script (dry run unless -Apply); see <see cref="RepairScript"/>.</summary>
    public string ToPowerShell() => RepairScript.PowerShell(this);

    /// <summary>The plan as a cmd script (dry run unless its first argument is "apply"); see <see cref="RepairScript"/>.</summary>
    public string ToCmd() => RepairScript.Cmd(this);

    /// <summary>
    /// Largest plan file accepted: repair plans are a few KiB; a <c>keys clean</c> plan names each orphan (about
    /// 85 bytes a file, at most <see cref="MaxQuarantinedFilesPerPlan"/> files).
    /// </summary>
    public const int MaxPlanBytes = 160 * 1024 * 1024;

    /// <summary>Orphans one clean-up plan moves at most; the rest wait for the next <c>keys clean</c> after it is applied.</summary>
    public const int MaxQuarantinedFilesPerPlan = 1_000_000;

    /// <summary>Reads a plan written by <see cref="ToJson"/>, <see cref="ToPowerShell"/> or <see cref="ToCmd"/>.</summary>
    public static RepairPlan Parse(string text)
    {
        if (text.Length > MaxPlanBytes) throw new MalformedDataException(FormatName, 0, $"plan is over {MaxPlanBytes} characters");
        var json = text.TrimStart('\uFEFF');
        var start = text.IndexOf("<#" + ScriptMarker, StringComparison.Ordinal);
        if (start >= 0)
        {
            var body = start + ScriptMarker.Length + 2;
            var end = text.IndexOf(ScriptMarker + "#>", body, StringComparison.Ordinal);
            if (end < 0) throw new MalformedDataException(FormatName, start, "the script's embedded plan has no end marker");
            json = text[body..end];
        }
        else if (!json.TrimStart().StartsWith('{'))
            throw new MalformedDataException(FormatName, 0, "neither a plan JSON file nor a script written by 'keydoctor repair plan'");
        RepairPlan? plan;
        try
        {
            plan = JsonSerializer.Deserialize(json, RepairJson.Context.RepairPlan);
        }
        catch (JsonException ex)
        {
            throw new MalformedDataException(FormatName, ex.BytePositionInLine ?? 0, $"not a repair plan: {ex.Message}", ex);
        }
        if (plan is null || plan.Format != FormatName) throw new MalformedDataException(FormatName, 0, $"not a {FormatName} document");
        if (plan.Version > FormatVersion)
            throw new MalformedDataException(FormatName, 0, $"plan version {plan.Version} is newer than this keydoctor understands ({FormatVersion})");
        if (plan.Version < FormatVersion)
            throw new MalformedDataException(FormatName, 0, $"plan version {plan.Version} was made by an older keydoctor whose steps are not safe to run; make a new plan");
        if (plan.Steps is null || plan.NeedsDecision is null || plan.Inputs is null || plan.NotNeeded is null)
            throw new MalformedDataException(FormatName, 0, "plan has no steps list");
        // Every step says what it does; one that does not cannot be carried out, nor its place in the order trusted.
        if (plan.Steps.FirstOrDefault(s => s.Action is null || s.FindingId is null || s.Subject is null || s.Title is null) is { } bad)
            throw new MalformedDataException(FormatName, 0, $"step {bad.Order} has no action, finding, subject or title");
        if (!plan.Steps.Select(s => s.Order).SequenceEqual(Enumerable.Range(1, plan.Steps.Count)))
            throw new MalformedDataException(FormatName, 0, "steps are not numbered 1, 2, 3, ... in order");
        // Every input a step refers to is declared, so apply can refuse while one is unfilled.
        var declared = plan.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        if (plan.Steps.SelectMany(s => s.Commands).SelectMany(c => c.Inputs).FirstOrDefault(n => !declared.Contains(n)) is { } undeclared)
            throw new MalformedDataException(FormatName, 0, $"a step uses input {undeclared}, which the plan does not declare");
        return plan;
    }
}
