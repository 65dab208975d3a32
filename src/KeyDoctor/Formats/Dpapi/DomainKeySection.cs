using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Crypto;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Dpapi;

/// <summary>Why a domain-key section did not give a master key.</summary>
public enum DomainKeyFailure
{
    None,
    /// <summary>The section names another backup key GUID than the one given.</summary>
    OtherBackupKey,
    /// <summary>A section version other than 2 (3DES/SHA-1 access check) or 3 (algorithms named inside).</summary>
    UnsupportedVersion,
    /// <summary>The RSA cipher text is not as long as the backup key's modulus.</summary>
    KeySizeMismatch,
    /// <summary>PKCS#1 v1.5 padding did not check out: the secret was encrypted to another key.</summary>
    WrongKey,
    /// <summary>The RSA plaintext is not a DPAPI_DOMAIN_RSA_MASTER_KEY (lengths, algorithms).</summary>
    MalformedSecret,
    /// <summary>The access check did not decrypt to version 1 + data + SID + a matching hash.</summary>
    AccessCheckMismatch,
}

/// <summary>The outcome of opening a domain-key section: the master key and the SID it was made for, or why not.</summary>
public sealed record DomainKeyDecryption
{
    public bool Success => MasterKey is not null;

    /// <summary>The 64-byte master key. Callers must never print it.</summary>
    public byte[]? MasterKey { get; init; }

    /// <summary>The user SID the access check holds (the owner of the master key).</summary>
    public string? Sid { get; init; }

    public DomainKeyFailure Failure { get; init; }
    public string? Reason { get; init; }

    public override string ToString() => Success ? $"decrypted for {Sid} (secret)" : $"not decrypted ({Failure}): {Reason}";
}

/// <summary>
/// The last section of a domain user's master-key file (DOMAINKEY): version, secret length, access-check length,
/// the GUID of the domain backup key, the RSA-encrypted secret, then the encrypted access check.
/// </summary>
/// <remarks>
/// The secret is PKCS#1 v1.5-encrypted to the backup key and stored little-endian, as CryptoAPI writes it. Its
/// plaintext (DPAPI_DOMAIN_RSA_MASTER_KEY) is cbMasterKey, cbSuppKey, [version 3: ALG_ID cipher, ALG_ID hash],
/// the master key, then the "supplementary" key: cipher key + IV for the access check. The access check decrypts
/// (CBC, no padding) to version 1, data length, data (a nonce), the user's SID, then as many filler bytes as the
/// block size leaves and, in the last hash-length bytes, the hash of everything before them. Version 2 uses
/// 3DES/SHA-1; version 3 names AES-256/SHA-512. Sources: mimikatz kull_m_dpapi_unprotect_domainkey_with_key and
/// the KULL_M_DPAPI_DOMAIN_* structures, impacket DomainKey, checked on the Nemesis master keys (both versions).
/// </remarks>
public sealed record DomainKeySection
{
    public const string FormatName = "DPAPI domain key";
    private const int HeaderLength = 28;
    private const int MasterKeyLength = 64;

    public uint Version { get; init; }

    /// <summary>GUID of the domain backup key the secret is encrypted to.</summary>
    public Guid BackupKeyGuid { get; init; }

    public ReadOnlyMemory<byte> Secret { get; init; }
    public ReadOnlyMemory<byte> AccessCheck { get; init; }

    /// <summary>Parses a section that fills <paramref name="data"/> exactly; offsets in errors are <paramref name="baseOffset"/>-based.</summary>
    public static DomainKeySection Parse(ReadOnlyMemory<byte> data, long baseOffset = 0)
    {
        var reader = new SpanReader(data.Span, FormatName, baseOffset);
        var version = reader.ReadUInt32();
        var secretLength = reader.ReadUInt32();
        var accessCheckLength = reader.ReadUInt32();
        var guid = reader.ReadGuid();
        if (secretLength == 0 || secretLength > (uint)reader.Remaining)
            throw new MalformedDataException(FormatName, baseOffset + 4, $"secret length {secretLength} does not fit the {reader.Remaining} bytes after the header");
        if (accessCheckLength != (uint)(reader.Remaining - (int)secretLength))
            throw new MalformedDataException(FormatName, baseOffset + 8,
                $"access-check length {accessCheckLength} does not match the {reader.Remaining - (int)secretLength} bytes after the secret");
        return new DomainKeySection
        {
            Version = version,
            BackupKeyGuid = guid,
            Secret = data.Slice(HeaderLength, (int)secretLength),
            AccessCheck = data.Slice(HeaderLength + (int)secretLength),
        };
    }

