using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Cli.Json;

/// <summary>
/// `events --json`: one compact object per event (JSON Lines), in file order then record order. This record is the
/// schema; the hot path (<see cref="EventJsonWriter"/>) writes the same shape straight from the parsed record, and a
/// test reads its output back through this record to keep the two the same.
/// </summary>
/// <param name="File">The log the event is from, when several files are read.</param>
/// <param name="TimeCreated">ISO 8601 UTC with 100 ns precision, e.g. 2017-07-12T17:16:28.4641401Z.</param>
/// <param name="Keywords">"0x" and 16 lower-case hex digits.</param>
/// <param name="Data">EventData/UserData by name; a name that repeats (unnamed &lt;Data&gt; items) maps to an array of its values, in order.</param>
/// <param name="Xml">The rendered event XML, with --xml.</param>
public sealed record EventLine(
    string? File,
    ulong RecordId,
    DateTime TimeCreated,
    int EventId,
    int? Qualifiers,
    int? Version,
    int? Level,
    int? Task,
    int? Opcode,
    string? Keywords,
    string? Provider,
    string? ProviderGuid,
    string? EventSourceName,
    string? Channel,
    string? Computer,
    string? UserId,
    long? ProcessId,
    long? ThreadId,
    Dictionary<string, JsonElement> Data,
    string? Xml);

/// <summary>
/// Writes <see cref="EventLine"/>'s shape straight from a parsed <see cref="EvtxRecord"/>, without building the record:
/// `events --json` writes millions of these, on every core.
/// </summary>
public static class EventJsonWriter
{
    // The default encoder has System.Text.Json's fastest escaping path (about a third faster than a relaxed
    // one here); it writes non-ASCII and HTML-sensitive characters as \uXXXX, which every JSON reader decodes.
    public static readonly JsonWriterOptions Options = new()
    {
        SkipValidation = true,
    };

    // String values: the writer's own escaping, byte for byte, without its per-character path for ASCII text.
    private static readonly JsonStrings Strings = JsonStrings.Default;

    // Property names encoded once, not per event.
    private static readonly JsonEncodedText PChannel = JsonEncodedText.Encode("channel");
    private static readonly JsonEncodedText PComputer = JsonEncodedText.Encode("computer");
    private static readonly JsonEncodedText PData = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText PEventId = JsonEncodedText.Encode("eventId");
    private static readonly JsonEncodedText PEventSourceName = JsonEncodedText.Encode("eventSourceName");
    private static readonly JsonEncodedText PFile = JsonEncodedText.Encode("file");
    private static readonly JsonEncodedText PKeywords = JsonEncodedText.Encode("keywords");
    private static readonly JsonEncodedText PLevel = JsonEncodedText.Encode("level");
    private static readonly JsonEncodedText POpcode = JsonEncodedText.Encode("opcode");
    private static readonly JsonEncodedText PProcessId = JsonEncodedText.Encode("processId");
    private static readonly JsonEncodedText PProvider = JsonEncodedText.Encode("provider");
    private static readonly JsonEncodedText PProviderGuid = JsonEncodedText.Encode("providerGuid");
    private static readonly JsonEncodedText PQualifiers = JsonEncodedText.Encode("qualifiers");
    private static readonly JsonEncodedText PRecordId = JsonEncodedText.Encode("recordId");
    private static readonly JsonEncodedText PTask = JsonEncodedText.Encode("task");
    private static readonly JsonEncodedText PThreadId = JsonEncodedText.Encode("threadId");
    private static readonly JsonEncodedText PTimeCreated = JsonEncodedText.Encode("timeCreated");
    private static readonly JsonEncodedText PUserId = JsonEncodedText.Encode("userId");
    private static readonly JsonEncodedText PVersion = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText PXml = JsonEncodedText.Encode("xml");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Write(Utf8JsonWriter w, EvtxRecord r, bool withXml, string? source)
    {
        w.WriteStartObject();
        if (source is not null) WriteShared(w, PFile, source);
        w.WriteNumber(PRecordId, r.RecordId);
        w.WriteString(PTimeCreated, r.Time); // ISO 8601 round-trip form: 2017-07-12T17:16:28.4641401Z
        w.WriteNumber(PEventId, r.EventId);
        if (r.Qualifiers is { } q) w.WriteNumber(PQualifiers, q);
        if (r.Version is { } v) w.WriteNumber(PVersion, v);
        if (r.Level is { } level) w.WriteNumber(PLevel, level);
        if (r.Task is { } task) w.WriteNumber(PTask, task);
        if (r.Opcode is { } op) w.WriteNumber(POpcode, op);
        if (r.Keywords is { } k)
        {
            // Written as the quoted UTF-8 it is ("0x" and 16 hex digits need no escaping).
            Span<byte> quoted = stackalloc byte[20];
            "\"0x"u8.CopyTo(quoted);
            k.TryFormat(quoted[3..19], out _, "x16", CultureInfo.InvariantCulture);
            quoted[19] = (byte)'"';
            w.WritePropertyName(PKeywords);
            w.WriteRawValue(quoted, skipInputValidation: true);
        }
        if (r.Provider is not null) WriteShared(w, PProvider, r.Provider);
        if (r.ProviderGuid is not null) WriteShared(w, PProviderGuid, r.ProviderGuid);
        if (r.EventSourceName is not null) WriteShared(w, PEventSourceName, r.EventSourceName);
        if (r.Channel is not null) WriteShared(w, PChannel, r.Channel);
        if (r.Computer is not null) WriteShared(w, PComputer, r.Computer);
        if (r.UserId is not null) WriteShared(w, PUserId, r.UserId);
        if (r.ProcessId is { } pid) w.WriteNumber(PProcessId, pid);
        if (r.ThreadId is { } tid) w.WriteNumber(PThreadId, tid);
        w.WritePropertyName(PData);
        // EVTX records hold their items in an array: walked as a span, without an interface call per item.
        WriteData(w, r.Data as EvtxDataItem[] ?? [.. r.Data]);
        if (withXml) w.WriteString(PXml, r.RenderXml());
        w.WriteEndObject();
    }

