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
        return plan;
    }

    /// <summary>The plan as a PowerShell script: dry run by default (each change runs only with -Apply).</summary>
    public string ToPowerShell()
    {
        var script = new StringBuilder()
            .AppendLine("# KeyDoctor repair plan")
            .AppendLine($"# Generated from a scan of {Source ?? "a machine"}. Review every step before running it.")
            .AppendLine("# Dry run by default: run with -Apply to make the changes. Steps stop at the first failure.")
            .AppendLine("# 'keydoctor repair apply' runs the same plan with a transcript and rolls back on the first failed check.")
            .AppendLine($"param([switch]$Apply, [string]$Snapshot = '{(Snapshot ?? "").Replace("'", "''")}')")
            .AppendLine("$ErrorActionPreference = 'Stop'")
            .AppendLine("New-Item -ItemType Directory -Force C:\\kd\\backup | Out-Null")
            .AppendLine();
        foreach (var step in Steps)
        {
            script.AppendLine($"# --- Step {step.Order}: {step.Kind} for {step.FindingId} {step.Subject}")
                  .AppendLine($"# {step.Title}");
            if (step.Risk is not null) script.AppendLine($"# Risk: {step.Risk}");
            if (step.Cmd is not null)
                foreach (var line in step.Cmd.Split('\n')) script.AppendLine($"#   cmd: {line}");
            var guard = step.Kind is RepairStepKind.Change or RepairStepKind.Rollback;
            if (guard) script.AppendLine("if ($Apply) {");
            foreach (var line in step.PowerShell.Split('\n')) script.AppendLine((guard ? "    " : "") + line);
            if (guard) script.AppendLine("} else { Write-Host \"dry run: step " + step.Order + " not applied\" }");
            script.AppendLine();
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
