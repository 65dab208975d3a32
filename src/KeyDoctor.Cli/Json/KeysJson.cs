using System.Text.Json.Serialization;

namespace KeyDoctor.Cli.Json;

/// <summary>`keys name --json`.</summary>
/// <param name="Kind">"CAPI" or "CNG".</param>
/// <param name="FileName">prefix_MachineGuid, with --guid.</param>
/// <param name="WellKnown">What uses the container, when the name is in the catalogue.</param>
public sealed record KeyNameDocument(string Container, string Kind, string Prefix, string? FileName, string? WellKnown);

/// <summary>
/// One key file: a row of `keys list --json` (a JSON array of these, sorted by path) or the document of
/// `keys show --json`, which adds every field of the CAPI or CNG structure (never private key material). Container,
/// kind and keyBits are written as null when unknown; the other optional fields are left out.
/// </summary>
/// <param name="Kind">"CAPI" or "CNG".</param>
/// <param name="KeySpecs">CAPI key slots present: "AT_KEYEXCHANGE", "AT_SIGNATURE" (empty for CNG).</param>
/// <param name="Status">The worst problem's stable name ("ok", "truncated", "guid-mismatch", ...).</param>
public sealed record KeyFileJson(
    string File,
    string Path,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Container,
    string? WellKnown,
    string? WellKnownUse,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Kind,
    IReadOnlyList<string> KeySpecs,
    string? Algorithm,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? KeyBits,
    ulong? Exponent,
    string? PublicKeySha256,
    IReadOnlyList<Guid> MasterKeyGuids,
    long Size,
    DateTime? Created,
    DateTime? Modified,
    string Status,
    IReadOnlyList<KeyFileProblemJson> Problems,
    CapiKeyFileJson? Capi = null,
    CngKeyFileJson? Cng = null);

/// <param name="Status">The stable kebab-case status name, e.g. "guid-mismatch".</param>
public sealed record KeyFileProblemJson(string Status, string Evidence);

public sealed record CapiKeyFileJson(
    KeyDoctor.Formats.KeyFiles.CapiKeyFileHeader Header,
    long DeclaredLength,
    string Name,
    string NameDigest,
    string Hash,
    int TrailingBytes,
    IReadOnlyList<CapiKeyPairJson> KeyPairs,
    IReadOnlyList<string> Errors);

/// <param name="KeySpec">"AT_KEYEXCHANGE" or "AT_SIGNATURE".</param>
public sealed record CapiKeyPairJson(
    string KeySpec,
    IReadOnlyList<KeyFileSectionJson> Sections,
    CapiPublicKeyJson? PublicKey,
    DpapiBlobJson? PrivateKey,
    DpapiBlobJson? ExportFlag);

/// <param name="Part">"PublicKey", "PrivateKeyBlob", "ExportFlagBlob", "PublicProperties", "PrivatePropertiesBlob".</param>
public sealed record KeyFileSectionJson(string Part, long Offset, int Length);

public sealed record CapiPublicKeyJson(
    string Magic, uint KeyLength, uint BitLength, uint DataLength, uint Exponent, string Modulus, string SubjectPublicKeyInfoSha256);

public sealed record CngKeyFileJson(
    CngHeaderJson Header,
    long DeclaredLength,
    string Name,
    string NameDigest,
    int TrailingBytes,
    IReadOnlyList<KeyFileSectionJson> Sections,
    IReadOnlyList<CngPropertyJson> PublicProperties,
    CngPublicKeyJson? PublicKey,
    DpapiBlobJson? PrivateProperties,
    DpapiBlobJson? PrivateKey,
    IReadOnlyList<string> Errors);

public sealed record CngHeaderJson(
    uint Version, uint Reserved, uint NameLength, uint Type, uint PropertyCount,
    uint PublicPropertiesLength, uint PrivatePropertiesLength, uint PrivateKeyLength, string Reserved2);

/// <param name="Value">Name properties as text, "Modified" as an ISO 8601 time, anything else as hex.</param>
public sealed record CngPropertyJson(long Offset, uint StructLength, uint Type, string Name, int ValueLength, string Value);

