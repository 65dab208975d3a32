using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Tests.KeyFiles;

public class DpapiBlobTests
{
    [Fact]
    public void BareNemesisBlobParsesAndSerialisesBack()
    {
        // Nemesis old_format dpapi_blob.bin: 3DES / SHA-1, empty description, decrypts to "This is a test.".
        var bytes = KeyFixtures.Bytes("keys/nemesis/dpapi_blob.bin");
        var blob = DpapiBlob.Parse(bytes);
        Assert.Equal(Guid.Parse("ab998260-e99d-4871-8f4b-d922b2848ce6"), blob.MasterKeyGuid);
        Assert.Equal(DpapiBlobFlags.None, blob.Flags);
        Assert.Equal("", blob.Description);
        Assert.Equal(2, blob.DescriptionBytes.Length);
        Assert.Equal("3DES", blob.CryptAlgorithmName);
        Assert.Equal(192u, blob.CryptAlgorithmBits);
        Assert.Equal(16, blob.Salt.Length);
        Assert.Equal("SHA-1", blob.HashAlgorithmName);
        Assert.Equal(160u, blob.HashAlgorithmBits);
        Assert.Equal(16, blob.HmacSalt.Length);
        Assert.Equal(16, blob.CipherText.Length);
        Assert.Equal(20, blob.Signature.Length);
        Assert.Equal(0x72, blob.Layout.CipherTextOffset);
        Assert.Equal(0x82, blob.Layout.SignatureLengthOffset);
        Assert.Equal(bytes.Length, blob.Length);
        Assert.Equal(bytes, blob.ToArray());
        Assert.Equal(bytes[0x14..0x82], blob.SignedBytes());
        Assert.True(DpapiBlob.StartsWithBlobHeader(bytes));
    }

    [Fact]
    public void ExactSlicingIsEnforcedAndPrefixParsingReportsTheLength()
    {
        var bytes = KeyFixtures.Bytes("keys/nemesis/dpapi_blob.bin");
        var padded = bytes.Concat(new byte[3]).ToArray();
        var error = Assert.Throws<MalformedDataException>(() => DpapiBlob.Parse(padded, 100));
        Assert.Equal(100 + bytes.Length, error.Offset);
        DpapiBlob.ParsePrefix(padded, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
    }

    [Fact]
    public void EveryTruncationThrowsMalformedDataWithAnOffsetInside()
    {
        var bytes = KeyFixtures.Bytes("keys/nemesis/blob_with_entropy.bin");
        Assert.Equal(bytes, DpapiBlob.Parse(bytes).ToArray());
        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<MalformedDataException>(() => DpapiBlob.Parse(bytes.AsMemory(0, length)));
            Assert.InRange(error.Offset, 0, length);
        }
    }
}
