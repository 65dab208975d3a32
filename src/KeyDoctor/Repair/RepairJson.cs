using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis.Commands;

namespace KeyDoctor.Repair;

/// <summary>
/// Every JSON document of the repair layer (plan, journal, step backup manifest, apply and rollback reports), through
/// System.Text.Json source generation: no reflection, so the tool stays NativeAOT-compatible.
/// </summary>
[JsonSerializable(typeof(RepairPlan))]
[JsonSerializable(typeof(RepairJournal))]
[JsonSerializable(typeof(StepBackupManifest))]
[JsonSerializable(typeof(RepairApplyReport))]
[JsonSerializable(typeof(RepairRollbackReport))]
public sealed partial class RepairJsonContext : JsonSerializerContext;

public static class RepairJson
{
    /// <summary>camelCase, enums as camelCase strings, nulls left out, paths and commands kept readable.</summary>
    public static readonly RepairJsonContext Context = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Paths and commands carry backslashes and quotes: keep them readable. The scripts escape "#>" themselves.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        AllowOutOfOrderMetadataProperties = true,
        MaxDepth = 32,
        Converters =
        {
            new JsonStringEnumConverter<RepairStepKind>(JsonNamingPolicy.CamelCase),
            new JsonStringEnumConverter<StepOutcomeKind>(JsonNamingPolicy.CamelCase),
            new JsonStringEnumConverter<InputKind>(JsonNamingPolicy.CamelCase),
        },
    });
}

/// <summary>The lines of a quarantine manifest (one JSON document a line, so a million files never sit in memory at once).</summary>
[JsonSerializable(typeof(QuarantineHeader))]
[JsonSerializable(typeof(QuarantinedFile))]
public sealed partial class QuarantineJsonContext : JsonSerializerContext;

public static class QuarantineJson
{
    public static readonly QuarantineJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
