using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyDoctor.Crypto.Dpapi;
using static KeyDoctor.Crypto.KeySets.RecoveredKeyAlgorithm;
using KeyDoctor.Formats;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Tests.KeyFiles;

/// <summary>CAPI 'RSA2' and CNG BCRYPT private key blobs, on the mimikatz-wiki key and on keys made here.</summary>
public class PrivateKeyBlobTests
{
    private const string WikiKeyFile = "keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    private static readonly byte[] WikiMasterKey = Convert.FromHexString(
        "d3fb9169447509d9a2d3d4f6fc0e84b4733a676add274094f91452b8fe4984ab8fe02326c8be8931122514b90f8d850205bb1a84db54fc72d1cffb521377bafc");

    internal static byte[] WikiPrivateKeyPlaintext()
    {
        var file = CapiKeyFile.Parse(Fixtures.Bytes(WikiKeyFile));
        var result = DpapiBlobDecryptor.Decrypt(file.Exchange!.PrivateKey!, WikiMasterKey);
        Assert.True(result.Success, result.Failure);
        return result.Plaintext!;
    }

    [Fact]
    public void WikiCapiKeyRebuildsAndMatchesTheFilesPublicKey()
    {
        var file = CapiKeyFile.Parse(Fixtures.Bytes(WikiKeyFile));
        var plaintext = WikiPrivateKeyPlaintext();
        Assert.Equal(1348, plaintext.Length);
        var key = CapiPrivateKeyBlob.Parse(plaintext);
        Assert.Equal("RSA", key.Algorithm);
        Assert.Equal(2048, key.KeyBits);
        Assert.Equal([1, 0, 1], key.Rsa!.Value.Exponent);
        Assert.Equal(file.Exchange!.PublicKey!.ModulusBigEndian(), key.Rsa.Value.Modulus);
        Assert.Equal(file.Exchange.PublicKey.ToPublicKeyInfo().Sha256, key.PublicKey!.Sha256);
        // .NET accepts the parameters and signs/verifies with them.
        using var rsa = (RSA)key.CreateAlgorithm()!;
        var signature = rsa.SignData("data"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(rsa.VerifyData("data"u8.ToArray(), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.DoesNotContain("d3fb", key.ToString());
    }

    [Fact]
    public void CapiBlobWithAFlippedPrimeIsRejected()
    {
        var plaintext = WikiPrivateKeyPlaintext();
        plaintext[20 + 264 + 5] ^= 1; // inside P
        Assert.Throws<MalformedDataException>(() => CapiPrivateKeyBlob.Parse(plaintext));
    }

    [Fact]
    public void TruncatedAndFlippedCapiBlobsGiveMalformedData()
    {
        var plaintext = WikiPrivateKeyPlaintext();
        for (var length = 0; length < 1208; length += 13) // 1208 = 20 + 2 × 264 + 5 × 132
            Assert.Throws<MalformedDataException>(() => CapiPrivateKeyBlob.Parse(plaintext.AsSpan(0, length)));
        for (var bit = 0; bit < 20 * 8; bit++)
        {
            var copy = (byte[])plaintext.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var error = Record.Exception(() => CapiPrivateKeyBlob.Parse(copy));
            Assert.True(error is null or MalformedDataException, error?.ToString());
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BcryptRsaPrivateBlobsRebuildTheKey(bool full)
    {
        using var source = RSA.Create(2048);
        var p = source.ExportParameters(true);
        var blob = BcryptRsaBlob(p, full);
        var key = BcryptPrivateKeyBlob.Parse(blob);
        Assert.Equal(p.Modulus, key.Rsa!.Value.Modulus);
        using var rebuilt = (RSA)key.CreateAlgorithm()!;
        var signature = rebuilt.SignData("x"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(source.VerifyData("x"u8.ToArray(), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(source.ExportSubjectPublicKeyInfo())), key.PublicKey!.Sha256);
    }

    [Fact]
    public void BcryptEcPrivateBlobRebuildsTheKey()
    {
        using var source = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = source.ExportParameters(true);
        var blob = new byte[8 + 96];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, 0x32534345); // ECS2
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), 32);
        p.Q.X!.CopyTo(blob, 8);
        p.Q.Y!.CopyTo(blob, 40);
        p.D!.CopyTo(blob, 72);
        var key = BcryptPrivateKeyBlob.Parse(blob);
        Assert.Equal("ECDSA_P256", key.Algorithm);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(source.ExportSubjectPublicKeyInfo())), key.PublicKey!.Sha256);
        using var rebuilt = (ECDsa)key.CreateAlgorithm()!;
        Assert.True(source.VerifyData("x"u8.ToArray(), rebuilt.SignData("x"u8.ToArray(), HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void NemesisKdbmBlobIsASymmetricKey()
    {
        var key = BcryptPrivateKeyBlob.Parse(Convert.FromHexString(
            "4b44424d0100000020000000442ad62f22c9bc1bf2c9a67a4cfc5ac0d3b660b4e431f6b2232c8a730fbc1e21"));
        Assert.Equal("AES", key.Algorithm);
        Assert.Equal(256, key.KeyBits);
        Assert.False(key.IsAsymmetric);
    }

    [Fact]
    public void TruncatedBcryptBlobsGiveMalformedData()
    {
        using var source = RSA.Create(1024);
        var blob = BcryptRsaBlob(source.ExportParameters(true), true);
        for (var length = 0; length < blob.Length; length += 7)
            Assert.Throws<MalformedDataException>(() => BcryptPrivateKeyBlob.Parse(blob.AsSpan(0, length)));
    }

    internal static byte[] BcryptRsaBlob(RSAParameters p, bool full)
    {
        var parts = new List<byte[]> { p.Exponent!, p.Modulus!, p.P!, p.Q! };
        if (full) parts.AddRange([p.DP!, p.DQ!, p.InverseQ!, p.D!]);
        var blob = new byte[24 + parts.Sum(x => x.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, full ? 0x33415352u : 0x32415352u);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(4), p.Modulus!.Length * 8);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(8), p.Exponent!.Length);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(12), p.Modulus.Length);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(16), p.P!.Length);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(20), p.Q!.Length);
        var offset = 24;
        foreach (var part in parts) { part.CopyTo(blob, offset); offset += part.Length; }
        return blob;
    }
}
