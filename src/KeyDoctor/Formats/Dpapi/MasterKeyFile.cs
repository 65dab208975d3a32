using System.Buffers.Binary;
using System.Text;
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

    /// <summary>
    /// A master-key file holding one already-encrypted key (no backup key, CREDHIST or domain section), laid out as
    /// Windows writes it: version 2, the GUID as text, <paramref name="flags"/> (6 for system keys, 5 for local users).
    /// </summary>
    public static byte[] Write(Guid guid, EncryptedMasterKey masterKey, uint flags)
    {
        var section = masterKey.ToArray();
        var file = new byte[HeaderLength + section.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 2);
        Encoding.Unicode.GetBytes(guid.ToString("D")).CopyTo(file, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x5C), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(0x60), (ulong)section.Length);
        section.CopyTo(file, HeaderLength);
        return file;
    }

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
/// Parsed only; <c>KeyDoctor.Crypto.Dpapi.MasterKeyDecryptor</c> opens it.
/// </summary>
public sealed record EncryptedMasterKey(uint Version, ReadOnlyMemory<byte> Salt, int Rounds, uint HashAlgorithm,
                                        uint CryptAlgorithm, ReadOnlyMemory<byte> CipherText)
{
    public const int HeaderLength = 32;
    public const int SaltLength = 16;

    /// <summary>
    /// The most PBKDF2 rounds a master key may ask for. Windows writes 4,000 (XP) to 24,000 (Vista) by the published
    /// counts, and the real files among the fixtures hold 3,300 to 18,000 (docs/formats/dpapi-master-key.md). Four times the highest published count
    /// keeps headroom for a raised policy, and bounds the work a damaged or hostile file can ask for per key tried.
    /// </summary>
    public const int MaxRounds = 100_000;

    /// <summary>Offset of the rounds field from the start of the key.</summary>
    public const int RoundsOffset = 20;
    public const int HashAlgorithmOffset = 24;
    public const int CryptAlgorithmOffset = 28;

    /// <summary>Where the key starts in the master-key file, for error offsets.</summary>
    public long Offset { get; init; }

    public static EncryptedMasterKey Parse(ReadOnlyMemory<byte> data, long baseOffset)
    {
        var reader = new SpanReader(data.Span, MasterKeyFile.FormatName, baseOffset);
        var version = reader.ReadUInt32();
        reader.Skip(SaltLength);
        var roundsAt = reader.AbsolutePosition;
        var rounds = reader.ReadUInt32();
        if (rounds == 0)
            throw new MalformedDataException(MasterKeyFile.FormatName, roundsAt, "the PBKDF2 round count is 0: the master key is damaged");
        if (rounds > MaxRounds)
            throw new MalformedDataException(MasterKeyFile.FormatName, roundsAt,
                $"the PBKDF2 round count {rounds:N0} is above the {MaxRounds:N0} KeyDoctor accepts (Windows writes about 3,000 to 24,000): " +
                "the master key is damaged; use a backup copy of this file");
        var hash = reader.ReadUInt32();
        var crypt = reader.ReadUInt32();
        return new EncryptedMasterKey(version, data.Slice(4, SaltLength), (int)rounds, hash, crypt, data[reader.Position..]) { Offset = baseOffset };
    }

    /// <summary>The key's bytes as a master-key file holds them (the inverse of <see cref="Parse"/>).</summary>
    public byte[] ToArray()
    {
        if (Salt.Length != SaltLength) throw new ArgumentException($"a master-key salt is {SaltLength} bytes");
        var output = new byte[HeaderLength + CipherText.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(output, Version);
        Salt.Span.CopyTo(output.AsSpan(4));
        BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(RoundsOffset), Rounds);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(HashAlgorithmOffset), HashAlgorithm);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(CryptAlgorithmOffset), CryptAlgorithm);
        CipherText.Span.CopyTo(output.AsSpan(HeaderLength));
        return output;
    }
}
