using System.Security.Cryptography;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Tests.KeyFiles;

public class CngKeyFileTests
{
    [Fact]
    public void NemesisChromeKeyParses()
    {
        var file = CngKeyFile.Parse(KeyFixtures.Bytes(KeyFixtures.ChromeCng));
        Assert.Equal(1u, file.Header.Version);
        Assert.Equal(0x22u, file.Header.NameLength);
        Assert.Equal((ushort)2, file.Header.Type);
        Assert.Equal((ushort)1, file.Header.PropertyCount);
        Assert.Equal(0x104u, file.Header.PublicPropertiesLength);
        Assert.Equal(0x152u, file.Header.PrivatePropertiesLength);
        Assert.Equal(0x11Cu, file.Header.PrivateKeyLength);
        Assert.Equal(960, file.Header.DeclaredFileLength);
        Assert.Equal("Google Chromekey1", file.Name);
        Assert.Equal("7096db7aeb75c0d3497ecd56d355a695", ContainerName.Format(file.NameDigest));
        Assert.Empty(file.Errors);
        Assert.Equal(0, file.TrailingLength);

        Assert.Equal(["Modified", "CreatorProcessName"], file.PublicProperties.Select(p => p.Name));
        Assert.Equal(0x4E, file.PublicProperties[0].Offset);
        Assert.Equal(0u, file.PublicProperties[0].Type);
        Assert.Equal(0x20u, file.PublicProperties[1].Type);
        Assert.Equal(@"C:\Program Files\Google\Chrome\Application\141.0.7390.108\elevation_service.exe",
            file.PublicProperties[1].AsText);
        Assert.Equal(DateTime.FromFileTimeUtc(0x01dc3d59e8da8f43), file.Modified);
        Assert.Null(file.PublicKey); // an AES (KDBM) key has no public part

        var systemUserMasterKey = Guid.Parse("fb1190c1-123d-45f8-95f4-32aee28fe2eb");
        Assert.Equal(new KeyFileSection(KeyFilePart.PrivatePropertiesBlob, null, 0x152, 0x152), file.PrivatePropertiesSection);
        Assert.Equal(new KeyFileSection(KeyFilePart.PrivateKeyBlob, null, 0x2A4, 0x11C), file.PrivateKeySection);
        Assert.Equal(systemUserMasterKey, file.PrivateProperties!.MasterKeyGuid);
        Assert.Equal("Private Key Properties", file.PrivateProperties.Description);
        Assert.Equal(systemUserMasterKey, file.PrivateKey!.MasterKeyGuid);
        Assert.Equal("Private Key", file.PrivateKey.Description);
        Assert.Equal(DpapiBlobFlags.None, file.PrivateKey.Flags);
        Assert.Equal("AES-256", file.PrivateKey.CryptAlgorithmName);
        Assert.Equal("SHA-512", file.PrivateKey.HashAlgorithmName);
        Assert.Equal(0x2A4, file.PrivateKey.BaseOffset);
        Assert.Equal(0x11C, file.PrivateKey.Length);
    }

    [Fact]
    public void EcdsaUserKeyParsesWithItsPublicKey()
    {
        var file = CngKeyFile.Parse(KeyFixtures.Bytes(KeyFixtures.EcdsaCng));
        Assert.Equal("Microsoft Connected Devices Platform device certificate", file.Name);
        Assert.Equal((ushort)4, file.Header.Type);
        Assert.Equal((ushort)3, file.Header.PropertyCount);
        Assert.Empty(file.Errors);
        Assert.Equal(["Modified", ""], file.PublicProperties.Select(p => p.Name));
        Assert.Equal(10u, file.PublicProperties[1].Type);
        var key = file.PublicKey!;
        Assert.Equal("ECDSA_P256", key.Algorithm);
        Assert.Equal(256, key.KeyBits);
        Assert.Null(key.RsaExponent);
        Assert.Equal(KeyFixtures.EcdsaSpkiSha256, key.Sha256);

        // 3DES / SHA-1 blobs, as the published dump shows.
        Assert.Equal("3DES", file.PrivateKey!.CryptAlgorithmName);
        Assert.Equal(192u, file.PrivateKey.CryptAlgorithmBits);
        Assert.Equal("SHA-1", file.PrivateKey.HashAlgorithmName);
        Assert.Equal(20, file.PrivateKey.Signature.Length);
        Assert.Equal(Guid.Parse("5c22983f-77ee-41e4-9086-8073d664e417"), file.PrivateKey.MasterKeyGuid);

        // Cross-check against the platform's own encoder.
        var bytes = KeyFixtures.Bytes(KeyFixtures.EcdsaCng);
        var ecs1 = bytes.AsSpan().IndexOf("ECS1"u8);
        using var ec = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = bytes.AsSpan(ecs1 + 8, 32).ToArray(), Y = bytes.AsSpan(ecs1 + 40, 32).ToArray() },
        });
        Assert.Equal(ec.ExportSubjectPublicKeyInfo(), key.SubjectPublicKeyInfo);
    }

    [Fact]
    public void BcryptRsaPublicBlobGivesTheSameFingerprintAsTheCapiSection()
    {
        // The mimikatz key as a BCRYPT_RSAPUBLIC_BLOB: the same key must hash the same in both stores.
        var capi = CapiKeyFile.Parse(KeyFixtures.Bytes(KeyFixtures.MimikatzCapi)).Exchange!.PublicKey!;
        var modulus = capi.ModulusBigEndian();
        var blob = new byte[24 + 3 + modulus.Length];
        BitConverter.GetBytes(0x31415352u).CopyTo(blob, 0);
        BitConverter.GetBytes(2048u).CopyTo(blob, 4);
        BitConverter.GetBytes(3u).CopyTo(blob, 8);
        BitConverter.GetBytes((uint)modulus.Length).CopyTo(blob, 12);
        blob[24] = 1; blob[25] = 0; blob[26] = 1;
        modulus.CopyTo(blob, 27);
        Assert.True(BcryptPublicKeyBlob.IsPublicKeyBlob(blob));
        Assert.Equal(KeyFixtures.MimikatzSpkiSha256, BcryptPublicKeyBlob.Parse(blob).Sha256);
    }
}
