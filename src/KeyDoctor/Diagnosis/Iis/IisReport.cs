using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>Everything `keydoctor iis` shows: what the IIS configuration says, joined to the machine when possible.</summary>
/// <param name="Lookup">Which machine lookup fed the SSL chain ("none" when only configuration files were read).</param>
/// <param name="HttpSysChecked">Whether HTTP.sys bindings were looked up (a null link then means missing, not unknown).</param>
/// <param name="Findings">The same <see cref="Finding"/> records `scan` produces, with IDs from <see cref="FindingCatalog"/>.</param>
public sealed record IisReport(
    string Input,
    string InputKind,
    string Lookup,
    bool HttpSysChecked,
    bool CertificatesChecked,
    bool KeyFilesChecked,
    string? MachineGuid,
    IReadOnlyList<IisFileView> Files,
    IisSharedConfigurationView? SharedConfiguration,
    IReadOnlyList<IisSiteView> Sites,
    IReadOnlyList<IisMetadataView> LegacySslMetadata,
    IReadOnlyList<IisProviderView> Providers,
    IReadOnlyList<IisEncryptedValueView> EncryptedValues,
    IisMetabaseView? Metabase,
    IReadOnlyList<Finding> Findings)
{
    /// <summary>True when a finding is worse than info (the command then exits 1), as for `scan`.</summary>
    public bool NeedsAttention() => Findings.Any(f => f.Severity > Severity.Info);
}

/// <param name="Status">"read", "unreadable" (see Problem) or "missing".</param>
public sealed record IisFileView(string Kind, string Path, string Status, string? Problem);

public sealed record IisSharedConfigurationView(
    string RedirectionConfig,
    bool Enabled,
    string? ConfiguredPath,
    string? UserName,
    string PasswordStorage,
    string? PasswordProvider,
    string? LocalDirectory,
    string? Problem);

public sealed record IisSiteView(long? Id, string Name, string Source, int Line, IReadOnlyList<IisBindingView> Bindings);

public sealed record IisBindingView(
    string Protocol,
    string BindingInformation,
    string? Address,
    int? Port,
    string? Host,
    int? SslFlags,
    IReadOnlyList<string>? SslFlagNames,
    int Line,
    IisSslChainView? Ssl);

/// <summary>
/// The SSL chain of one https binding. <see cref="HttpSysKey"/> is always known from the configuration; the
/// other links are filled by the machine lookup and stay null when it cannot see them.
/// </summary>
/// <param name="LegacyCertificateHash">customMetadata 5506 kept for this site, which ABO clients write back to HTTP.sys.</param>
public sealed record IisSslChainView(
    HttpSysBindingKind HttpSysKind,
    string HttpSysKey,
    HttpSysSslBinding? HttpSysBinding,
    CertificateInfo? Certificate,
    KeyFileStatus? KeyFile,
    string? LegacyCertificateHash,
    string? LegacyStoreName);

/// <summary>A customMetadata SSL property (5500-5599). Values of Secure properties are never shown.</summary>
public sealed record IisMetadataView(
    string Path,
    long? SiteId,
    uint Id,
    string? Name,
    string DataType,
    string? Value,
    bool Secure,
    int Line,
    CertificateInfo? Certificate);

public sealed record IisSessionKeyView(string KeyAlgorithm, string WrapAlgorithm, int WrappingKeyBits, int EncryptedKeyLength);

public sealed record IisProviderView(
    string Name,
    string Type,
    ProviderKind Kind,
    string Source,
    int Line,
    string? KeyContainerName,
    bool? UseMachineContainer,
    KeyStoreKind? KeyStore,
    string? ExpectedKeyFilePrefix,
    IisSessionKeyView? SessionKey,
    string? SessionKeyProblem,
    int EncryptedValues,
    KeyFileStatus? KeyFile);

/// <summary>An encrypted attribute: where, which provider, how long. Never the plaintext (nothing is decrypted).</summary>
public sealed record IisEncryptedValueView(
    string Source,
    string ElementPath,
    string Attribute,
    int Line,
    string? Provider,
    int? CiphertextLength,
    string? Problem);

public sealed record IisMetabaseView(
    string Path,
    string? Namespace,
    long? ChangeNumber,
    long? HistoryMajorVersion,
    IisMetabaseSessionKeyView SessionKey,
    string KeyContainerName,
    string ExpectedKeyFilePrefix,
    KeyFileStatus? KeyFile,
    IReadOnlyList<IisMetabaseSiteView> Sites,
    IReadOnlyList<IisMetabaseSecureView> SecureProperties,
    IisMetabaseHistoryView? History,
    IReadOnlyList<MetabaseBackup>? Backups);

public sealed record IisMetabaseSessionKeyView(
    MetabaseBlobStatus Status,
    string? Problem,
    long? Offset,
    string? KeyAlgorithm,
    int? WrappingKeyBits,
    int? SignedHashLength,
    IReadOnlyList<string>? Warnings);

public sealed record IisMetabaseSiteView(
    string KeyType,
    string Location,
    long? SiteId,
    string? ServerComment,
    IReadOnlyList<string> ServerBindings,
    IReadOnlyList<string> SecureBindings,
    string? SslCertHash,
    string? SslStoreName,
    CertificateInfo? Certificate);

public sealed record IisMetabaseSecureView(
    string KeyType,
    string Location,
    string Name,
    uint? Id,
    int Line,
    MetabaseBlobStatus Status,
    int? EncryptedDataLength,
    string? Problem);

public sealed record IisMetabaseHistoryView(
    string Directory,
    int Copies,
    string? LastGood,
    long? LastGoodMajorVersion,
    long? LastGoodMinorVersion,
    IReadOnlyList<string> Rejected);
