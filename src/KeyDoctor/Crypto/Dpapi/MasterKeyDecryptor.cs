using System.Security.Cryptography;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Crypto.Dpapi;

/// <summary>Opens the encrypted key of a master-key file (parsed by <see cref="MasterKeyFile"/>) with a pre-key.</summary>
public static class MasterKeyDecryptor
{
    private const int MasterKeyLength = 64;

    /// <summary>
    /// Decrypts with a 20-byte pre-key (<see cref="DpapiPreKeys"/>). Returns the 64-byte master key, or null when the
    /// pre-key is wrong (the embedded HMAC does not match): a wrong password or the other DPAPI_SYSTEM half.
    /// A hash or cipher DPAPI does not use is a damaged file: <see cref="MalformedDataException"/> at that field.
    /// </summary>
    public static byte[]? Decrypt(this EncryptedMasterKey key, ReadOnlySpan<byte> preKey)
    {
        var hash = CryptoAlgorithms.Hash(key.HashAlgorithm)
                   ?? throw Unsupported(key, EncryptedMasterKey.HashAlgorithmOffset, "hash", key.HashAlgorithm, "SHA-1, SHA-256, SHA-384 or SHA-512");
        var cipher = CryptoAlgorithms.Cipher(key.CryptAlgorithm)
                     ?? throw Unsupported(key, EncryptedMasterKey.CryptAlgorithmOffset, "cipher", key.CryptAlgorithm, "3DES or AES");
        var hashLength = CryptoAlgorithms.HashLength(hash);
        if (key.CipherText.Length % cipher.BlockLength != 0 || key.CipherText.Length < 16 + hashLength + MasterKeyLength)
            return null;

        var derived = MsPbkdf2.DeriveKey(preKey, key.Salt.Span, key.Rounds, hash, cipher.KeyLength + cipher.BlockLength);
        var plain = CryptoAlgorithms.DecryptCbc(key.CryptAlgorithm, derived.AsSpan(0, cipher.KeyLength),
            derived.AsSpan(cipher.KeyLength, cipher.BlockLength), key.CipherText.Span);
        var hmacSalt = plain.AsSpan(0, 16);
        var expected = plain.AsSpan(16, hashLength);
        var masterKey = plain.AsSpan(plain.Length - MasterKeyLength, MasterKeyLength);
        var hmacKey = CryptographicOperations.HmacData(hash, preKey, hmacSalt);
        var actual = CryptographicOperations.HmacData(hash, hmacKey, masterKey);
        return CryptographicOperations.FixedTimeEquals(actual.AsSpan(0, hashLength), expected) ? masterKey.ToArray() : null;
    }

    /// <summary>
    /// Encrypts a 64-byte master key under <paramref name="preKey"/> the way Windows 10+ does (SHA-512, AES-256,
    /// MS-PBKDF2), for tests and images built in tests.
    /// </summary>
    public static EncryptedMasterKey Encrypt(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> preKey, int rounds)
    {
        if (masterKey.Length != MasterKeyLength) throw new ArgumentException("a master key is 64 bytes", nameof(masterKey));
        var salt = RandomNumberGenerator.GetBytes(EncryptedMasterKey.SaltLength);
        var hmacSalt = RandomNumberGenerator.GetBytes(16);
        var hmacKey = HMACSHA512.HashData(preKey, hmacSalt);
        var check = HMACSHA512.HashData(hmacKey, masterKey);
        var plain = new byte[16 + 64 + MasterKeyLength];
        hmacSalt.CopyTo(plain, 0);
        check.CopyTo(plain, 16);
        masterKey.CopyTo(plain.AsSpan(80));
        var derived = MsPbkdf2.DeriveKey(preKey, salt, rounds, HashAlgorithmName.SHA512, 32 + 16);
        var cipherText = CryptoAlgorithms.EncryptCbc(CryptoAlgorithms.CalgAes256, derived.AsSpan(0, 32), derived.AsSpan(32, 16), plain);
        return new EncryptedMasterKey(2, salt, rounds, CryptoAlgorithms.CalgSha512, CryptoAlgorithms.CalgAes256, cipherText);
    }

    private static MalformedDataException Unsupported(EncryptedMasterKey key, int fieldOffset, string what, uint algId, string known) =>
        new(MasterKeyFile.FormatName, key.Offset + fieldOffset,
            $"the master key names {what} algorithm 0x{algId:X4}, which DPAPI master keys do not use ({known}): the file is damaged; use a backup copy of it");
}
