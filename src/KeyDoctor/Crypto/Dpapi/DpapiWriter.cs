using System.Security.Cryptography;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Crypto.Dpapi;

/// <summary>
/// Protects data the way Windows 10+ DPAPI does (AES-256, SHA-512), so tests can build a machine image whose keys
/// are protected exactly as on disk: blobs (see <see cref="DpapiBlobDecryptor"/> for the scheme) and master-key
/// files (<see cref="MasterKeyDecryptor.Encrypt"/>). The layouts are written by Formats (<see cref="DpapiBlob.ToArray"/>,
/// <see cref="MasterKeyFile.Write"/>); this class only encrypts and signs. Not used on evidence.
/// </summary>
public static class DpapiWriter
{
    private const uint CalgAes256 = CryptoAlgorithms.CalgAes256;
    private const uint CalgSha512 = CryptoAlgorithms.CalgSha512;

    public static byte[] ProtectBlob(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> masterKey, Guid masterKeyGuid,
        string description, ReadOnlySpan<byte> entropy = default, DpapiBlobFlags flags = 0)
    {
        var salt = RandomNumberGenerator.GetBytes(32);
        var hmacSalt = RandomNumberGenerator.GetBytes(32);
        var keyHash = SHA1.HashData(masterKey);
        var sessionKey = DpapiBlobDecryptor.Mac(HashAlgorithmName.SHA512, keyHash, salt, entropy, [], legacy: false);
        var pad = 16 - plaintext.Length % 16;
        var padded = new byte[plaintext.Length + pad];
        plaintext.CopyTo(padded);
        padded.AsSpan(plaintext.Length).Fill((byte)pad);
        var cipherText = CryptoAlgorithms.EncryptCbc(CalgAes256, sessionKey.AsSpan(0, 32), new byte[16], padded);
        var blob = new DpapiBlob
        {
            MasterKeyGuid = masterKeyGuid, Flags = flags, DescriptionBytes = DpapiBlob.EncodeDescription(description),
            CryptAlgorithm = CalgAes256, CryptAlgorithmBits = 256, Salt = salt, HmacKey = Array.Empty<byte>(),
            HashAlgorithm = CalgSha512, HashAlgorithmBits = 512, HmacSalt = hmacSalt, CipherText = cipherText,
            Signature = new byte[64],
        };
        var signature = DpapiBlobDecryptor.Mac(HashAlgorithmName.SHA512, keyHash, hmacSalt, entropy, blob.SignedBytes(), legacy: false);
        return (blob with { Signature = signature }).ToArray();
    }

    /// <summary>
    /// A master-key file holding <paramref name="masterKey"/> (64 bytes) encrypted under <paramref name="preKey"/>
    /// (a DPAPI_SYSTEM half or a user pre-key). Flags 6 for system keys, 5 for local users, as Windows writes them.
    /// </summary>
    public static byte[] WriteMasterKeyFile(Guid guid, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> preKey, int rounds = 8000, uint flags = 6) =>
        MasterKeyFile.Write(guid, MasterKeyDecryptor.Encrypt(masterKey, preKey, rounds), flags);
}