public sealed record CngPublicKeyJson(string Algorithm, int KeyBits, ulong? Exponent, string SubjectPublicKeyInfo, string SubjectPublicKeyInfoSha256);

/// <summary>A DPAPI blob's header fields. The cipher text and signature are located, never printed.</summary>
public sealed record DpapiBlobJson(
    long Offset,
    int Length,
    uint Version,
    Guid Provider,
    uint MasterKeyVersion,
    Guid MasterKeyGuid,
    uint Flags,
    string FlagNames,
    string Description,
    string CryptAlgorithm,
    uint CryptAlgorithmId,
    uint CryptAlgorithmBits,
    string Salt,
    string HmacKey,
    string HashAlgorithm,
    uint HashAlgorithmId,
    uint HashAlgorithmBits,
    string HmacSalt,
    long CipherTextOffset,
    int CipherTextLength,
    long SignatureOffset,
    int SignatureLength,
    long SignedOffset,
    int SignedLength);

/// <summary>`keys convert --json`: what was written, never the keys.</summary>
/// <param name="Format">"xml", "pem-pkcs1", "pem-pkcs8", "pvk" or "pfx".</param>
public sealed record KeyConvertDocument(string Input, string Output, string Format, IReadOnlyList<ConvertedKeyJson> Keys);

/// <param name="KeyNumber">"AT_KEYEXCHANGE" or "AT_SIGNATURE".</param>
public sealed record ConvertedKeyJson(string KeyNumber, int Bits, bool HasPrivateKey);

/// <summary>`keys export --json` and `keys import --json`: the target (file or container) and the keys moved.</summary>
public sealed record KeySetSummaryDocument(string Target, IReadOnlyList<KeySetKeyJson> Keys);

public sealed record KeySetKeyJson(string KeyNumber, int Bits);

/// <summary>Library results → the records above. Names: "CAPI"/"CNG", "AT_KEYEXCHANGE"/"AT_SIGNATURE", hex in lower case.</summary>
public static class KeysJson
{
    public static string KindName(KeyDoctor.Formats.KeyFiles.KeyProviderKind kind) =>
        kind == KeyDoctor.Formats.KeyFiles.KeyProviderKind.Capi ? "CAPI" : "CNG";

    public static string SpecName(KeyDoctor.Formats.KeyFiles.KeySpec spec) =>
        spec == KeyDoctor.Formats.KeyFiles.KeySpec.KeyExchange ? "AT_KEYEXCHANGE" : "AT_SIGNATURE";

    public static KeyFileJson Row(KeyDoctor.Machine.KeyStore.KeyFileReport r, CapiKeyFileJson? capi = null, CngKeyFileJson? cng = null) => new(
        r.FileName, r.Path, r.Container, r.WellKnown?.Name, r.WellKnown?.UsedBy, r.Kind is { } k ? KindName(k) : null,
        r.KeySpecs.Count == 0 ? [] : r.KeySpecs.Select(SpecName).ToArray(), r.Algorithm, r.KeyBits, r.Exponent, r.PublicKeySha256,
        r.MasterKeyGuids, r.Size, r.CreatedUtc, r.ModifiedUtc,
        KeyDoctor.Machine.KeyStore.KeyFileStatusNames.Of(r.Status),
        r.Problems.Count == 0 ? [] : r.Problems.Select(p => new KeyFileProblemJson(p.Name, p.Evidence)).ToArray(), capi, cng);

    public static KeyFileJson Show(KeyDoctor.Machine.KeyStore.KeyFileInspection inspection) =>
        Row(inspection.Report, inspection.Capi is { } capi ? Capi(capi) : null, inspection.Cng is { } cng ? Cng(cng) : null);

    private static KeyFileSectionJson Section(KeyDoctor.Formats.KeyFiles.KeyFileSection s) => new(s.Part.ToString(), s.Offset, s.Length);

