using System.Security.Cryptography;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Crypto;

/// <summary>
/// RSA as CryptoAPI stores it: key-exchange cipher text is little-endian (CryptExportKey/CryptEncrypt reverse the
/// big-endian RSA output). One place for the byte order and for "this key does not open it" as an answer.
/// </summary>
public static class CapiRsa
{
    /// <summary>
    /// Decrypts little-endian cipher text with <paramref name="key"/>; null when it does not open it (cipher text of
    /// another size than the modulus, or padding that does not check), never an exception.
    /// </summary>
    public static byte[]? TryDecrypt(ReadOnlySpan<byte> littleEndianCipherText, RSAParameters key, RSAEncryptionPadding padding)
    {
        if (key.Modulus is null || key.D is null || littleEndianCipherText.Length != key.Modulus.Length) return null;
        var cipherText = littleEndianCipherText.ToArray();
        Array.Reverse(cipherText);
        using var rsa = RSA.Create();
        rsa.ImportParameters(key);
        try
        {
            return rsa.Decrypt(cipherText, padding);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Encrypts with <paramref name="key"/>'s public half and returns the cipher text little-endian, as CryptoAPI stores it.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> plainText, RSA key, RSAEncryptionPadding padding)
    {
        var cipherText = key.Encrypt(plainText.ToArray(), padding);
        Array.Reverse(cipherText);
        return cipherText;
    }

    /// <summary>
    /// A SIMPLEBLOB holding <paramref name="sessionKey"/> wrapped for <paramref name="key"/> (CryptExportKey with
    /// SIMPLEBLOB): what IIS protected configuration and the IIS 6 metabase both store.
    /// </summary>
    public static byte[] WrapSessionKey(ReadOnlySpan<byte> sessionKey, RSA key, RSAEncryptionPadding padding, uint keyAlgorithm) =>
        CapiSimpleBlob.Write(keyAlgorithm, Encrypt(sessionKey, key, padding));
}
