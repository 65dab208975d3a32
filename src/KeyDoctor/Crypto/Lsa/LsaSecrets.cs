using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.Lsa;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Crypto.Lsa;

/// <summary>Thrown when SYSTEM and SECURITY decrypt to nothing that validates: they come from different machines.</summary>
public sealed class HivesDoNotMatchException(string detail)
    : Exception($"these hives do not belong together: {detail}")
{
    public string Detail { get; } = detail;
}

/// <summary>
/// NT6+ LSA secrets of a SECURITY hive (AES form). An encrypted value is an LSA_SECRET
/// {DWORD version, GUID keyId, DWORD algorithm, DWORD flags, data}; data[0..32] is a salt, the key is
/// SHA-256(secret key || salt × 1000) and data[32..] is AES-256 with a zero IV per 16-byte block. The plaintext is an
/// LSA_SECRET_BLOB {DWORD length, 12 bytes, secret[length]}.
/// </summary>
public static class LsaSecrets
{
    public const string FormatName = "LSA secret";
    private const int HeaderLength = 28;
    private const int SaltLength = 32;
    private const int BlobHeaderLength = 16;
    private const uint SecretVersion = 0x01000000;
    private const uint AlgorithmAes256 = 3;

    /// <summary>The PolEKList plaintext always holds 84 bytes; the LSA key is bytes 52..84 of it.</summary>
    public const int PolEkListSecretLength = 84;
    public const int LsaKeyLength = 32;

    /// <summary>SECURITY Policy\PolEKList → the 32-byte LSA key. Wrong boot key → <see cref="HivesDoNotMatchException"/>.</summary>
    public static byte[] LsaKey(IRegistryHive security, ReadOnlySpan<byte> bootKey)
    {
        var value = security.OpenKey(@"Policy\PolEKList")?.GetValue("")
            ?? throw new MalformedDataException(FormatName, 0, @"SECURITY hive has no Policy\PolEKList value (pre-Vista or not a SECURITY hive)");
        return LsaKeyFromPolEkList(value.Data.Span, bootKey);
    }

    public static byte[] LsaKeyFromPolEkList(ReadOnlySpan<byte> polEkList, ReadOnlySpan<byte> bootKey)
    {
        var secret = Decrypt(polEkList, bootKey, "PolEKList");
        if (secret.Length != PolEkListSecretLength)
            throw new HivesDoNotMatchException($"PolEKList decrypts to a {secret.Length}-byte secret, expected {PolEkListSecretLength} (wrong boot key)");
        return secret.AsSpan(52, LsaKeyLength).ToArray();
    }

    /// <summary>The plaintext of Policy\Secrets\&lt;name&gt;\CurrVal (or OldVal), or null when the secret is absent.</summary>
    public static byte[]? ReadSecret(IRegistryHive security, ReadOnlySpan<byte> lsaKey, string name, bool previous = false)
    {
        var value = security.OpenKey($@"Policy\Secrets\{name}\{(previous ? "OldVal" : "CurrVal")}")?.GetValue("");
        return value is null ? null : Decrypt(value.Data.Span, lsaKey, name);
    }

    /// <summary>DPAPI_SYSTEM from the SECURITY hive; checks length 44 and version 1.</summary>
    public static DpapiSystemSecret DpapiSystem(IRegistryHive security, ReadOnlySpan<byte> lsaKey)
    {
        var secret = ReadSecret(security, lsaKey, "DPAPI_SYSTEM")
            ?? throw new MalformedDataException(FormatName, 0, @"SECURITY hive has no Policy\Secrets\DPAPI_SYSTEM\CurrVal");
        if (secret.Length != DpapiSystemSecret.Length || BinaryPrimitives.ReadUInt32LittleEndian(secret) != 1)
            throw new HivesDoNotMatchException($"DPAPI_SYSTEM decrypts to {secret.Length} bytes, expected {DpapiSystemSecret.Length} starting with version 1");
        return DpapiSystemSecret.Parse(secret);
    }

    /// <summary>SYSTEM + SECURITY → DPAPI_SYSTEM, the whole chain with every check.</summary>
    public static DpapiSystemSecret DpapiSystem(IRegistryHive system, IRegistryHive security)
    {
        var bootKey = BootKey.FromSystemHive(system);
        var lsaKey = LsaKey(security, bootKey);
        return DpapiSystem(security, lsaKey);
    }

    /// <summary>
    /// Decrypts one LSA_SECRET and returns the secret bytes of its LSA_SECRET_BLOB. A declared length that does not
    /// fit the plaintext means the key is wrong, which for registry secrets means the hives are mismatched.
    /// </summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> key, string what = "secret")
    {
        if (encrypted.Length < HeaderLength + SaltLength + BlobHeaderLength)
            throw new MalformedDataException(FormatName, 0, $"{what}: {encrypted.Length} bytes, too short for an NT6 LSA secret");
        // Windows writes the version as bytes 00 00 00 01 (0x01000000 read little-endian).
        var version = BinaryPrimitives.ReadUInt32LittleEndian(encrypted);
        if (version != SecretVersion)
            throw new MalformedDataException(FormatName, 0, $"{what}: version 0x{version:X8}, expected 0x{SecretVersion:X8} (only NT6+ AES secrets are read)");
        var data = encrypted[HeaderLength..];
        var plaintext = DecryptAes(key, data[..SaltLength], data[SaltLength..]);
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(plaintext);
        if (declared > plaintext.Length - BlobHeaderLength)
            throw new HivesDoNotMatchException($"{what} declares {declared} bytes in a {plaintext.Length - BlobHeaderLength}-byte plaintext (wrong key)");
        return plaintext.AsSpan(BlobHeaderLength, (int)declared).ToArray();
    }

    /// <summary>SHA-256(key || salt × 1000); each 16-byte block is decrypted with a zero IV, i.e. ECB.</summary>
    private static byte[] DecryptAes(ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> cipherText)
    {
        var aesKey = DeriveKey(key, salt);
        var padded = new byte[(cipherText.Length + 15) / 16 * 16];
        cipherText.CopyTo(padded);
        using var aes = Aes.Create();
        aes.Key = aesKey;
        return aes.DecryptEcb(padded, PaddingMode.None);
    }

    internal static byte[] DeriveKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(key);
        for (var i = 0; i < 1000; i++) sha.AppendData(salt);
        return sha.GetHashAndReset();
    }

    /// <summary>
    /// Builds an LSA_SECRET the way Windows stores one, for tests and for images built in tests.
    /// </summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt, Guid keyId = default)
    {
        if (salt.Length != SaltLength) throw new ArgumentException($"salt must be {SaltLength} bytes", nameof(salt));
        var plain = new byte[(BlobHeaderLength + secret.Length + 15) / 16 * 16];
        BinaryPrimitives.WriteInt32LittleEndian(plain, secret.Length);
        BinaryPrimitives.WriteInt32LittleEndian(plain.AsSpan(4), 1);
        secret.CopyTo(plain.AsSpan(BlobHeaderLength));
        using var aes = Aes.Create();
        aes.Key = DeriveKey(key, salt);
        var cipher = aes.EncryptEcb(plain, PaddingMode.None);
        var result = new byte[HeaderLength + SaltLength + cipher.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(result, SecretVersion);
        keyId.TryWriteBytes(result.AsSpan(4));
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(20), AlgorithmAes256);
        salt.CopyTo(result.AsSpan(HeaderLength));
        cipher.CopyTo(result.AsSpan(HeaderLength + SaltLength));
        return result;
    }
}
