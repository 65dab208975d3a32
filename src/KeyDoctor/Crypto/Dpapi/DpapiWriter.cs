using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Crypto;

namespace KeyDoctor.Formats.Dpapi;

/// <summary>
/// Writes DPAPI structures the way Windows 10+ does (AES-256, SHA-512), so tests can build a machine image whose
/// keys are protected exactly as on disk: blobs (see <see cref="DpapiBlobDecryptor"/> for the scheme) and
/// master-key files (MS-PBKDF2 from the pre-key, HMAC-checked 64-byte key). Not used on evidence.
/// </summary>
public static class DpapiWriter
{
    private const uint CalgAes256 = 0x6610;
    private const uint CalgSha512 = 0x800E;

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
    public static byte[] WriteMasterKeyFile(Guid guid, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> preKey, int rounds = 8000, uint flags = 6)
    {
        if (masterKey.Length != 64) throw new ArgumentException("a master key is 64 bytes", nameof(masterKey));
        var salt = RandomNumberGenerator.GetBytes(16);
        var hmacSalt = RandomNumberGenerator.GetBytes(16);
        var hmacKey = HMACSHA512.HashData(preKey, hmacSalt);
        var check = HMACSHA512.HashData(hmacKey, masterKey);
        var plain = new byte[16 + 64 + 64];
        hmacSalt.CopyTo(plain, 0);
        check.CopyTo(plain, 16);
        masterKey.CopyTo(plain.AsSpan(80));
        var derived = MsPbkdf2.DeriveKey(preKey, salt, rounds, HashAlgorithmName.SHA512, 32 + 16);
        var cipherText = CryptoAlgorithms.EncryptCbc(CalgAes256, derived.AsSpan(0, 32), derived.AsSpan(32, 16), plain);

        var section = new byte[32 + cipherText.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(section, 2);
        salt.CopyTo(section, 4);
        BinaryPrimitives.WriteInt32LittleEndian(section.AsSpan(20), rounds);
        BinaryPrimitives.WriteUInt32LittleEndian(section.AsSpan(24), CalgSha512);
        BinaryPrimitives.WriteUInt32LittleEndian(section.AsSpan(28), CalgAes256);
        cipherText.CopyTo(section, 32);

        var file = new byte[MasterKeyFile.HeaderLength + section.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 2);
        Encoding.Unicode.GetBytes(guid.ToString("D")).CopyTo(file, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x5C), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(0x60), (ulong)section.Length);
        section.CopyTo(file, MasterKeyFile.HeaderLength);
        return file;
    }
}
