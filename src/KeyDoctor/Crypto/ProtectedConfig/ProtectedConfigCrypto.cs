using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Crypto.ProtectedConfig;

/// <summary>
/// The IIS 7+ AesProvider / IISWASOnlyAesProvider scheme (research notes iiscrypto.md §3.2-3.3): the provider's
/// <c>sessionKey</c> is a CryptoAPI SIMPLEBLOB holding an AES-128 key RSA-encrypted (PKCS#1 v1.5, or OAEP when
/// <c>useOAEP="true"</c>) to the container's AT_KEYEXCHANGE key, cipher text little-endian. Each
/// <c>[enc:Provider:base64:enc]</c> value is AES-CBC with a zero IV over
/// <c>[4 random bytes][UTF-16LE secret][00 00][0-15 random bytes]</c>, PKCS#7 padded, without a MAC.
/// The native RSA providers (IISWASOnlyRsaProvider, IISRsaProvider, type "") have no sessionKey: each value carries
/// its own wrapped key, see <see cref="RsaProviderValue"/>.
/// </summary>
public static class ProtectedConfigCrypto
{
    private const int AesBlock = 16;
    private const int DesBlock = 8;

    /// <summary>
    /// Unwraps the session key with <paramref name="key"/>, or returns null when this key does not open it
    /// (a wrong key is an answer, not an error). A blob that is not a SIMPLEBLOB throws MalformedDataException.
    /// </summary>
    public static byte[]? TryUnwrapSessionKey(ReadOnlySpan<byte> simpleBlob, RSAParameters key, bool useOaep)
    {
        var header = CapiSimpleBlob.Parse(simpleBlob);
        var expectedLength = SessionKeyLength(header.KeyAlgorithm);
        if (key.Modulus is null || header.EncryptedKeyLength != key.Modulus.Length) return null;
        var sessionKey = CapiRsa.TryDecrypt(simpleBlob[CapiSimpleBlob.HeaderLength..], key, useOaep ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.Pkcs1);
        return sessionKey is null || (expectedLength is { } length && sessionKey.Length != length) ? null : sessionKey;
    }

    /// <summary>Wraps <paramref name="sessionKey"/> for <paramref name="key"/> as IIS writes it (a SIMPLEBLOB).</summary>
    public static byte[] WrapSessionKey(ReadOnlySpan<byte> sessionKey, RSA key, bool useOaep, uint keyAlgorithm = CapiAlgorithm.Aes128) =>
        CapiRsa.WrapSessionKey(sessionKey, key, useOaep ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.Pkcs1, keyAlgorithm);

    /// <summary>Encrypts <paramref name="secret"/> into the payload of an <c>[enc:...:enc]</c> value.</summary>
    public static byte[] EncryptValue(ReadOnlySpan<byte> sessionKey, string secret)
    {
        var text = Encoding.Unicode.GetBytes(secret);
        var filler = RandomNumberGenerator.GetInt32(AesBlock);
        var plain = new byte[4 + text.Length + 2 + filler];
        RandomNumberGenerator.Fill(plain.AsSpan(0, 4));
        text.CopyTo(plain, 4);
        RandomNumberGenerator.Fill(plain.AsSpan(4 + text.Length + 2));
        using var aes = Aes.Create();
        aes.Key = sessionKey.ToArray();
        return aes.EncryptCbc(plain, new byte[AesBlock], PaddingMode.PKCS7);
    }

    /// <summary>
    /// Decrypts an <c>[enc:...:enc]</c> payload, or returns null when the session key does not open it (bad padding,
    /// no NUL terminator, a length that is not whole blocks).
    /// </summary>
    public static string? TryDecryptValue(ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> cipherText) =>
        TryDecryptFramed(CapiAlgorithm.Aes128, sessionKey, cipherText);

