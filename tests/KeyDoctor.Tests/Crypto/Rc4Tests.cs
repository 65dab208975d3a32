using KeyDoctor.Crypto;

namespace KeyDoctor.Tests.Crypto;

/// <summary>Keystream vectors from RFC 6229 ("Test Vectors for the Stream Cipher RC4"), section 2.</summary>
public sealed class Rc4Tests
{
    [Theory]
    [InlineData("0102030405", 0, "B2396305F03DC027CCC3524A0A1118A8")]
    [InlineData("0102030405", 16, "6982944F18FC82D589C403A47A0D0919")]
    [InlineData("0102030405", 240, "28CB1132C96CE286421DCAADB8B69EAE")]
    [InlineData("0102030405", 4096, "FF25B58995996707E51FBDF08B34D875")]
    [InlineData("0102030405060708", 0, "97AB8A1BF0AFB96132F2F67258DA15A8")]
    [InlineData("0102030405060708", 256, "D0A990FF2C05FEF5B90373C9FF4B870A")]
    [InlineData("0102030405060708090A0B0C0D0E0F10", 0, "9AC7CC9A609D1EF7B2932899CDE41B97")]
    [InlineData("0102030405060708090A0B0C0D0E0F10", 240, "065902E4B620F6CC36C8589F66432F2B")]
    [InlineData("0102030405060708090A0B0C0D0E0F10", 4096, "A36A4C301AE8AC13610CCBC12256CACC")]
    public void KeystreamMatchesRfc6229(string keyHex, int offset, string expectedHex)
    {
        var keystream = new byte[offset + 16]; // XOR over zeros yields the keystream itself.
        Rc4.Apply(Convert.FromHexString(keyHex), keystream);
        Assert.Equal(expectedHex, Convert.ToHexString(keystream, offset, 16));
    }

    [Fact]
    public void ApplyingTwiceRestoresThePlaintext()
    {
        var data = "IIS 6 metabase secret"u8.ToArray();
        Rc4.Apply([7, 7, 7], data);
        Rc4.Apply([7, 7, 7], data);
        Assert.Equal("IIS 6 metabase secret"u8.ToArray(), data);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void RejectsKeysOutsideOneTo256Bytes(int length) =>
        Assert.Throws<ArgumentException>(() => Rc4.Apply(new byte[length], new byte[4]));
}
