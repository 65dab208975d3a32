using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;

namespace KeyDoctor.Store;

/// <summary>
/// The parts of a finding kept in <c>findings.details</c> as JSON (id, severity, subject and message have columns of
/// their own): its evidence, fix, causes and properties, exactly as the scan made them.
/// </summary>
/// <remarks>Scans recorded before causes existed carry "related" instead of "causedBy"; it is read and ignored.</remarks>
public sealed record StoredFindingDetails(List<Evidence> Evidence, Fix? Fix, List<FindingRef>? CausedBy, Dictionary<string, string> Properties)
{
    public static StoredFindingDetails Of(Finding finding) => new([.. finding.Evidence], finding.Fix, [.. finding.CausedBy],
        finding.Properties.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));

    public string ToJson() => JsonSerializer.Serialize(this, StoreJson.Default.StoredFindingDetails);

    public static StoredFindingDetails FromJson(string json, string scanId) =>
        JsonSerializer.Deserialize(json, StoreJson.Default.StoredFindingDetails)
        ?? throw new ScanStoreException($"scan {scanId} in the store has a finding whose details are empty; the store was edited by hand or damaged");
}

/// <summary>Source-generated (the NativeAOT executable reads and writes the same), compact, enums by name.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(StoredFindingDetails))]
internal sealed partial class StoreJson : JsonSerializerContext;
