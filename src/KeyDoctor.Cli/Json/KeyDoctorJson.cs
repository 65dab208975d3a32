using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Collection;

namespace KeyDoctor.Cli.Json;

/// <summary>
/// Every JSON document the command line writes, source-generated (no reflection, so the NativeAOT executable writes
/// exactly what the in-process command writes). The records named here are the schema: one file per command in
/// this folder, documented in docs/commands. Style: camelCase, enums as camelCase strings, nulls left out unless a
/// property says otherwise.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters =
    [
        typeof(FindingJsonConverter),
        typeof(CamelCaseEnum<Severity>),
        typeof(CamelCaseEnum<EvidenceKind>),
        typeof(CamelCaseEnum<MachineSourceKind>),
        typeof(CamelCaseEnum<CollectionStepKind>),
        typeof(CamelCaseEnum<HttpSysBindingKind>),
        typeof(CamelCaseEnum<ProviderKind>),
        typeof(CamelCaseEnum<KeyStoreKind>),
        typeof(CamelCaseEnum<MetabaseBlobStatus>),
    ])]
[JsonSerializable(typeof(ScanDocument))]
[JsonSerializable(typeof(FindingJson))]
[JsonSerializable(typeof(IisReport))]
[JsonSerializable(typeof(ExplainDocument))]
[JsonSerializable(typeof(KeyNameDocument))]
[JsonSerializable(typeof(KeyFileJson))]
[JsonSerializable(typeof(KeyConvertDocument))]
[JsonSerializable(typeof(KeySetSummaryDocument))]
[JsonSerializable(typeof(RegistryValueLine))]
[JsonSerializable(typeof(CertificateListDocument))]
[JsonSerializable(typeof(CertificateReport))]
[JsonSerializable(typeof(IReadOnlyList<CertificateReport>))]
[JsonSerializable(typeof(EventLine))]
[JsonSerializable(typeof(IReadOnlyList<CollectionStepJson>))]
[JsonSerializable(typeof(CollectDocument))]
[JsonSerializable(typeof(DiffDocument))]
[JsonSerializable(typeof(AuditStatusDocument))]
[JsonSerializable(typeof(AuditReportDocument))]
[JsonSerializable(typeof(ConfigVerifyDocument))]
[JsonSerializable(typeof(ConfigDecryptDocument))]
[JsonSerializable(typeof(ConfigRekeyDocument))]
[JsonSerializable(typeof(MetabaseVerifyDocument))]
[JsonSerializable(typeof(MetabaseDecryptDocument))]
[JsonSerializable(typeof(MetabaseRekeyDocument))]
[JsonSerializable(typeof(RecoverDocument))]
[JsonSerializable(typeof(FarmDocument))]
[JsonSerializable(typeof(HistoryDocument))]
[JsonSerializable(typeof(CleanRowJson))]
[JsonSerializable(typeof(CleanSummaryJson))]
public sealed partial class KeyDoctorJson : JsonSerializerContext;

/// <summary>An enum written as its camelCase name ("critical", "cryptoApi"), and read back the same way.</summary>
public sealed class CamelCaseEnum<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase)
    where TEnum : struct, Enum;
