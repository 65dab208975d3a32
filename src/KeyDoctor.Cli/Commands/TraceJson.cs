using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Cli.Commands;

/// <summary>One event of `trace --json` (JSON Lines): the columns of Procmon's own export.</summary>
public sealed record TraceEventJson(DateTime? Time, string Process, uint Pid, uint Tid, string Operation, string Path, string Result, string Detail);

/// <summary>One access of `trace --keys --json`.</summary>
public sealed record TraceKeyAccessJson(long Sequence, DateTime? Time, string Kind, string Operation, string Path, string Result, bool Failed,
    string Detail, string? KeyFile, string? Container, string? MachineGuid);

/// <summary>One process of `trace --keys --json`.</summary>
public sealed record TraceKeyProcessJson(string Process, uint Pid, string? User, string? CommandLine, string? ImagePath, int Failures,
    IReadOnlyList<string> Story, IReadOnlyList<TraceKeyAccessJson> Accesses);

/// <summary>The document of `trace --keys --json`.</summary>
public sealed record TraceKeyStoryJson(string Capture, long EventsRead, IReadOnlyList<string> MachineGuids, IReadOnlyList<TraceKeyProcessJson> Processes);

/// <summary>Source-generated serialization of the trace output (no reflection; NativeAOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TraceEventJson))]
[JsonSerializable(typeof(TraceKeyStoryJson))]
public sealed partial class TraceJsonContext : JsonSerializerContext
{
    /// <summary>Compact lines, paths readable (backslashes not \u-escaped).</summary>
    public static TraceJsonContext Lines { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>One indented document.</summary>
    public static TraceJsonContext Document { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    });
}

/// <summary>
/// Writes <see cref="TraceEventJson"/>'s shape straight from an event's <see cref="ProcmonEventColumns"/> (a capture
/// has millions): property names encoded once, strings through <see cref="JsonStrings"/>. A test reads the output
/// back through the record to keep the two the same.
/// </summary>
public static class TraceEventWriter
{
    public static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText PTime = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText PProcess = JsonEncodedText.Encode("process");
    private static readonly JsonEncodedText PPid = JsonEncodedText.Encode("pid");
    private static readonly JsonEncodedText PTid = JsonEncodedText.Encode("tid");
    private static readonly JsonEncodedText POperation = JsonEncodedText.Encode("operation");
    private static readonly JsonEncodedText PPath = JsonEncodedText.Encode("path");
    private static readonly JsonEncodedText PResult = JsonEncodedText.Encode("result");
    private static readonly JsonEncodedText PDetail = JsonEncodedText.Encode("detail");

    [ThreadStatic] private static EncodedStrings? _encoded;

    public static void Write(Utf8JsonWriter w, in ProcmonEventColumns e)
    {
        var encoded = _encoded ??= new EncodedStrings();
        w.WriteStartObject();
        if (e.Time is { } time) w.WriteString(PTime, time);
        else w.WriteNull(PTime);
        encoded.Write(w, PProcess, e.Process.Name);
        w.WriteNumber(PPid, e.Process.ProcessId);
        w.WriteNumber(PTid, e.ThreadId);
        encoded.Write(w, POperation, e.Operation);
        encoded.Write(w, PPath, e.Path);
        encoded.Write(w, PResult, e.Result);
        encoded.Write(w, PDetail, e.Detail);
        w.WriteEndObject();
    }

    /// <summary>
    /// One thread's JSON encodings of the strings it wrote, by string instance: process names, operations and results
    /// are a few instances shared by every event, and the PML reader hands out one instance per repeated path and
    /// Detail text. Long text (rarely repeated) is not kept.
    /// </summary>
    private sealed class EncodedStrings
    {
        private const int MaxLength = 256;

        private static readonly JsonStrings Strings = JsonStrings.Relaxed;
        private readonly EncodedByReference<byte[]?> _encoded = new(text => Strings.TryEncode(text), sets: 2048);

        public void Write(Utf8JsonWriter w, JsonEncodedText name, string value)
        {
            if (value.Length > MaxLength)
            {
                Strings.Write(w, name, value);
                return;
            }
            w.WritePropertyName(name);
            // No encoding: text the writer must escape itself (not ASCII).
            if (_encoded.Get(value) is { } bytes) w.WriteRawValue(bytes, skipInputValidation: true);
            else w.WriteStringValue(value);
        }
    }
}
