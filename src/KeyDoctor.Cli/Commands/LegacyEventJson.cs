using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Formats.Evt;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// One legacy (.Evt) event in `events --json`: the EVTX object's fields where they apply (recordId, timeCreated,
/// eventId, qualifiers, level, task, provider, channel, computer, userId), plus what only EVENTLOGRECORD has: the
/// written time, the full 32-bit identifier, the event type, the insertion strings in order and the binary data.
/// </summary>
public sealed record LegacyEventJson
{
    public string? File { get; init; }
    public required ulong RecordId { get; init; }
    /// <summary>When the event was reported (EVENTLOGRECORD TimeGenerated).</summary>
    public required DateTime TimeCreated { get; init; }
    public required DateTime TimeWritten { get; init; }
    /// <summary>The low 16 bits, as Event Viewer shows it.</summary>
    public required int EventId { get; init; }
    /// <summary>The full identifier in hex, e.g. 0xC0001B70.</summary>
    public required string EventIdentifier { get; init; }
    public required int Qualifiers { get; init; }
    public int? Level { get; init; }
    public required string EventType { get; init; }
    public required int Task { get; init; }
    public required string Provider { get; init; }
    public string? Channel { get; init; }
    public required string Computer { get; init; }
    public string? UserId { get; init; }
    public required IReadOnlyList<string> Strings { get; init; }
    /// <summary>The binary data in upper-case hex; absent when the record has none.</summary>
    public string? Binary { get; init; }
    /// <summary>What was damaged in the record though it could be read.</summary>
    public string? Damage { get; init; }
    public string? Xml { get; init; }

    internal static LegacyEventJson From(EvtRecord record, EvtxRecord mapped, string? file, bool withXml) => new()
    {
        File = file,
        RecordId = record.RecordNumber,
        TimeCreated = record.TimeGenerated,
        TimeWritten = record.TimeWritten,
        EventId = record.EventId,
        EventIdentifier = "0x" + record.EventIdentifier.ToString("X8", CultureInfo.InvariantCulture),
        Qualifiers = record.Qualifiers,
        Level = mapped.Level,
        EventType = record.EventType switch
        {
            EvtEventType.Error => "error",
            EvtEventType.Warning => "warning",
            EvtEventType.Information => "information",
            EvtEventType.AuditSuccess => "auditSuccess",
            EvtEventType.AuditFailure => "auditFailure",
            EvtEventType.Success => "success",
            _ => "0x" + ((ushort)record.EventType).ToString("X4", CultureInfo.InvariantCulture),
        },
        Task = record.Category,
        Provider = record.SourceName,
        Channel = mapped.Channel,
        Computer = record.ComputerName,
        UserId = record.UserSid,
        Strings = record.Strings,
        Binary = record.Data.Length == 0 ? null : Convert.ToHexString(record.Data),
        Damage = record.Damage,
        Xml = withXml ? mapped.RenderXml() : null,
    };
}

/// <summary>Source-generated serialization of <see cref="LegacyEventJson"/> (no reflection; NativeAOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LegacyEventJson))]
public sealed partial class LegacyEventJsonContext : JsonSerializerContext
{
    /// <summary>The same context with paths and messages kept readable (backslashes and quotes not \u-escaped).</summary>
    public static LegacyEventJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
