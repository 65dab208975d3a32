using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Crypto;

/// <summary>
/// The IIS 7+ AesProvider / IISWASOnlyAesProvider scheme (research notes iiscrypto.md §3.2-3.3): the provider's
/// <c>sessionKey</c> is a CryptoAPI SIMPLEBLOB holding an AES-128 key RSA-encrypted (PKCS#1 v1.5, or OAEP when
/// <c>useOAEP="true"</c>) to the container's AT_KEYEXCHANGE key, cipher text little-endian. Each
/// <c>[enc:Provider:base64:enc]</c> value is AES-CBC with a zero IV over
/// <c>[4 random bytes][UTF-16LE secret][00 00][0-15 random bytes]</c>, PKCS#7 padded, without a MAC.
/// </summary>
public static class ProtectedConfigCrypto
{
    private const int AesBlock = 16;

    /// <summary>
    /// Unwraps the session key with <paramref name="key"/>, or returns null when this key does not open it
    /// (a wrong key is an answer, not an error). A blob that is not a SIMPLEBLOB throws MalformedDataException.
    /// </summary>
    public static byte[]? TryUnwrapSessionKey(ReadOnlySpan<byte> simpleBlob, RSAParameters key, bool useOaep)
    {
        var header = CapiSimpleBlob.Parse(simpleBlob);
        var expectedLength = SessionKeyLength(header.KeyAlgorithm);
        if (key.Modulus is null || key.D is null || header.EncryptedKeyLength != key.Modulus.Length) return null;

        var cipherText = simpleBlob[CapiSimpleBlob.HeaderLength..].ToArray();
        Array.Reverse(cipherText); // CryptoAPI stores RSA output little-endian.
        using var rsa = RSA.Create();
        rsa.ImportParameters(key);
        try
        {
            var sessionKey = rsa.Decrypt(cipherText, useOaep ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.Pkcs1);
            return expectedLength is { } length && sessionKey.Length != length ? null : sessionKey;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Wraps <paramref name="sessionKey"/> for <paramref name="key"/> as IIS writes it (a SIMPLEBLOB).</summary>
    public static byte[] WrapSessionKey(ReadOnlySpan<byte> sessionKey, RSA key, bool useOaep, uint keyAlgorithm = CapiAlgorithm.Aes128)
    {
        var cipherText = key.Encrypt(sessionKey.ToArray(), useOaep ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.Pkcs1);
        Array.Reverse(cipherText);
        var blob = new byte[CapiSimpleBlob.HeaderLength + cipherText.Length];
        blob[0] = CapiSimpleBlob.SimpleBlobType;
        blob[1] = CapiSimpleBlob.CurrentVersion;
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), keyAlgorithm);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), CapiAlgorithm.RsaKeyExchange);
        cipherText.CopyTo(blob, CapiSimpleBlob.HeaderLength);
        return blob;
    }

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
    public static string? TryDecryptValue(ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> cipherText)
    {
        if (cipherText.IsEmpty || cipherText.Length % AesBlock != 0) return null;
        using var aes = Aes.Create();
        aes.Key = sessionKey.ToArray();
        byte[] plain;
        try { plain = aes.DecryptCbc(cipherText, new byte[AesBlock], PaddingMode.PKCS7); }
        catch (CryptographicException) { return null; }
        if (plain.Length < 6) return null;
        var text = plain.AsSpan(4);
        for (var i = 0; i + 1 < text.Length; i += 2)
            if (text[i] == 0 && text[i + 1] == 0)
                return Encoding.Unicode.GetString(text[..i]);
        return null;
    }

    private static int? SessionKeyLength(uint algorithm) => algorithm switch
    {
        CapiAlgorithm.Aes128 => 16,
        CapiAlgorithm.Aes192 => 24,
        CapiAlgorithm.Aes256 => 32,
        CapiAlgorithm.TripleDes => 24,
        _ => null,
    };
}
