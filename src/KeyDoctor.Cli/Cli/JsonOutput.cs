using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeyDoctor.Cli;

/// <summary>The one JSON style of the tool: camelCase, enums as strings, nulls omitted.</summary>
public static class JsonOutput
{
    public static readonly JsonSerializerOptions Indented = Create(indented: true);
    public static readonly JsonSerializerOptions Compact = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented) => new()
    {
        WriteIndented = indented,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Paths and messages carry backslashes and quotes; keep them readable rather than \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new FindingOutput.JsonConverter() },
    };

    public static void Write<T>(TextWriter writer, T value)
    {
        writer.Write(JsonSerializer.Serialize(value, Indented));
        writer.WriteLine();
    }

    public static void WriteLine<T>(TextWriter writer, T value)
    {
        writer.Write(JsonSerializer.Serialize(value, Compact));
        writer.WriteLine();
    }
}
