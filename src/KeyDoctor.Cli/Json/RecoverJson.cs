namespace KeyDoctor.Cli.Json;

/// <summary>
/// `recover --json`, and the recovery-report.json written beside the keys: what was recovered, from which master key,
/// into which files. Never key material.
/// </summary>
public sealed record RecoverDocument(string Source, string OutputDirectory, RecoverSystemSecretJson SystemSecret,
    RecoverDomainBackupKeyJson? DomainBackupKey, int Recovered, int Failed, IReadOnlyList<RecoveredKeyJson> Keys,
    IReadOnlyList<RecoverMasterKeyJson> MasterKeys, IReadOnlyList<RecoverCertificateJson> CertificatesWithoutKey);

/// <summary>Whether DPAPI_SYSTEM was read from SYSTEM + SECURITY.</summary>
public sealed record RecoverSystemSecretJson(bool Available, string? Failure);

/// <summary>Which backup key was used; never its key material.</summary>
public sealed record RecoverDomainBackupKeyJson(string? Guid, int KeyBits);

/// <param name="Kind">"capi" or "cng".</param>
/// <param name="Files">The files written for this key (PFX, XML or PKCS#8), in the output folder.</param>
public sealed record RecoveredKeyJson(string Path, string Kind, string? Container, string? KeySpec, string? Algorithm, int? KeyBits,
    string? PublicKeySha256, string? MasterKey, string? MasterKeyOpenedWith, bool? MarkedExportable,
    IReadOnlyList<RecoverCertificateJson> Certificates, bool Recovered, string? Failure, IReadOnlyList<string> Files);

public sealed record RecoverMasterKeyJson(string Guid, string? Path, string? OpenedWith, string? Failure);

public sealed record RecoverCertificateJson(string Thumbprint, string Location, string Store, string? Subject);