    // The System fields, file and data names of a chunk's records are mostly the same string objects (the chunk shares
    // them), so their JSON is encoded once per object, not once per event.
    [ThreadStatic] private static EncodedByReference<byte[]?>? _quotedValues;
    [ThreadStatic] private static EncodedByReference<JsonEncodedText?>? _propertyNames;

    private static void WriteShared(Utf8JsonWriter w, JsonEncodedText name, string value)
    {
        w.WritePropertyName(name);
        var quoted = (_quotedValues ??= new(text => Strings.TryEncode(text), sets: 128)).Get(value);
        if (quoted is not null) w.WriteRawValue(quoted, skipInputValidation: true);
        else Strings.WriteValue(w, value);
    }

    private static void WritePropertyName(Utf8JsonWriter w, string name)
    {
        // Only ASCII names: JsonEncodedText and the writer differ on text that is not valid UTF-16.
        var encoded = (_propertyNames ??= new(text => Ascii.IsValid(text) ? JsonEncodedText.Encode(text) : null, sets: 128)).Get(name);
        if (encoded is { } ascii) w.WritePropertyName(ascii);
        else w.WritePropertyName(name);
    }

    /// <summary>Name → value; a name that repeats (unnamed &lt;Data&gt; items) maps to an array, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteData(Utf8JsonWriter w, ReadOnlySpan<EvtxDataItem> data)
    {
        w.WriteStartObject();
        if (data.Length <= MaxPairwiseNames) WriteDataComparingNames(w, data);
        else WriteDataCountingNames(w, data);
        w.WriteEndObject();
    }

    // Up to this many items, comparing names pairwise costs less than hashing each.
    private const int MaxPairwiseNames = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteDataComparingNames(Utf8JsonWriter w, ReadOnlySpan<EvtxDataItem> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            var name = data[i].Name;
            if (IndexOfName(data[..i], name) >= 0) continue; // written with its first occurrence
            WritePropertyName(w, name);
            var next = IndexOfName(data[(i + 1)..], name);
            if (next < 0)
            {
                WriteValue(w, in data[i]);
                continue;
            }
            w.WriteStartArray();
            WriteValue(w, in data[i]);
            for (var j = i + 1 + next; j < data.Length; j++)
                if (data[j].Name == name) WriteValue(w, in data[j]);
            w.WriteEndArray();
        }
    }

    private static int IndexOfName(ReadOnlySpan<EvtxDataItem> data, string name)
    {
        for (var i = 0; i < data.Length; i++)
            if (data[i].Name == name) return i;
        return -1;
    }

    [ThreadStatic] private static Dictionary<string, int>? _nameCounts;

    private static void WriteDataCountingNames(Utf8JsonWriter w, ReadOnlySpan<EvtxDataItem> data)
    {
        var counts = _nameCounts ??= [];
        counts.Clear();
        for (var i = 0; i < data.Length; i++)
            CollectionsMarshal.GetValueRefOrAddDefault(counts, data[i].Name, out _)++;
        for (var i = 0; i < data.Length; i++)
        {
            var name = data[i].Name;
            if (counts[name] == 1)
            {
                WritePropertyName(w, name);
                WriteValue(w, in data[i]);
                continue;
            }
            if (counts[name] == 0) continue; // already written with its first occurrence
            counts[name] = 0;
            WritePropertyName(w, name);
            w.WriteStartArray();
            for (var j = i; j < data.Length; j++)
                if (data[j].Name == name) WriteValue(w, in data[j]);
            w.WriteEndArray();
        }
    }

    [ThreadStatic] private static char[]? _valueBuffer;

    /// <summary>Most values fit a reused buffer and go from the chunk to UTF-8 without a string.</summary>
    private static void WriteValue(Utf8JsonWriter w, in EvtxDataItem item)
    {
        var buffer = _valueBuffer ??= new char[4096];
        if (item.TryFormatValue(buffer, out var written)) Strings.WriteValue(w, buffer.AsSpan(0, written));
        else Strings.WriteValue(w, item.Value);
    }
}
