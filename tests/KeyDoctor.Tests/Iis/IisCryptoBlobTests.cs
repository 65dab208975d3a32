using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Crypto;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Tests.Iis;

public class IisCryptoBlobTests
{
    private static readonly (RSA Exchange, RSA Signature) Keys = IisSamples.MetabaseKeys();

    [Fact]
    public void WrittenSessionKeyParsesWithSpecLengthsAndAValidSignature()
    {
        var blob = MetabaseBlobWriter.SessionKey([1, 2, 3, 4, 5], Keys.Exchange, Keys.Signature);

        // 8 header + 8 lengths + 76 SIMPLEBLOB + 4 padding + 64 signature: the 160 bytes of a real metabase key.
        Assert.Equal(160, blob.Length);
        Assert.Equal("IcKb"u8.ToArray(), blob[..4]);
        var parsed = Assert.IsType<IisSessionKeyBlob>(IisCryptoBlob.Parse(blob));
        Assert.Equal((152, 76, 64, 4), (parsed.BlobDataLength, parsed.EncryptedSessionKeyLength, parsed.SignedHashLength, parsed.PaddingLength));
        Assert.Equal((CapiAlgorithm.Rc4, CapiAlgorithm.RsaKeyExchange, 512),
            (parsed.SimpleBlob.KeyAlgorithm, parsed.SimpleBlob.WrapAlgorithm, parsed.SimpleBlob.WrappingKeyBits));
        Assert.Empty(parsed.Warnings);
        Assert.True(parsed.VerifySignature(Keys.Signature));
        Assert.False(parsed.VerifySignature(Keys.Exchange)); // another container's key: IISADMIN's 0x80090006
    }

    [Fact]
    public void WrappedKeyIsStoredLittleEndian()
    {
        var blob = MetabaseBlobWriter.SessionKey([9, 8, 7, 6, 5], Keys.Exchange, Keys.Signature);
        var wrapped = blob.AsSpan(16 + 12, 64).ToArray();
        Array.Reverse(wrapped);
        Assert.Equal(new byte[] { 9, 8, 7, 6, 5 }, Keys.Exchange.Decrypt(wrapped, RSAEncryptionPadding.Pkcs1));
    }