    /// <summary>
    /// Encrypts <paramref name="secret"/> as a native RSA provider value: a fresh 3DES key (CryptoAPI CALG_3DES,
    /// CBC, zero IV, PKCS#7) wrapped for <paramref name="key"/>, over <c>[4 random bytes][UTF-16LE secret][00 00]</c>.
    /// </summary>
    public static byte[] EncryptRsaValue(string secret, RSA key, bool useOaep, uint algorithm = CapiAlgorithm.TripleDes)
    {
        var symmetricKey = RandomNumberGenerator.GetBytes(SessionKeyLength(algorithm) ?? throw new ArgumentException($"{CapiAlgorithm.Name(algorithm)} is not a supported value cipher"));
        var text = Encoding.Unicode.GetBytes(secret);
        var plain = new byte[4 + text.Length + 2];
        RandomNumberGenerator.Fill(plain.AsSpan(0, 4));
        text.CopyTo(plain, 4);
        using var cipher = CreateCipher(algorithm, symmetricKey)!;
        var cipherText = cipher.EncryptCbc(plain, new byte[cipher.BlockSize / 8], PaddingMode.PKCS7);
        return RsaProviderValue.Build(WrapSessionKey(symmetricKey, key, useOaep, algorithm), cipherText);
    }

    /// <summary>Unwraps a native RSA provider value's own key with <paramref name="key"/>; null when this key does not open it.</summary>
    public static byte[]? TryUnwrapRsaValueKey(RsaProviderValue value, RSAParameters key, bool useOaep) =>
        TryUnwrapSessionKey(value.SimpleBlob.Span, key, useOaep);

    /// <summary>Decrypts a native RSA provider value with its unwrapped key; null when the clear text does not fit the framing.</summary>
    public static string? TryDecryptRsaValue(RsaProviderValue value, ReadOnlySpan<byte> valueKey) =>
        TryDecryptFramed(value.Header.KeyAlgorithm, valueKey, value.CipherText.Span);

    /// <summary>The same value with its key re-wrapped for <paramref name="newKey"/>; the cipher text is kept as it is.</summary>
    public static byte[] RewrapRsaValue(RsaProviderValue value, ReadOnlySpan<byte> valueKey, RSA newKey, bool useOaep) =>
        RsaProviderValue.Build(WrapSessionKey(valueKey, newKey, useOaep, value.Header.KeyAlgorithm), value.CipherText.Span);

    private static SymmetricAlgorithm? CreateCipher(uint algorithm, ReadOnlySpan<byte> key)
    {
        SymmetricAlgorithm? cipher = algorithm switch
        {
            CapiAlgorithm.Aes128 or CapiAlgorithm.Aes192 or CapiAlgorithm.Aes256 => Aes.Create(),
            CapiAlgorithm.TripleDes => TripleDES.Create(),
            _ => null,
        };
        if (cipher is null) return null;
        try { cipher.Key = key.ToArray(); }
        catch (CryptographicException) { cipher.Dispose(); return null; } // a weak 3DES key: not one CryptoAPI made
        return cipher;
    }

    private static string? TryDecryptFramed(uint algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> cipherText)
    {
        using var cipher = CreateCipher(algorithm, key);
        if (cipher is null) return null;
        var block = cipher.BlockSize / 8;
        if (cipherText.IsEmpty || cipherText.Length % block != 0) return null;
        byte[] plain;
        try { plain = cipher.DecryptCbc(cipherText, new byte[block], PaddingMode.PKCS7); }
        catch (CryptographicException) { return null; }
        if (plain.Length < 6) return null;
        var text = plain.AsSpan(4);
        for (var i = 0; i + 1 < text.Length; i += 2)
            if (text[i] == 0 && text[i + 1] == 0)
                return Encoding.Unicode.GetString(text[..i]);
        return null;
    }

    internal static int? SessionKeyLength(uint algorithm) => algorithm switch
    {
        CapiAlgorithm.Aes128 => 16,
        CapiAlgorithm.Aes192 => 24,
        CapiAlgorithm.Aes256 => 32,
        CapiAlgorithm.TripleDes => 24,
        _ => null,
    };
}