    private static CapiKeyFileJson Capi(KeyDoctor.Formats.KeyFiles.CapiKeyFile f) => new(
        f.Header, f.Header.DeclaredFileLength, f.Name, KeyDoctor.Formats.KeyFiles.ContainerName.Format(f.NameDigest),
        Convert.ToHexStringLower(f.Hash.Span), f.TrailingLength,
        f.KeyPairs.Select(p => new CapiKeyPairJson(
            SpecName(p.Spec),
            [Section(p.PublicKeySection), Section(p.PrivateKeySection), Section(p.ExportFlagSection)],
            p.PublicKey is { } k
                ? new CapiPublicKeyJson("RSA1", k.KeyLength, k.BitLength, k.DataLength, k.Exponent,
                    Convert.ToHexStringLower(k.ModulusBigEndian()), k.ToPublicKeyInfo().Sha256)
                : null,
            p.PrivateKey is { } priv ? Blob(priv) : null,
            p.ExportFlag is { } flag ? Blob(flag) : null)).ToList(),
        f.Errors.Select(e => e.ToString()).ToList());

    private static CngKeyFileJson Cng(KeyDoctor.Formats.KeyFiles.CngKeyFile f)
    {
        var h = f.Header;
        return new CngKeyFileJson(
            new CngHeaderJson(h.Version, h.Reserved, h.NameLength, h.Type, h.PropertyCount, h.PublicPropertiesLength,
                h.PrivatePropertiesLength, h.PrivateKeyLength, Convert.ToHexStringLower(h.Reserved2.Span)),
            h.DeclaredFileLength, f.Name, KeyDoctor.Formats.KeyFiles.ContainerName.Format(f.NameDigest), f.TrailingLength,
            [Section(f.PublicPropertiesSection), Section(f.PrivatePropertiesSection), Section(f.PrivateKeySection)],
            f.PublicProperties.Select(p => new CngPropertyJson(p.Offset, p.StructLength, p.Type, p.Name, p.Value.Length, PropertyValue(p))).ToList(),
            f.PublicKey is { } k
                ? new CngPublicKeyJson(k.Algorithm, k.KeyBits, k.RsaExponent, Convert.ToHexStringLower(k.SubjectPublicKeyInfo), k.Sha256)
                : null,
            f.PrivateProperties is { } pp ? Blob(pp) : null,
            f.PrivateKey is { } pk ? Blob(pk) : null,
            f.Errors.Select(e => e.ToString()).ToList());
    }

    /// <summary>Name properties as text, "Modified" as an ISO 8601 time, anything else as hex.</summary>
    public static string PropertyValue(KeyDoctor.Formats.KeyFiles.CngProperty p) =>
        p.Name == "Modified" && p.AsFileTime is { } time ? time.ToString("O", System.Globalization.CultureInfo.InvariantCulture)
        : p.Name.EndsWith("Name", StringComparison.Ordinal) ? p.AsText
        : Convert.ToHexStringLower(p.Value.Span);

    // The cipher text and signature are located, not printed: DPAPI-protected material stays out of output.
    private static DpapiBlobJson Blob(KeyDoctor.Formats.Dpapi.DpapiBlob b) => new(
        b.BaseOffset, b.Length, b.Version, b.ProviderGuid, b.MasterKeyVersion, b.MasterKeyGuid, (uint)b.Flags, b.Flags.ToString(),
        b.Description, b.CryptAlgorithmName, b.CryptAlgorithm, b.CryptAlgorithmBits, Convert.ToHexStringLower(b.Salt.Span),
        Convert.ToHexStringLower(b.HmacKey.Span), b.HashAlgorithmName, b.HashAlgorithm, b.HashAlgorithmBits,
        Convert.ToHexStringLower(b.HmacSalt.Span),
        b.BaseOffset + b.Layout.CipherTextOffset, b.CipherText.Length,
        b.BaseOffset + b.Layout.SignatureOffset, b.Signature.Length,
        b.BaseOffset + b.SignedRange.Start.Value, b.SignedRange.End.Value - b.SignedRange.Start.Value);
}