    [Fact]
    public void ResearchSampleHeaderWithGarbagePaddingParses()
    {
        // Header of a real IIS 6 session key (research notes §1.2): 'IcKb', 152, 76, 64, RC4/RSA_KEYX, pad 3d004300.
        var blob = new byte[160];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, IisCryptoBlob.SessionKeySignature);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), 152);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), 76);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(12), 64);
        Convert.FromHexString("0102000001680000" + "00a40000").CopyTo(blob, 16);
        Convert.FromHexString("3d004300").CopyTo(blob, 92);

        var parsed = Assert.IsType<IisSessionKeyBlob>(IisCryptoBlob.Parse(blob));
        Assert.Equal("CALG_RC4", parsed.SimpleBlob.KeyAlgorithmName);
        Assert.Empty(parsed.Warnings);
        Assert.False(parsed.VerifySignature(Keys.Signature)); // all-zero signature
    }

    [Fact]
    public void WrittenEncryptedDataParsesAndKeepsNoPlaintext()
    {
        var secret = Encoding.Unicode.GetBytes("P@ssw0rd\0"); // 18 bytes
        var blob = MetabaseBlobWriter.EncryptedData(secret, [1, 2, 3, 4, 5], Keys.Signature);

        var parsed = Assert.IsType<IisEncryptedDataBlob>(IisCryptoBlob.ParseHex(IisCryptoBlobWriter.ToHex(blob)));
        Assert.Equal((22, 64, 2), (parsed.EncryptedDataLength, parsed.SignedHashLength, parsed.PaddingLength));
        Assert.Equal(8 + 8 + 22 + 2 + 64, parsed.TotalLength);
        Assert.False(parsed.EncryptedData.Span.IndexOf(secret) >= 0);
    }

    [Fact]
    public void Rc4MatchesTheClassicTestVector()
    {
        var data = "Plaintext"u8.ToArray();
        Rc4.Apply("Key"u8, data);
        Assert.Equal("BBF316E8D940AF0AD3", Convert.ToHexString(data));
    }

    [Fact]
    public void PublicKeyBlobRoundTrips()
    {
        var blob = MetabaseBlobWriter.PublicKey(Keys.Signature, signatureKey: true);
        var parsed = Assert.IsType<IisPublicKeyBlob>(IisCryptoBlob.Parse(blob));
        Assert.Equal((CapiAlgorithm.RsaSign, 512, 65537u), (parsed.AlgorithmId, parsed.BitLength, parsed.PublicExponent));
        Assert.Empty(parsed.Warnings);

        using var imported = RSA.Create(parsed.ToRsaParameters());
        var session = Assert.IsType<IisSessionKeyBlob>(IisCryptoBlob.Parse(
            MetabaseBlobWriter.SessionKey([7, 7, 7, 7, 7], Keys.Exchange, Keys.Signature)));
        Assert.True(session.VerifySignature(imported));
    }

    [Fact]
    public void HashAndCleartextBlobsParse()
    {
        var hash = new byte[8 + 8 + 16];
        BinaryPrimitives.WriteUInt32LittleEndian(hash, IisCryptoBlob.HashSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(hash.AsSpan(4), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(hash.AsSpan(8), 16);
        Assert.Equal(16, Assert.IsType<IisHashBlob>(IisCryptoBlob.Parse(hash)).Hash.Length);

        var clear = new byte[8 + 5];
        BinaryPrimitives.WriteUInt32LittleEndian(clear, IisCryptoBlob.CleartextDataSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(clear.AsSpan(4), 5);
        Assert.Equal(5, Assert.IsType<IisCleartextBlob>(IisCryptoBlob.Parse(clear)).BlobDataLength);
    }

    [Fact]
    public void DamageIsReportedWithTheOffsetOfTheBadField()
    {
        var good = MetabaseBlobWriter.SessionKey([1, 2, 3, 4, 5], Keys.Exchange, Keys.Signature);

        var badSignature = good.ToArray();
        badSignature[0] = (byte)'X';
        Assert.Equal(0, Assert.Throws<MalformedDataException>(() => IisCryptoBlob.Parse(badSignature)).Offset);

        var truncated = good[..100];
        var ex = Assert.Throws<MalformedDataException>(() => IisCryptoBlob.Parse(truncated));
        Assert.Equal((4L, "BlobDataLength is 152 but only 92 bytes follow the header"), (ex.Offset, ex.Reason));

        var wrongKeyLength = good.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(wrongKeyLength.AsSpan(8), 100);
        ex = Assert.Throws<MalformedDataException>(() => IisCryptoBlob.Parse(wrongKeyLength));
        Assert.Equal((12L, "EncryptedSessionKeyLength 100 + padding 4 + SignedHashLength 64 needs BlobDataLength 176, but BlobDataLength is 152"),
            (ex.Offset, ex.Reason));

        var notSimpleBlob = good.ToArray();
        notSimpleBlob[16] = 7;
        ex = Assert.Throws<MalformedDataException>(() => IisCryptoBlob.Parse(notSimpleBlob));
        Assert.Equal((16L, "bType is 7, not SIMPLEBLOB (1)"), (ex.Offset, ex.Reason));

        ex = Assert.Throws<MalformedDataException>(() => IisCryptoBlob.ParseHex("49634b6298000"));
        Assert.Contains("odd number of hex digits", ex.Reason);
        ex = Assert.Throws<MalformedDataException>(() => IisCryptoBlob.ParseHex("49634b62zz"));
        Assert.Equal((4L, "'zz' is not a hex byte"), (ex.Offset, ex.Reason));
    }

    [Fact]
    public void TrailingBytesAndUnusualAlgorithmsAreWarnings()
    {
        var blob = MetabaseBlobWriter.SessionKey([1, 2, 3, 4, 5], Keys.Exchange, Keys.Signature, CapiAlgorithm.Aes128);
        var parsed = IisCryptoBlob.Parse([.. blob, 0, 0, 0]);
        Assert.Equal(["3 bytes follow the blob", "session key algorithm is CALG_AES_128; MS-IMSA requires CALG_RC4"], parsed.Warnings);
    }

    [Fact]
    public void BitFlipsGiveMalformedDataOrAParseNeverAnotherException()
    {
        var blobs = new[]
        {
            MetabaseBlobWriter.SessionKey([1, 2, 3, 4, 5], Keys.Exchange, Keys.Signature),
            MetabaseBlobWriter.EncryptedData([1, 2, 3], [1, 2, 3, 4, 5], Keys.Signature),
            MetabaseBlobWriter.PublicKey(Keys.Exchange, signatureKey: false),
        };
        var random = new Random(2);
        foreach (var original in blobs)
        {
            for (var length = 0; length < original.Length; length++) ParseOrMalformed(original[..length]);
            for (var i = 0; i < 2000; i++)
            {
                var copy = original.ToArray();
                copy[random.Next(Math.Min(copy.Length, 48))] ^= (byte)(1 << random.Next(8));
                ParseOrMalformed(copy);
            }
        }

        static void ParseOrMalformed(byte[] data)
        {
            try
            {
                if (IisCryptoBlob.Parse(data) is IisSessionKeyBlob session) session.VerifySignature(Keys.Signature);
            }
            catch (MalformedDataException)
            {
            }
        }
    }
}
