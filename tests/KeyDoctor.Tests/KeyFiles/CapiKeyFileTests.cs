using System.Security.Cryptography;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Tests.KeyFiles;

public class CapiKeyFileTests
{
    private static readonly Guid MasterKey = Guid.Parse("1eccdbd2-4771-4360-8b19-9d6060a061dc");

    private static CapiKeyFile Mimikatz() => CapiKeyFile.Parse(KeyFixtures.Bytes(KeyFixtures.MimikatzCapi));

    [Fact]
    public void HeaderAndNameOfTheMimikatzWikiFile()
    {
        var file = Mimikatz();
        Assert.Equal(new CapiKeyFileHeader(2, 0, 37, 0, 0, 284, 1614, 20, 0, 252), file.Header);
        Assert.Equal(2247, file.Header.DeclaredFileLength);
        Assert.Equal("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", file.Name);
        Assert.Equal("79e1ac78150e8bea8ad238e14d63145b", ContainerName.Format(file.NameDigest));
        Assert.Equal(new byte[20], file.Hash.ToArray());
        Assert.Empty(file.Errors);
        Assert.Equal(0, file.TrailingLength);
        Assert.Null(file.Signature);
    }

    [Fact]
    public void ExchangeKeyIsRsa2048WithExponent65537()
    {
        var pair = Mimikatz().Exchange!;
        Assert.Equal(KeySpec.KeyExchange, pair.Spec);
        Assert.Equal(new KeyFileSection(KeyFilePart.PublicKey, KeySpec.KeyExchange, 0x61, 284), pair.PublicKeySection);
        Assert.Equal(new KeyFileSection(KeyFilePart.PrivateKeyBlob, KeySpec.KeyExchange, 0x17D, 1614), pair.PrivateKeySection);
        Assert.Equal(new KeyFileSection(KeyFilePart.ExportFlagBlob, KeySpec.KeyExchange, 0x7CB, 252), pair.ExportFlagSection);
        var key = pair.PublicKey!;
        Assert.Equal(CapiRsaPublicKey.Rsa1Magic, key.Magic);
        Assert.Equal(264u, key.KeyLength);
        Assert.Equal(2048u, key.BitLength);
        Assert.Equal(255u, key.DataLength);
        Assert.Equal(65537u, key.Exponent);
        var modulus = key.ModulusBigEndian();
        Assert.Equal(256, modulus.Length);
        Assert.Equal("cea66533c41baf75e40e4fb0943f", Convert.ToHexStringLower(modulus.AsSpan(0, 14)));
        Assert.Equal(new byte[8], key.Modulus.Span[256..].ToArray());
    }

