using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;
using KeyDoctor.Formats;

namespace KeyDoctor.Repair;

public enum RepairStepKind
{
    /// <summary>Saves what later steps change, so the rollback has something to restore.</summary>
    Backup,

    /// <summary>The change itself.</summary>
    Change,

    /// <summary>Checks that the change worked (re-runs the relevant check).</summary>
    Verify,

    /// <summary>Undoes the change from the backup, if the verification fails.</summary>
    Rollback,
}

/// <summary>
/// One step of a repair plan: the typed <see cref="Action"/> that <c>repair apply</c> carries out, the same step
/// as PowerShell (cmd equivalents in comments) for a person, and what it costs.
/// </summary>
public sealed record RepairStep(int Order, RepairStepKind Kind, string FindingId, string Subject, string Title, string PowerShell)
{
    public string? Cmd { get; init; }
    public string? Risk { get; init; }
    public bool NeedsReboot { get; init; }
    public bool NeedsIisRestart { get; init; }
    public RepairAction? Action { get; init; }
}

/// <summary>A finding with no safe automatic fix: what a person must decide, and what it costs.</summary>
public sealed record RepairDecision(string Id, string Subject, string Decision, string? Risk, string? PowerShell);

/// <summary>
/// The steps that fix a scan's findings, in dependency order, each change between a backup and a verification,
/// with its rollback. Findings with no safe automatic fix are listed for a person to decide, with what to decide.
/// The plan is saved as JSON (format "keydoctor-repair-plan") or as a PowerShell script that carries the same JSON
/// in a trailing comment, so <c>repair apply</c> reads either.
/// </summary>
public sealed record RepairPlan
{
    public const string FormatName = "keydoctor-repair-plan";
    public const int FormatVersion = 1;
    private const string ScriptMarker = "KEYDOCTOR-PLAN";

    [JsonConstructor]
    public RepairPlan(IReadOnlyList<RepairStep> steps, IReadOnlyList<RepairDecision> needsDecision)
    {
        Steps = steps;
        NeedsDecision = needsDecision;
    }

    public RepairPlan(IReadOnlyList<RepairStep> steps, IReadOnlyList<Finding> decisions)
        : this(steps, decisions.Select(ToDecision).ToList())
    {
    }

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

    public IReadOnlyList<RepairStep> Steps { get; init; }
    public IReadOnlyList<RepairDecision> NeedsDecision { get; init; }

    [JsonIgnore] public bool IsEmpty => Steps.Count == 0 && NeedsDecision.Count == 0;
    public bool NeedsReboot => Steps.Any(s => s.NeedsReboot);
    public bool NeedsIisRestart => Steps.Any(s => s.NeedsIisRestart);

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

    private static RepairDecision ToDecision(Finding finding) =>
        new(finding.Id, finding.Subject, finding.Fix?.Summary ?? finding.Message, finding.Fix?.Risk, finding.Fix?.PowerShell);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Paths and commands carry backslashes and quotes: keep them readable. ToPowerShell escapes "#>" itself.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        MaxDepth = 16,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Largest plan file accepted: real plans are a few KiB.</summary>
    public const int MaxPlanBytes = 16 * 1024 * 1024;

    /// <summary>Reads a plan written by <see cref="ToJson"/> or <see cref="ToPowerShell"/>.</summary>
    public static RepairPlan Parse(string text)
    {
        if (text.Length > MaxPlanBytes) throw new MalformedDataException(FormatName, 0, $"plan is over {MaxPlanBytes} characters");
        var json = text;
        var start = text.IndexOf("<#" + ScriptMarker, StringComparison.Ordinal);
        if (start >= 0)
        {
            var body = start + ScriptMarker.Length + 2;
            var end = text.IndexOf(ScriptMarker + "#>", body, StringComparison.Ordinal);
            if (end < 0) throw new MalformedDataException(FormatName, start, "the script's embedded plan has no end marker");
            json = text[body..end];
        }
        else if (!text.TrimStart().StartsWith('{'))
            throw new MalformedDataException(FormatName, 0, "neither a plan JSON file nor a script written by 'keydoctor repair plan'");
        RepairPlan? plan;
        try
        {
            plan = JsonSerializer.Deserialize<RepairPlan>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new MalformedDataException(FormatName, ex.BytePositionInLine ?? 0, $"not a repair plan: {ex.Message}", ex);
        }
        if (plan is null || plan.Format != FormatName) throw new MalformedDataException(FormatName, 0, $"not a {FormatName} document");
        if (plan.Version > FormatVersion)
            throw new MalformedDataException(FormatName, 0, $"plan version {plan.Version} is newer than this keydoctor understands ({FormatVersion})");
        if (plan.Steps is null || plan.NeedsDecision is null) throw new MalformedDataException(FormatName, 0, "plan has no steps list");
        // Every step says what it does; one that does not cannot be carried out, nor its place in the order trusted.
        if (plan.Steps.FirstOrDefault(s => s.Action is null || s.FindingId is null || s.Subject is null || s.PowerShell is null) is { } bad)
            throw new MalformedDataException(FormatName, 0, $"step {bad.Order} has no action, finding, subject or PowerShell");
        if (!plan.Steps.Select(s => s.Order).SequenceEqual(Enumerable.Range(1, plan.Steps.Count)))
            throw new MalformedDataException(FormatName, 0, "steps are not numbered 1, 2, 3, ... in order");
        return plan;
    }

