using System.Security.Cryptography;

namespace KeyDoctor.Crypto;

/// <summary>The CryptoAPI ALG_IDs DPAPI uses, mapped to BCL primitives.</summary>
public static class CryptoAlgorithms
{
    public const uint CalgSha1 = 0x8004;
    public const uint CalgHmac = 0x8009; // Old master keys say "HMAC" and mean HMAC-SHA1.
    public const uint CalgSha256 = 0x800C;
    public const uint CalgSha384 = 0x800D;
    public const uint CalgSha512 = 0x800E;
    public const uint Calg3Des = 0x6603;
    public const uint CalgAes128 = 0x660E;
    public const uint CalgAes192 = 0x660F;
    public const uint CalgAes256 = 0x6610;

    public static HashAlgorithmName? Hash(uint algId) => algId switch
    {
        CalgSha1 or CalgHmac => HashAlgorithmName.SHA1,
        CalgSha256 => HashAlgorithmName.SHA256,
        CalgSha384 => HashAlgorithmName.SHA384,
        CalgSha512 => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>Input block size of the hash, which HMAC pads keys to.</summary>
    public static int HashBlockSize(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA384 || hash == HashAlgorithmName.SHA512 ? 128 : 64;

    public static int HashLength(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA1 ? 20 : hash == HashAlgorithmName.SHA256 ? 32 : hash == HashAlgorithmName.SHA384 ? 48 : 64;

    /// <summary>Key and block (IV) lengths in bytes of a DPAPI cipher, or null when unsupported.</summary>
    public static (int KeyLength, int BlockLength)? Cipher(uint algId) => algId switch
    {
        Calg3Des => (24, 8),
        CalgAes128 => (16, 16),
        CalgAes192 => (24, 16),
        CalgAes256 => (32, 16),
        _ => null,
    };

    /// <summary>CBC decryption with the cipher an ALG_ID names; no padding removed here.</summary>
    public static byte[] DecryptCbc(uint algId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> cipherText)
    {
        using SymmetricAlgorithm cipher = algId == Calg3Des ? TripleDES.Create() : Aes.Create();
        cipher.Key = key.ToArray();
        return cipher.DecryptCbc(cipherText, iv, PaddingMode.None);
    }

    public static byte[] EncryptCbc(uint algId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plainText)
    {
        using SymmetricAlgorithm cipher = algId == Calg3Des ? TripleDES.Create() : Aes.Create();
        cipher.Key = key.ToArray();
        return cipher.EncryptCbc(plainText, iv, PaddingMode.None);
    }
}
