using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

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
