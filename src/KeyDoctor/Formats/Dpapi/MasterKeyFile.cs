using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Crypto;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Dpapi;

/// <summary>
/// A DPAPI master-key file (Protect\&lt;SID&gt;\&lt;GUID&gt;): a 0x80-byte header, then the master key, the backup
/// key, the CREDHIST reference and the domain backup, each as long as the header says.
/// </summary>
public sealed record MasterKeyFile
{
    public const string FormatName = "DPAPI master-key file";
    public const int HeaderLength = 0x80;

    public uint Version { get; init; }
    public Guid Guid { get; init; }

    /// <summary>Header flags; bit 0x4 set means the pre-key is the SHA-1 form (local accounts, SYSTEM).</summary>
    public uint Flags { get; init; }

    public EncryptedMasterKey? MasterKey { get; init; }
    public EncryptedMasterKey? BackupKey { get; init; }
    public ReadOnlyMemory<byte> CredentialHistory { get; init; }
    public ReadOnlyMemory<byte> DomainKey { get; init; }

    /// <summary>Where the domain-key section starts in the file, for error offsets.</summary>
    public long DomainKeyOffset { get; init; }

    /// <summary>
    /// The domain-key section (domain users only), parsed on demand so a damaged one does not hide the password
    /// path; null when the file has none. Throws <see cref="MalformedDataException"/> for a damaged section.
    /// </summary>
    public DomainKeySection? ReadDomainKey() => DomainKey.IsEmpty ? null : DomainKeySection.Parse(DomainKey, DomainKeyOffset);

    public static MasterKeyFile Parse(ReadOnlyMemory<byte> data)
    {
        var reader = new SpanReader(data.Span, FormatName);
        var version = reader.ReadUInt32();
        reader.Skip(8);
        var guidText = Encoding.Unicode.GetString(reader.ReadBytes(72));
        if (!System.Guid.TryParse(guidText, out var guid))
            throw new MalformedDataException(FormatName, 12, $"'{guidText.TrimEnd('\0')}' is not a GUID");
        reader.Skip(8);
        var flags = reader.ReadUInt32();
        var lengths = new long[4];
        for (var i = 0; i < 4; i++)
        {
            var at = reader.AbsolutePosition;
            var length = reader.ReadUInt64();
            if (length > (ulong)data.Length)
                throw new MalformedDataException(FormatName, at, $"section length {length} exceeds the file ({data.Length} bytes)");
            lengths[i] = (long)length;
        }
        var sections = new ReadOnlyMemory<byte>[4];
        for (var i = 0; i < 4; i++)
        {
            var start = reader.Position;
            reader.Skip((int)lengths[i]);
            sections[i] = data.Slice(start, (int)lengths[i]);
        }
        return new MasterKeyFile
        {
            Version = version,
            Guid = guid,
            Flags = flags,
            MasterKey = sections[0].IsEmpty ? null : EncryptedMasterKey.Parse(sections[0], HeaderLength),
            BackupKey = sections[1].IsEmpty ? null : EncryptedMasterKey.Parse(sections[1], HeaderLength + lengths[0]),
            CredentialHistory = sections[2],
            DomainKey = sections[3],
            DomainKeyOffset = HeaderLength + lengths[0] + lengths[1] + lengths[2],
        };
    }
}

/// <summary>
/// One encrypted key of a master-key file: version, salt, PBKDF2 rounds, hash and cipher ALG_IDs, cipher text.
/// </summary>
public sealed record EncryptedMasterKey(uint Version, ReadOnlyMemory<byte> Salt, int Rounds, uint HashAlgorithm,
                                        uint CryptAlgorithm, ReadOnlyMemory<byte> CipherText)
{
    public static EncryptedMasterKey Parse(ReadOnlyMemory<byte> data, long baseOffset)
    {
        var reader = new SpanReader(data.Span, MasterKeyFile.FormatName, baseOffset);
        var version = reader.ReadUInt32();
        reader.Skip(16);
        var roundsAt = reader.AbsolutePosition;
        var rounds = reader.ReadUInt32();
        if (rounds is 0 or > 10_000_000)
            throw new MalformedDataException(MasterKeyFile.FormatName, roundsAt, $"implausible PBKDF2 round count {rounds}");
        var hash = reader.ReadUInt32();
        var crypt = reader.ReadUInt32();
        return new EncryptedMasterKey(version, data.Slice(4, 16), (int)rounds, hash, crypt, data[reader.Position..]);
    }

    /// <summary>
    /// Decrypts with a 20-byte pre-key (<see cref="DpapiPreKeys"/>). Returns the 64-byte master key, or null when the
    /// pre-key is wrong (the embedded HMAC does not match): a wrong password or the other DPAPI_SYSTEM half.
    /// </summary>
    public byte[]? Decrypt(ReadOnlySpan<byte> preKey)
    {
        var hash = CryptoAlgorithms.Hash(HashAlgorithm)
                   ?? throw new NotSupportedException($"master-key hash algorithm 0x{HashAlgorithm:X4} is not supported");
        var cipher = CryptoAlgorithms.Cipher(CryptAlgorithm)
                     ?? throw new NotSupportedException($"master-key cipher 0x{CryptAlgorithm:X4} is not supported");
        var hashLength = CryptoAlgorithms.HashLength(hash);
        if (CipherText.Length % cipher.BlockLength != 0 || CipherText.Length < 16 + hashLength + 64)
            return null;

        var derived = MsPbkdf2.DeriveKey(preKey, Salt.Span, Rounds, hash, cipher.KeyLength + cipher.BlockLength);
        var plain = CryptoAlgorithms.DecryptCbc(CryptAlgorithm, derived.AsSpan(0, cipher.KeyLength),
            derived.AsSpan(cipher.KeyLength, cipher.BlockLength), CipherText.Span);
        var hmacSalt = plain.AsSpan(0, 16);
        var expected = plain.AsSpan(16, hashLength);
        var masterKey = plain.AsSpan(plain.Length - 64, 64);
        var hmacKey = HMAC(hash, preKey, hmacSalt);
        var actual = HMAC(hash, hmacKey, masterKey);
        return CryptographicOperations.FixedTimeEquals(actual.AsSpan(0, hashLength), expected) ? masterKey.ToArray() : null;
    }

    private static byte[] HMAC(HashAlgorithmName hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) =>
        hash == HashAlgorithmName.SHA1 ? HMACSHA1.HashData(key, data)
        : hash == HashAlgorithmName.SHA256 ? HMACSHA256.HashData(key, data)
        : hash == HashAlgorithmName.SHA384 ? HMACSHA384.HashData(key, data)
        : HMACSHA512.HashData(key, data);
}
