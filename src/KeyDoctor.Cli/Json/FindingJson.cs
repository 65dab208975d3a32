using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;

namespace KeyDoctor.Cli.Json;

/// <summary>
/// A finding as scripts see it (in `scan`, `iis`): the descriptor's id, title and help page flattened in, not the
/// whole descriptor (its long explanation belongs to the help page, which `keydoctor explain KDxxxx` prints).
/// <c>causedBy</c> is always there (empty for a root cause): the IDs of the findings that explain this one, and
/// <c>causes</c> names them exactly (ID and subject) when there are any. Properties only when there are any.
/// </summary>
public sealed record FindingJson(
    string Id,
    Severity Severity,
    string Title,
    string Subject,
    string Message,
    IReadOnlyList<Evidence> Evidence,
    Fix? Fix,
    IReadOnlyList<string> CausedBy,
    IReadOnlyList<FindingRef>? Causes,
    IReadOnlyDictionary<string, string>? Properties,
    string HelpLink,
    string Explain)
{
    public static FindingJson From(Finding f) => new(f.Id, f.Severity, f.Title, f.Subject, f.Message, f.Evidence, f.Fix,
        [.. f.CausedBy.Select(c => c.Id).Distinct()], f.CausedBy.Count > 0 ? f.CausedBy : null,
        f.Properties.Count > 0 ? f.Properties : null, f.Descriptor.HelpLink, $"keydoctor explain {f.Id}");
}

/// <summary>Writes every <see cref="Finding"/> (wherever a result holds one) as its <see cref="FindingJson"/>.</summary>
public sealed class FindingJsonConverter : JsonConverter<Finding>
{
    public override Finding Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("findings are written, not read");

    public override void Write(Utf8JsonWriter writer, Finding value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, FindingJson.From(value), KeyDoctorJson.Default.FindingJson);
}
