using System.Security.Cryptography;
using System.Text.RegularExpressions;
using KeyDoctor.Crypto.ProtectedConfig;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Tests.Crypto.ProtectedConfig;

public sealed class ProtectedConfigCryptoTests
{
    private static readonly RSA Key = RSA.Create(2048);
    private static readonly RSA OtherKey = RSA.Create(2048);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrittenSessionKeyAndValueRoundTrip(bool useOaep)
    {
        var sessionKey = RandomNumberGenerator.GetBytes(16);
        var blob = ProtectedConfigCrypto.WrapSessionKey(sessionKey, Key, useOaep);
        Assert.StartsWith("AQIAAA5mAAAApAAA", Convert.ToBase64String(blob)); // as every real sessionKey
        Assert.Equal(268, blob.Length);

        var unwrapped = ProtectedConfigCrypto.TryUnwrapSessionKey(blob, Key.ExportParameters(true), useOaep);
        Assert.Equal(sessionKey, unwrapped);

        var payload = ProtectedConfigCrypto.EncryptValue(sessionKey, "P@ssw0rd");
        Assert.Equal(0, payload.Length % 16);
        Assert.Equal("P@ssw0rd", ProtectedConfigCrypto.TryDecryptValue(unwrapped!, payload));
    }

    [Fact]
    public void AWrongKeyOrPaddingModeDoesNotOpenTheSessionKey()
    {
        var blob = ProtectedConfigCrypto.WrapSessionKey(RandomNumberGenerator.GetBytes(16), Key, useOaep: false);
        Assert.Null(ProtectedConfigCrypto.TryUnwrapSessionKey(blob, OtherKey.ExportParameters(true), useOaep: false));
        Assert.Null(ProtectedConfigCrypto.TryUnwrapSessionKey(blob, Key.ExportParameters(true), useOaep: true));
        using var small = RSA.Create(1024);
        Assert.Null(ProtectedConfigCrypto.TryUnwrapSessionKey(blob, small.ExportParameters(true), useOaep: false));
    }

    [Fact]
    public void AWrongSessionKeyDoesNotOpenAValue()
    {
        var payload = ProtectedConfigCrypto.EncryptValue(RandomNumberGenerator.GetBytes(16), "secret");
        var wrong = RandomNumberGenerator.GetBytes(16);
        // A wrong key passes the PKCS#7 check about 1 time in 256 and must then also find a UTF-16 NUL: allow
        // either null or a string, never an exception, and never the secret.
        Assert.NotEqual("secret", ProtectedConfigCrypto.TryDecryptValue(wrong, payload));
        Assert.Null(ProtectedConfigCrypto.TryDecryptValue(wrong, payload.AsSpan(0, 15)));
    }

    [Theory]
    [InlineData("iis/applicationHost.cc0.config", "256,256")]
    [InlineData("iis/applicationHost.jexus-original.config", "128,128,256,256")]
    public void RealSessionKeysParseAndAnUnrelatedKeyDoesNotOpenThem(string fixture, string wrappedLengths)
    {
        var text = File.ReadAllText(Fixtures.Path(fixture));
        var blobs = Regex.Matches(text, "sessionKey=\"([^\"]+)\"").Select(m => Convert.FromBase64String(m.Groups[1].Value)).ToList();
        Assert.Equal(wrappedLengths, string.Join(",", blobs.Select(b => CapiSimpleBlob.Parse(b).EncryptedKeyLength)));
        foreach (var blob in blobs)
        {
            var header = CapiSimpleBlob.Parse(blob);
            Assert.Equal((CapiAlgorithm.Aes128, CapiAlgorithm.RsaKeyExchange), (header.KeyAlgorithm, header.WrapAlgorithm));
            Assert.Null(ProtectedConfigCrypto.TryUnwrapSessionKey(blob, Key.ExportParameters(true), useOaep: false));
        }
    }

    [Fact]
    public void NotASimpleBlobIsAFormatError() =>
        Assert.Throws<MalformedDataException>(() => ProtectedConfigCrypto.TryUnwrapSessionKey([6, 2, 0, 0], Key.ExportParameters(true), false));

    [Fact]
    public void TruncatedOrBitFlippedRealSessionKeysAreNullOrFormatErrors()
    {
        var text = File.ReadAllText(Fixtures.Path("iis/applicationHost.cc0.config"));
        var blob = Convert.FromBase64String(Regex.Match(text, "sessionKey=\"([^\"]+)\"").Groups[1].Value);
        var key = Key.ExportParameters(true);
        for (var length = 0; length < blob.Length; length += 9)
            try { Assert.Null(ProtectedConfigCrypto.TryUnwrapSessionKey(blob.AsSpan(0, length), key, false)); }
            catch (MalformedDataException) { }
        for (var bit = 0; bit < 16 * 8; bit++)
        {
            var copy = (byte[])blob.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            try { Assert.Null(ProtectedConfigCrypto.TryUnwrapSessionKey(copy, key, false)); }
            catch (MalformedDataException) { }
        }
    }
}
