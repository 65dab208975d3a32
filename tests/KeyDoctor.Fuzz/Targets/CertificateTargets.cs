using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Fuzz.Targets;

/// <summary>A registry certificate Blob: properties, the key link (KEY_PROV_INFO) and the encoded certificate.</summary>
public sealed class CertificateEntryTarget : FuzzTarget
{
    public override string Name => "cert-entry";
    public override string Description => "certificate-store entry (registry Blob): properties, CERT_KEY_PROV_INFO, the X.509 certificate";

    public override IEnumerable<Seed> Seeds()
    {
        const string damaged = "fuzz-findings/certs/cert-entry-bad-validity.bin";
        foreach (var key in RegExportReader.Parse(FixtureFiles.Bytes(damaged)).Root.DescendantsAndSelf())
            if (key.GetValue("Blob") is { } blob)
                yield return new Seed($"{damaged}!{key.Name}", blob.Data.ToArray());
        yield return new Seed("built: linked certificate", CertificateSeeds.Blob());
    }

    public override void Run(byte[] input)
    {
        var entry = SerializedCertificateEntry.Parse(input);
        Consume.All(entry);
    }
}

public sealed class KeyProviderInfoTarget : FuzzTarget
{
    public override string Name => "key-prov-info";
    public override string Description => "CERT_KEY_PROV_INFO_PROP_ID (a certificate's link to its private key)";

    public override IEnumerable<Seed> Seeds() =>
        [
            new("built: CAPI link", CertificateSeeds.KeyProviderInfo("IIS Express Development Certificate Container", "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1)),
            new("built: CNG link", CertificateSeeds.KeyProviderInfo("te-WebServer-5c8a4e1b", "Microsoft Software Key Storage Provider", 0, 0x20, 0)),
        ];

    public override void Run(byte[] input) => Consume.All(KeyProviderInfo.Parse(input));
}

/// <summary>Certificate blobs built deterministically (a fixed public key and a fixed signature value), as Windows lays them out.</summary>
internal static class CertificateSeeds
{
    public static byte[] Blob()
    {
        var der = Certificate();
        return [.. Property(2, KeyProviderInfo("le-WebServer-7f3c", "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1)),
            .. Property(3, SHA1.HashData(der)), .. Property(11, Encoding.Unicode.GetBytes("www.example.test\0")),
            .. Property(32, der)];
    }

    public static byte[] KeyProviderInfo(string container, string provider, uint providerType, uint flags, uint keySpec)
    {
        var containerBytes = Encoding.Unicode.GetBytes(container + "\0");
        var providerBytes = Encoding.Unicode.GetBytes(provider + "\0");
        var header = new[] { 28u, 28u + (uint)containerBytes.Length, providerType, flags, 0u, 0u, keySpec };
        return [.. header.SelectMany(BitConverter.GetBytes), .. containerBytes, .. providerBytes];
    }

    private static byte[] Property(uint id, byte[] value) =>
        [.. BitConverter.GetBytes(id), .. BitConverter.GetBytes(1u), .. BitConverter.GetBytes((uint)value.Length), .. value];

    private static byte[] Certificate()
    {
        var modulus = new byte[257];
        for (var i = 1; i < modulus.Length; i++) modulus[i] = (byte)(0xC3 ^ (i * 7));
        modulus[1] |= 0x80;
        modulus[^1] |= 1;
        var rsaKey = new AsnWriter(AsnEncodingRules.DER);
        using (rsaKey.PushSequence())
        {
            rsaKey.WriteIntegerUnsigned(modulus.AsSpan(1));
            rsaKey.WriteInteger(65537);
        }
        var publicKey = new PublicKey(new Oid("1.2.840.113549.1.1.1"), new AsnEncodedData([0x05, 0x00]), new AsnEncodedData(rsaKey.Encode()));
        var subject = new X500DistinguishedName("CN=www.example.test");
        var request = new CertificateRequest(subject, publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(subject, new FixedSignature(publicKey),
            new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), [0x01, 0x23, 0x45]);
        return certificate.RawData;
    }

    /// <summary>sha256RSA with a constant signature value: the reader never verifies it, and the seed stays the same.</summary>
    private sealed class FixedSignature(PublicKey key) : X509SignatureGenerator
    {
        protected override PublicKey BuildPublicKey() => key;
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) =>
            [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00];
        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) => Enumerable.Repeat((byte)0x5A, 256).ToArray();
    }
}
