using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;

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
    /// Commands as lines a person pastes: written straight to <paramref name="writer"/>, never wrapped (whatever the
    /// console width) and with no prompt in front; a command someone must run first elsewhere gets a comment line.
    /// </summary>
    public static void WriteCommands(TextWriter writer, string indent, ShellRenderer renderer, IEnumerable<ShellCommand> commands)
    {
        foreach (var command in commands)
        {
            if (command.RunFirstAs is { } who) writer.WriteLine(indent + renderer.Comment($"First, {who}:"));
            writer.WriteLine(indent + renderer.Line(command));
        }
    }

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
