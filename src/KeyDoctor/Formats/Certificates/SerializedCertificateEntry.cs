using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace KeyDoctor.Formats.Certificates;

/// <summary>One property of a serialized certificate: id, the reserved dword (1 in real blobs) and the value.</summary>
public sealed record CertificateProperty(uint Id, uint Reserved, long Offset, byte[] Value)
{
    public string Name => CertificatePropertyIds.Name(Id);
}

/// <summary>
/// The registry <c>Blob</c> value of a stored certificate (SystemCertificates\&lt;store&gt;\Certificates\&lt;thumbprint&gt;):
/// a sequence of {u32 property id, u32 reserved, u32 length, value}. The encoded certificate is property 32, the key
/// link is CERT_KEY_PROV_INFO_PROP_ID. Properties are kept in file order, unknown ones included. A blob that is cut
/// short keeps what came before and says why in <see cref="Problems"/>.
/// </summary>
public sealed class SerializedCertificateEntry
{
    private readonly Lazy<(X509Certificate2? Certificate, string? Error)> _certificate;

    private SerializedCertificateEntry(IReadOnlyList<CertificateProperty> properties, List<string> problems)
    {
        Properties = properties;
        Problems = problems;
        if (Find(CertificatePropertyIds.KeyProviderInfo) is { } info)
        {
            try { KeyProviderInfo = KeyProviderInfo.Parse(info.Value, info.Offset); }
            catch (MalformedDataException e) { problems.Add($"CERT_KEY_PROV_INFO_PROP_ID unreadable: {e.Message}"); }
        }
        if (Find(CertificatePropertyIds.Certificate) is null) problems.Add("no encoded certificate (property 32) in the blob");
        _certificate = new Lazy<(X509Certificate2?, string?)>(LoadCertificate);
    }

    public IReadOnlyList<CertificateProperty> Properties { get; }
    public IReadOnlyList<string> Problems { get; }
    public KeyProviderInfo? KeyProviderInfo { get; }

    public byte[]? EncodedCertificate => Find(CertificatePropertyIds.Certificate)?.Value;

    /// <summary>The certificate, or null when property 32 is missing or not a certificate (see <see cref="CertificateError"/>).</summary>
    public X509Certificate2? Certificate => _certificate.Value.Certificate;

    public string? CertificateError => _certificate.Value.Error;

    /// <summary>CERT_SHA1_HASH_PROP_ID as stored (upper-case hex), which Windows uses as the thumbprint.</summary>
    public string? StoredSha1 => Find(CertificatePropertyIds.Sha1Hash) is { } p ? Convert.ToHexString(p.Value) : null;

    /// <summary>SHA-1 of the encoded certificate (the real thumbprint), upper-case hex.</summary>
    public string? ComputedSha1 => EncodedCertificate is { } der ? Convert.ToHexString(SHA1.HashData(der)) : null;

    public string? ComputedSha256 => EncodedCertificate is { } der ? Convert.ToHexString(SHA256.HashData(der)) : null;

    public string? FriendlyName => Find(CertificatePropertyIds.FriendlyName) is { } p ? Utf16Z(p.Value) : null;

    /// <summary>CERT_KEY_SPEC_PROP_ID, when present.</summary>
    public uint? KeySpec => Find(CertificatePropertyIds.KeySpec) is { Value.Length: >= 4 } p ? BinaryPrimitives.ReadUInt32LittleEndian(p.Value) : null;

    public CertificateProperty? Find(uint id)
    {
        foreach (var property in Properties) if (property.Id == id) return property;
        return null;
    }

    /// <summary>The blob the store would hold for these properties: each as id, reserved, length, value.</summary>
    public static byte[] Serialize(IEnumerable<CertificateProperty> properties)
    {
        var stream = new MemoryStream();
        Span<byte> header = stackalloc byte[12];
        foreach (var property in properties)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header, property.Id);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], property.Reserved);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)property.Value.Length);
            stream.Write(header);
            stream.Write(property.Value);
        }
        return stream.ToArray();
    }

    /// <summary>
    /// This entry's properties with <paramref name="id"/> set to <paramref name="value"/>: replaced where it is, else
    /// inserted before the first property with a larger id (the encoded certificate, 32, stays last).
    /// </summary>
    public IReadOnlyList<CertificateProperty> WithProperty(uint id, byte[] value)
    {
        var result = Properties.ToList();
        var at = result.FindIndex(p => p.Id == id);
        var property = new CertificateProperty(id, 1, -1, value);
        if (at >= 0) result[at] = property with { Reserved = result[at].Reserved };
        else
        {
            var before = result.FindIndex(p => p.Id > id);
            result.Insert(before < 0 ? result.Count : before, property);
        }
        return result;
    }

    /// <exception cref="MalformedDataException">The blob is empty or its first property header is cut short.</exception>
    public static SerializedCertificateEntry Parse(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 12) throw new MalformedDataException("certificate blob", 0, $"{blob.Length} bytes cannot hold a property");
        var properties = new List<CertificateProperty>();
        var problems = new List<string>();
        var offset = 0;
        while (offset < blob.Length)
        {
            if (blob.Length - offset < 12)
            {
                problems.Add($"{blob.Length - offset} trailing bytes at offset {offset} are not a property");
                break;
            }
            var id = BinaryPrimitives.ReadUInt32LittleEndian(blob[offset..]);
            var reserved = BinaryPrimitives.ReadUInt32LittleEndian(blob[(offset + 4)..]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(blob[(offset + 8)..]);
            if (length > blob.Length - offset - 12)
            {
                problems.Add($"property {CertificatePropertyIds.Name(id)} at offset {offset} claims {length} bytes, only {blob.Length - offset - 12} remain");
                break;
            }
            properties.Add(new CertificateProperty(id, reserved, offset + 12, blob.Slice(offset + 12, (int)length).ToArray()));
            offset += 12 + (int)length;
        }
        return new SerializedCertificateEntry(properties, problems);
    }

    private (X509Certificate2?, string?) LoadCertificate()
    {
        var der = EncodedCertificate;
        if (der is null) return (null, "no encoded certificate (property 32)");
        X509Certificate2 certificate;
        try { certificate = X509CertificateLoader.LoadCertificate(der); }
        catch (CryptographicException e) { return (null, $"not a certificate ({e.Message.TrimEnd('.')})"); }
        // The platform decodes some fields only when they are read: a damaged validity or key throws then. Read
        // everything KeyDoctor uses now, so a certificate is either whole or reported as damaged, never half.
        try
        {
            _ = certificate.Subject;
            _ = certificate.Issuer;
            _ = certificate.SerialNumber;
            _ = certificate.NotBefore;
            _ = certificate.NotAfter;
            _ = certificate.PublicKey.ExportSubjectPublicKeyInfo();
            return (certificate, null);
        }
        catch (CryptographicException e)
        {
            certificate.Dispose();
            return (null, $"its fields cannot be decoded (validity dates, names or public key damaged: {e.Message.TrimEnd('.')})");
        }
    }

    internal static string Utf16Z(byte[] value)
    {
        var text = Encoding.Unicode.GetString(value, 0, value.Length & ~1);
        var nul = text.IndexOf('\0');
        return nul >= 0 ? text[..nul] : text;
    }
}