    /// <summary>
    /// Opens the section with the domain backup key. Never throws for a wrong or damaged input: every failure is a
    /// <see cref="DomainKeyFailure"/>, and a master key is returned only when the access check's hash matches.
    /// </summary>
    public DomainKeyDecryption Decrypt(DomainBackupKey backupKey)
    {
        if (backupKey.Guid is { } known && known != BackupKeyGuid)
            return Failed(DomainKeyFailure.OtherBackupKey, $"encrypted to backup key {BackupKeyGuid}, not {known}");
        if (Version is not (2 or 3))
            return Failed(DomainKeyFailure.UnsupportedVersion, $"domain-key version {Version} (2 and 3 are known)");
        if (Secret.Length != backupKey.ModulusLength)
            return Failed(DomainKeyFailure.KeySizeMismatch, $"a {Secret.Length * 8}-bit secret for a {backupKey.KeySizeBits}-bit backup key");

        var cipherText = Secret.ToArray();
        Array.Reverse(cipherText); // CryptoAPI keeps RSA cipher text little-endian.
        var plain = backupKey.Decrypt(cipherText);
        if (plain is null) return Failed(DomainKeyFailure.WrongKey, "the RSA padding does not match: another backup key encrypted it");
        try
        {
            return Open(plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private DomainKeyDecryption Open(byte[] plain)
    {
        var headerLength = Version == 2 ? 8 : 16;
        if (plain.Length < headerLength)
            return Failed(DomainKeyFailure.MalformedSecret, $"the RSA plaintext is {plain.Length} bytes");
        var masterKeyLength = BinaryPrimitives.ReadUInt32LittleEndian(plain);
        var suppKeyLength = BinaryPrimitives.ReadUInt32LittleEndian(plain.AsSpan(4));
        uint cryptAlg = CryptoAlgorithms.Calg3Des, hashAlg = CryptoAlgorithms.CalgSha1;
        if (Version == 3)
        {
            cryptAlg = BinaryPrimitives.ReadUInt32LittleEndian(plain.AsSpan(8));
            hashAlg = BinaryPrimitives.ReadUInt32LittleEndian(plain.AsSpan(12));
        }
        if (CryptoAlgorithms.Cipher(cryptAlg) is not { } cipher || CryptoAlgorithms.Hash(hashAlg) is not { } hash)
            return Failed(DomainKeyFailure.MalformedSecret, $"access-check algorithms {AlgorithmNames.Of(cryptAlg)}/{AlgorithmNames.Of(hashAlg)} are not supported");
        if (masterKeyLength != MasterKeyLength || suppKeyLength != cipher.KeyLength + cipher.BlockLength
            || plain.Length != headerLength + MasterKeyLength + (int)suppKeyLength)
            return Failed(DomainKeyFailure.MalformedSecret,
                $"master key {masterKeyLength} and access-check key {suppKeyLength} bytes do not fill the {plain.Length}-byte plaintext");

        var masterKey = plain.AsSpan(headerLength, MasterKeyLength);
        var suppKey = plain.AsSpan(headerLength + MasterKeyLength, (int)suppKeyLength);
        var hashLength = CryptoAlgorithms.HashLength(hash);
        if (AccessCheck.Length % cipher.BlockLength != 0 || AccessCheck.Length < 8 + hashLength)
            return Failed(DomainKeyFailure.AccessCheckMismatch, $"a {AccessCheck.Length}-byte access check is not whole {cipher.BlockLength}-byte blocks");

        var check = CryptoAlgorithms.DecryptCbc(cryptAlg, suppKey[..cipher.KeyLength], suppKey[cipher.KeyLength..], AccessCheck.Span);
        var body = check.AsSpan(0, check.Length - hashLength);
        var expected = check.AsSpan(check.Length - hashLength);
        if (!CryptographicOperations.FixedTimeEquals(HashOf(hash, body), expected))
            return Failed(DomainKeyFailure.AccessCheckMismatch, "the access check's hash does not match");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var dataLength = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        if (version != 1 || dataLength > (uint)(body.Length - 8))
            return Failed(DomainKeyFailure.AccessCheckMismatch, $"access check version {version}, data length {dataLength}");
        var sid = FormatSid(body[(8 + (int)dataLength)..]);
        if (sid is null) return Failed(DomainKeyFailure.AccessCheckMismatch, "no SID after the access-check data");
        return new DomainKeyDecryption { MasterKey = masterKey.ToArray(), Sid = sid };
    }

    private static byte[] HashOf(HashAlgorithmName hash, ReadOnlySpan<byte> data) =>
        hash == HashAlgorithmName.SHA1 ? SHA1.HashData(data)
        : hash == HashAlgorithmName.SHA256 ? SHA256.HashData(data)
        : hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data)
        : SHA512.HashData(data);

    /// <summary>A binary SID (revision 1, sub-authority count, 48-bit authority, sub-authorities) as S-1-...; null when it does not fit.</summary>
    internal static string? FormatSid(ReadOnlySpan<byte> sid) => Primitives.BinarySid.Format(sid);

    private static DomainKeyDecryption Failed(DomainKeyFailure failure, string reason) => new() { Failure = failure, Reason = reason };
}
