using System.Security.Cryptography;

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
}
