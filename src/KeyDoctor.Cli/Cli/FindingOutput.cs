using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;

namespace KeyDoctor.Cli;

/// <summary>
/// How every command prints a <see cref="Finding"/>: one JSON shape (registered in <see cref="JsonOutput"/>) and one
/// text form of its evidence, so that `scan` and `iis` findings read the same.
/// </summary>
public static class FindingOutput
{
    /// <summary>"description @ location offset 0x.. record .. = value", each part only when known.</summary>
    public static string DescribeEvidence(Evidence e) =>
        e.Description
        + (e.Location is null ? "" : $" @ {e.Location}")
        + (e.Offset is { } o ? $" offset 0x{o:X}" : "")
        + (e.RecordId is { } r ? $" record {r}" : "")
        + (e.Value is null ? "" : $" = {e.Value}");

    /// <summary>
    /// A finding as scripts see it: the descriptor's id, title and help page flattened in, not the whole descriptor
    /// (its long explanation belongs to the help page).
    /// </summary>
    public sealed class JsonConverter : JsonConverter<Finding>
    {
        public override Finding Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("findings are written, not read");

        public override void Write(Utf8JsonWriter writer, Finding finding, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteString("id", finding.Id);
            writer.WritePropertyName("severity");
            JsonSerializer.Serialize(writer, finding.Severity, options);
            writer.WriteString("title", finding.Title);
            writer.WriteString("subject", finding.Subject);
            writer.WriteString("message", finding.Message);
            writer.WritePropertyName("evidence");
            JsonSerializer.Serialize(writer, finding.Evidence, options);
            if (finding.Fix is not null)
            {
                writer.WritePropertyName("fix");
                JsonSerializer.Serialize(writer, finding.Fix, options);
            }
            if (finding.Related.Count > 0)
            {
                writer.WritePropertyName("related");
                JsonSerializer.Serialize(writer, finding.Related, options);
            }
            if (finding.Properties.Count > 0)
            {
                writer.WritePropertyName("properties");
                JsonSerializer.Serialize(writer, finding.Properties, options);
            }
            writer.WriteString("helpLink", finding.Descriptor.HelpLink);
            writer.WriteEndObject();
        }
    }
}
