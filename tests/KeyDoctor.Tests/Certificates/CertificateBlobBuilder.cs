using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace KeyDoctor.Tests.Certificates;

/// <summary>Builds registry certificate Blob values the way Windows lays them out, from a real certificate.</summary>
public static class CertificateBlobBuilder
{
    public static X509Certificate2 CreateCertificate(string subject = "CN=keydoctor.test")
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return request.CreateSelfSigned(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), new DateTimeOffset(2034, 1, 2, 3, 4, 5, TimeSpan.Zero));
    }

    public static byte[] Property(uint id, byte[] value) =>
        [.. BitConverter.GetBytes(id), .. BitConverter.GetBytes(1u), .. BitConverter.GetBytes((uint)value.Length), .. value];

    /// <summary>CERT_KEY_PROV_INFO_PROP_ID serialized: seven dwords, then the two NUL-terminated UTF-16 strings.</summary>
    public static byte[] KeyProviderInfo(string container, string provider, uint providerType, uint flags, uint keySpec)
    {
        var containerBytes = Encoding.Unicode.GetBytes(container + "\0");
        var providerBytes = Encoding.Unicode.GetBytes(provider + "\0");
        var header = new[] { 28u, 28u + (uint)containerBytes.Length, providerType, flags, 0u, 0u, keySpec };
        return [.. header.SelectMany(BitConverter.GetBytes), .. containerBytes, .. providerBytes];
    }

    public static byte[] Blob(X509Certificate2 certificate, byte[]? keyProviderInfo, string? friendlyName = null, IEnumerable<byte[]>? moreProperties = null)
    {
        var parts = new List<byte[]>(moreProperties ?? []);
        if (keyProviderInfo is not null) parts.Add(Property(2, keyProviderInfo));
        parts.Add(Property(3, SHA1.HashData(certificate.RawData)));
        if (friendlyName is not null) parts.Add(Property(11, Encoding.Unicode.GetBytes(friendlyName + "\0")));
        parts.Add(Property(0xC8, [0x01, 0x02])); // a property this reader does not know: kept, named by number
        parts.Add(Property(32, certificate.RawData));
        return parts.SelectMany(p => p).ToArray();
    }

    public static string Hex(byte[] bytes) => string.Join(",", bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
