namespace KeyDoctor.Cli.Json;

/// <summary>`certs list --json`.</summary>
public sealed record CertificateListDocument(string Source, string? MachineGuid, IReadOnlyList<CertificateReport> Certificates);

/// <summary>
/// One certificate of a registry store, with its key link: `certs list` lists these, `certs show --json` writes one
/// (or an array when the thumbprint is in several stores).
/// </summary>
public sealed record CertificateReport(
    string Location, string Store, string Thumbprint, string RegistryPath,
    string? Subject, string? Issuer, string? SerialNumber, DateTime? NotBefore, DateTime? NotAfter,
    string? Sha256, string? FriendlyName, CertificateKeyReport? Key, IReadOnlyList<CertificatePropertyReport> Properties,
    IReadOnlyList<string> Problems);

/// <summary>The CERT_KEY_PROV_INFO link and the key file it leads to.</summary>
public sealed record CertificateKeyReport(string? Container, string? Provider, uint ProviderType, string ProviderTypeName, uint Flags,
    bool MachineKey, uint KeySpec, string KeySpecName, string ExpectedKeyFileName, string ExpectedKeyFileDirectory);

/// <summary>A stored property: its text when it has one, else its bytes in hex (the encoded certificate is neither).</summary>
public sealed record CertificatePropertyReport(uint Id, string Name, int Length, string? Text, string? Hex);