    /// <summary>
    /// The plan as a PowerShell script: a dry run by default (with -Apply it makes the changes). Each finding's steps
    /// run together: backup, change, check; when one of them fails, that finding's rollback runs and the script
    /// stops (earlier findings stay fixed: they passed their checks). 'keydoctor repair apply' goes further and
    /// rolls back the whole run.
    /// </summary>
    public string ToPowerShell()
    {
        var script = new StringBuilder()
            .AppendLine("# KeyDoctor repair plan")
            .AppendLine($"# Generated from a scan of {Source ?? "a machine"}. Review every step before running it.")
            .AppendLine("# Dry run by default: run with -Apply to make the changes. For each finding: backup, change, check;")
            .AppendLine("# if any of them fails, that finding's rollback runs and the script stops.")
            .AppendLine("# 'keydoctor repair apply' runs the same plan with a transcript and rolls back the whole run on a failed check.")
            .AppendLine($"param([switch]$Apply, [string]$Snapshot = '{(Snapshot ?? "").Replace("'", "''")}', [string]$RunId = (Get-Date -Format 'yyyyMMdd-HHmmss'))")
            .AppendLine("$ErrorActionPreference = 'Stop'")
            .AppendLine();
        foreach (var group in GroupByFinding(Steps))
        {
            var first = group[0];
            // Goes inside double-quoted PowerShell strings: no expansion, no early end.
            var label = $"{first.FindingId} {first.Subject}".Replace("`", "``", StringComparison.Ordinal)
                .Replace("$", "`$", StringComparison.Ordinal).Replace("\"", "'", StringComparison.Ordinal);
            script.AppendLine($"# === {label}: step{(group.Count > 1 ? $"s {first.Order}-{group[^1].Order}" : $" {first.Order}")}");
            foreach (var step in group)
            {
                script.AppendLine($"# Step {step.Order} ({step.Kind}): {step.Title}");
                if (step.Risk is not null) script.AppendLine($"#   Risk: {step.Risk}");
                if (step.Cmd is not null)
                    foreach (var line in step.Cmd.Split('\n')) script.AppendLine($"#   cmd: {line}");
            }
            script.AppendLine("if ($Apply) {");
            var work = group.Where(s => s.Kind != RepairStepKind.Rollback).ToList();
            var rollbacks = group.Where(s => s.Kind == RepairStepKind.Rollback).ToList();
            var indent = rollbacks.Count > 0 ? "        " : "    ";
            if (rollbacks.Count > 0) script.AppendLine("    try {");
            foreach (var step in work)
            {
                script.AppendLine($"{indent}# Step {step.Order}: {step.Kind}").AppendLine($"{indent}$global:LASTEXITCODE = 0");
                foreach (var line in step.PowerShell.Split('\n')) script.AppendLine(indent + line);
                // Native commands (reg, netsh, certutil, icacls) report failure only through their exit code.
                script.AppendLine($"{indent}if ($LASTEXITCODE) {{ throw \"step {step.Order} failed with exit code $LASTEXITCODE\" }}");
            }
            if (rollbacks.Count > 0)
            {
                script.AppendLine("    } catch {")
                      .AppendLine($"        Write-Warning \"{label}: $($_.Exception.Message); putting back what its steps changed\"");
                foreach (var step in rollbacks)
                {
                    script.AppendLine($"        # Step {step.Order}: {step.Kind}");
                    foreach (var line in step.PowerShell.Split('\n')) script.AppendLine("        " + line);
                }
                script.AppendLine("        throw").AppendLine("    }");
            }
            script.AppendLine($"}} else {{ Write-Host \"dry run: {label} (step{(group.Count > 1 ? $"s {first.Order}-{group[^1].Order}" : $" {first.Order}")}) not applied\" }}")
                  .AppendLine();
        }
        if (NeedsReboot) script.AppendLine("# A reboot is needed for these changes to reach every service.");
        else if (NeedsIisRestart) script.AppendLine("if ($Apply) { iisreset }");
        foreach (var decision in NeedsDecision)
        {
            script.AppendLine($"# --- Needs a decision: {decision.Id} {decision.Subject}")
                  .AppendLine($"# {decision.Decision}");
            if (decision.Risk is { } risk) script.AppendLine($"# Risk: {risk}");
            foreach (var line in (decision.PowerShell ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
                script.AppendLine($"#   {line}");
        }
        // The plan itself, for 'keydoctor repair apply plan.ps1'. '#' occurs only inside JSON strings, where "\u003E"
        // is the same '>', so escaping every "#>" keeps the comment from ending early and the JSON unchanged.
        script.AppendLine().AppendLine("<#" + ScriptMarker).AppendLine(ToJson().Replace("#>", "#\\u003E", StringComparison.Ordinal))
              .AppendLine(ScriptMarker + "#>");
        return script.ToString();
    }
}