    [Fact]
    public void FingerprintIsSha256OfTheDerSubjectPublicKeyInfo()
    {
        var key = Mimikatz().Exchange!.PublicKey!;
        var info = key.ToPublicKeyInfo();
        Assert.Equal("RSA", info.Algorithm);
        Assert.Equal(2048, info.KeyBits);
        Assert.Equal(65537ul, info.RsaExponent);
        Assert.Equal(KeyFixtures.MimikatzSpkiSha256, info.Sha256);
        // The same bytes the platform (OpenSSL here) produces for this key, as a certificate would carry them.
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = key.ModulusBigEndian(), Exponent = [1, 0, 1] });
        Assert.Equal(rsa.ExportSubjectPublicKeyInfo(), info.SubjectPublicKeyInfo);
    }

    [Fact]
    public void PrivateKeyBlobParsesToItsHeaderFields()
    {
        var blob = Mimikatz().Exchange!.PrivateKey!;
        Assert.Equal(0x17D, blob.BaseOffset);
        Assert.Equal(1u, blob.Version);
        Assert.Equal(DpapiBlob.DefaultProvider, blob.ProviderGuid);
        Assert.Equal(1u, blob.MasterKeyVersion);
        Assert.Equal(MasterKey, blob.MasterKeyGuid);
        Assert.Equal(DpapiBlobFlags.None, blob.Flags);
        Assert.Equal("Clé privée CryptoAPI", blob.Description);
        Assert.Equal(42, blob.DescriptionBytes.Length);
        Assert.Equal(0x6610u, blob.CryptAlgorithm);
        Assert.Equal("AES-256", blob.CryptAlgorithmName);
        Assert.Equal(256u, blob.CryptAlgorithmBits);
        Assert.Equal("27e9175d0d9bbaa8", Convert.ToHexStringLower(blob.Salt.Span[..8]));
        Assert.Equal(32, blob.Salt.Length);
        Assert.Equal(0, blob.HmacKey.Length);
        Assert.Equal(0x800Eu, blob.HashAlgorithm);
        Assert.Equal("SHA-512", blob.HashAlgorithmName);
        Assert.Equal(512u, blob.HashAlgorithmBits);
        Assert.Equal("898f558b700ccffc", Convert.ToHexStringLower(blob.HmacSalt.Span[..8]));
        Assert.Equal(1360, blob.CipherText.Length);
        Assert.Equal(64, blob.Signature.Length);
        Assert.Equal(1614, blob.Length);
        var layout = blob.Layout;
        Assert.Equal(0x233 - 0x17D, layout.CipherTextLengthOffset);
        Assert.Equal(0x787 - 0x17D, layout.SignatureLengthOffset);
        Assert.Equal(new Range(0x14, 0x787 - 0x17D), blob.SignedRange);
    }

    [Fact]
    public void ExportFlagBlobParsesToItsHeaderFields()
    {
        var blob = Mimikatz().Exchange!.ExportFlag!;
        Assert.Equal(0x7CB, blob.BaseOffset);
        Assert.Equal(MasterKey, blob.MasterKeyGuid);
        Assert.Equal("Export Flag", blob.Description);
        Assert.Equal("AES-256", blob.CryptAlgorithmName);
        Assert.Equal("SHA-512", blob.HashAlgorithmName);
        Assert.Equal(16, blob.CipherText.Length);
        Assert.Equal(64, blob.Signature.Length);
        Assert.Equal(252, blob.Length);
    }

    [Fact]
    public void DpapiBlobSerialisesBackToTheExactBytes()
    {
        var bytes = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        var blob = Mimikatz().Exchange!.PrivateKey!;
        Assert.Equal(bytes.AsSpan(0x17D, 1614).ToArray(), blob.ToArray());
        Assert.Equal(bytes.AsSpan(0x17D + 0x14, 0x787 - 0x17D - 0x14).ToArray(), blob.SignedBytes());
    }

    [Fact]
    public void WriterRoundTripsTheRealFileByteForByte()
    {
        var bytes = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        var content = Mimikatz().ToContent()!;
        Assert.Equal(bytes, CapiKeyFileWriter.Write(content));
    }

    [Fact]
    public void WriterBuildsTheRealFileFromItsFields()
    {
        // Built from the fields the mimikatz wiki publishes: name, modulus and exponent, and the two blobs'
        // fields, with no raw section copied from the file.
        var original = Mimikatz().Exchange!;
        DpapiBlob Rebuild(DpapiBlob b) => new()
        {
            MasterKeyGuid = MasterKey,
            Flags = DpapiBlobFlags.None,
            DescriptionBytes = DpapiBlob.EncodeDescription(b.Description),
            CryptAlgorithm = 0x6610,
            CryptAlgorithmBits = 256,
            Salt = b.Salt.ToArray(),
            HashAlgorithm = 0x800E,
            HashAlgorithmBits = 512,
            HmacSalt = b.HmacSalt.ToArray(),
            CipherText = b.CipherText.ToArray(),
            Signature = b.Signature.ToArray(),
        };
        var content = new CapiKeyFileContent("ffb75517-bc6c-4a40-8f8b-e2c555e30e34")
        {
            Exchange = new CapiKeyPairContent(
                CapiRsaPublicKey.Create(original.PublicKey!.ModulusBigEndian(), 65537),
                Rebuild(original.PrivateKey!),
                Rebuild(original.ExportFlag!)),
        };
        Assert.Equal(KeyFixtures.Bytes(KeyFixtures.MimikatzCapi), CapiKeyFileWriter.Write(content));
    }

    [Fact]
    public void TruncatedHeaderAndBodyThrowWithOffsets()
    {
        var bytes = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        var header = Assert.Throws<MalformedDataException>(() => CapiKeyFile.Parse(bytes.AsMemory(0, 39)));
        Assert.Equal(39, header.Offset);
        var body = Assert.Throws<MalformedDataException>(() => CapiKeyFile.Parse(bytes.AsMemory(0, 2000)));
        Assert.Equal(2000, body.Offset);
        Assert.Contains("2247", body.Message);
    }

    [Fact]
    public void CorruptBlobIsReportedAsDataAndTheRestStillReads()
    {
        var bytes = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        bytes[0x233] = 0xFF; // cipher-text length of the private-key blob: now far past the section
        bytes[0x234] = 0xFF;
        var file = CapiKeyFile.Parse(bytes);
        Assert.Null(file.Exchange!.PrivateKey);
        Assert.NotNull(file.Exchange.PublicKey);
        Assert.NotNull(file.Exchange.ExportFlag);
        var error = Assert.Single(file.Errors);
        Assert.Equal(KeyFilePart.PrivateKeyBlob, error.Section.Part);
        Assert.Equal(0x233, error.Offset);
        Assert.Null(file.ToContent());
    }
}
