using System.Buffers.Binary;
using System.Text;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Dpapi;

/// <summary>DPAPI blob flags (CRYPTPROTECT_*), as stored in the blob.</summary>
[Flags]
public enum DpapiBlobFlags : uint
{
    None = 0,
    UiForbidden = 0x1,
    LocalMachine = 0x4,
    CredSync = 0x8,
    Audit = 0x10,
    VerifyProtection = 0x40,
    CredRegenerate = 0x80,
    System = 0x20000000,
}

/// <summary>
/// A DPAPI blob (the output of CryptProtectData) parsed to its fields, without decrypting anything.
/// Every variable part is kept byte-exact, so <see cref="ToArray"/> reproduces the input and a later
/// decryption layer has everything it needs: master-key GUID, algorithms, salt, HMAC salt, cipher text,
/// signature and the exact signed range (<see cref="SignedRange"/>).
/// </summary>
/// <remarks>
/// Layout (all little-endian): version, provider GUID, then the signed part: master-key version, master-key
/// GUID, flags, description (length-prefixed UTF-16LE with NUL), crypt ALG_ID + key bits, salt, HMAC key,
/// hash ALG_ID + bits, HMAC salt, cipher text; then the length-prefixed signature. Sources: the mimikatz
/// KULL_M_DPAPI_BLOB and impacket DPAPI_BLOB structure definitions, checked on real files.
/// </remarks>
public sealed record DpapiBlob
{
    public const string FormatName = "DPAPI blob";

    /// <summary>The only DPAPI provider: {df9d8cd0-1501-11d1-8c7a-00c04fc297eb}.</summary>
    public static readonly Guid DefaultProvider = new("df9d8cd0-1501-11d1-8c7a-00c04fc297eb");

    /// <summary>Size of the fixed part before the description: version .. description length.</summary>
    public const int MinimumLength = 0x30;

    public uint Version { get; init; } = 1;
    public Guid ProviderGuid { get; init; } = DefaultProvider;
    public uint MasterKeyVersion { get; init; } = 1;

    /// <summary>GUID of the master key that protects this blob; also the master-key file name.</summary>
    public Guid MasterKeyGuid { get; init; }

    public DpapiBlobFlags Flags { get; init; }

    /// <summary>The description exactly as stored (UTF-16LE, normally with a terminating NUL).</summary>
    public ReadOnlyMemory<byte> DescriptionBytes { get; init; }

    /// <summary>ALG_ID of the cipher (0x6610 AES-256, 0x6603 3DES).</summary>
    public uint CryptAlgorithm { get; init; }
    public uint CryptAlgorithmBits { get; init; }
    public ReadOnlyMemory<byte> Salt { get; init; }

    /// <summary>The "HMAC key" field (mimikatz pbHmackKey); empty in every known blob.</summary>
    public ReadOnlyMemory<byte> HmacKey { get; init; }

    /// <summary>ALG_ID of the hash (0x800e SHA-512, 0x8004 SHA-1).</summary>
    public uint HashAlgorithm { get; init; }
    public uint HashAlgorithmBits { get; init; }

    /// <summary>The salt of the signature HMAC (mimikatz pbHmack2Key, impacket HMac).</summary>
    public ReadOnlyMemory<byte> HmacSalt { get; init; }

    public ReadOnlyMemory<byte> CipherText { get; init; }
    public ReadOnlyMemory<byte> Signature { get; init; }

    /// <summary>Where the blob started in the input it was parsed from (0 for a blob built in memory).</summary>
    public long BaseOffset { get; init; }

    /// <summary>The description as text, without the terminating NUL.</summary>
    public string Description => Encoding.Unicode.GetString(DescriptionBytes.Span).TrimEnd('\0');

    public string CryptAlgorithmName => AlgorithmNames.Of(CryptAlgorithm);
    public string HashAlgorithmName => AlgorithmNames.Of(HashAlgorithm);

    /// <summary>Offsets of every part, relative to the start of the blob.</summary>
    public DpapiBlobLayout Layout => DpapiBlobLayout.For(this);

    /// <summary>Total size in bytes.</summary>
    public int Length => Layout.Length;

    /// <summary>
    /// The bytes the signature covers, relative to the start of the blob: from the master-key version
    /// (offset 0x14) to the end of the cipher text; the signature's length field and the signature are outside.
    /// </summary>
    public Range SignedRange => new(DpapiBlobLayout.SignedStart, Layout.SignatureLengthOffset);

    /// <summary>Parses exactly one blob that fills <paramref name="data"/>; trailing bytes are an error.</summary>
    public static DpapiBlob Parse(ReadOnlyMemory<byte> data, long baseOffset = 0)
    {
        var blob = ParsePrefix(data, baseOffset, out var consumed);
        if (consumed != data.Length)
            throw new MalformedDataException(FormatName, baseOffset + consumed,
                $"{data.Length - consumed} bytes after the signature (blob is {consumed} bytes, its section {data.Length})");
        return blob;
    }

    /// <summary>Parses one blob at the start of <paramref name="data"/> and says how many bytes it used.</summary>
    public static DpapiBlob ParsePrefix(ReadOnlyMemory<byte> data, long baseOffset, out int consumed)
    {
        var reader = new SpanReader(data.Span, FormatName, baseOffset);
        var version = reader.ReadUInt32();
        if (version != 1) throw new MalformedDataException(FormatName, baseOffset, $"version {version}, expected 1");
        var provider = reader.ReadGuid();
        if (provider != DefaultProvider)
            throw new MalformedDataException(FormatName, baseOffset + 4, $"provider {provider} is not the DPAPI provider");
        var masterKeyVersion = reader.ReadUInt32();
        var masterKey = reader.ReadGuid();
        var flags = (DpapiBlobFlags)reader.ReadUInt32();
        var description = Slice(data, ref reader, "description");
        var cryptAlg = reader.ReadUInt32();
        var cryptBits = reader.ReadUInt32();
        var salt = Slice(data, ref reader, "salt");
        var hmacKey = Slice(data, ref reader, "HMAC key");
        var hashAlg = reader.ReadUInt32();
        var hashBits = reader.ReadUInt32();
        var hmacSalt = Slice(data, ref reader, "HMAC salt");
        var cipher = Slice(data, ref reader, "cipher text");
        var signature = Slice(data, ref reader, "signature");
        consumed = reader.Position;
        return new DpapiBlob
        {
            Version = version,
            ProviderGuid = provider,
            MasterKeyVersion = masterKeyVersion,
            MasterKeyGuid = masterKey,
            Flags = flags,
            DescriptionBytes = description,
            CryptAlgorithm = cryptAlg,
            CryptAlgorithmBits = cryptBits,
            Salt = salt,
            HmacKey = hmacKey,
            HashAlgorithm = hashAlg,
            HashAlgorithmBits = hashBits,
            HmacSalt = hmacSalt,
            CipherText = cipher,
            Signature = signature,
            BaseOffset = baseOffset,
        };
    }

    /// <summary>True when <paramref name="data"/> starts with version 1 and the DPAPI provider GUID.</summary>
    public static bool StartsWithBlobHeader(ReadOnlySpan<byte> data) =>
        data.Length >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(data) == 1 && new Guid(data.Slice(4, 16)) == DefaultProvider;

    /// <summary>Serialises the fields; for a parsed blob this is the exact input.</summary>
    public byte[] ToArray()
    {
        var output = new byte[Length];
        var span = output.AsSpan();
        var position = 0;
        void U32(Span<byte> s, uint v) { BinaryPrimitives.WriteUInt32LittleEndian(s[position..], v); position += 4; }
        void Id(Span<byte> s, Guid g) { g.TryWriteBytes(s[position..]); position += 16; }
        void Bytes(Span<byte> s, ReadOnlyMemory<byte> b) { U32(s, (uint)b.Length); b.Span.CopyTo(s[position..]); position += b.Length; }
        U32(span, Version);
        Id(span, ProviderGuid);
        U32(span, MasterKeyVersion);
        Id(span, MasterKeyGuid);
        U32(span, (uint)Flags);
        Bytes(span, DescriptionBytes);
        U32(span, CryptAlgorithm);
        U32(span, CryptAlgorithmBits);
        Bytes(span, Salt);
        Bytes(span, HmacKey);
        U32(span, HashAlgorithm);
        U32(span, HashAlgorithmBits);
        Bytes(span, HmacSalt);
        Bytes(span, CipherText);
        Bytes(span, Signature);
        return output;
    }

    /// <summary>The signed bytes (see <see cref="SignedRange"/>), for a later HMAC check.</summary>
    public byte[] SignedBytes() => ToArray()[SignedRange];

    public static ReadOnlyMemory<byte> EncodeDescription(string description) =>
        Encoding.Unicode.GetBytes(description + "\0");

    private static ReadOnlyMemory<byte> Slice(ReadOnlyMemory<byte> data, ref SpanReader reader, string field)
    {
        var lengthOffset = reader.AbsolutePosition;
        var length = reader.ReadUInt32();
        if (length > (uint)reader.Remaining)
            throw new MalformedDataException(FormatName, lengthOffset,
                $"{field} length {length} exceeds the {reader.Remaining} bytes left");
        var start = reader.Position;
        reader.Skip((int)length);
        return data.Slice(start, (int)length);
    }
}

/// <summary>Offsets (relative to the blob start) of every part of a <see cref="DpapiBlob"/>.</summary>
public sealed record DpapiBlobLayout(
    int DescriptionLengthOffset,
    int CryptAlgorithmOffset,
    int SaltLengthOffset,
    int HmacKeyLengthOffset,
    int HashAlgorithmOffset,
    int HmacSaltLengthOffset,
    int CipherTextLengthOffset,
    int SignatureLengthOffset,
    int Length)
{
    public const int MasterKeyVersionOffset = 0x14;
    public const int MasterKeyGuidOffset = 0x18;
    public const int FlagsOffset = 0x28;

    /// <summary>The signed region starts at the master-key version.</summary>
    public const int SignedStart = MasterKeyVersionOffset;

    public int CipherTextOffset => CipherTextLengthOffset + 4;
    public int SignatureOffset => SignatureLengthOffset + 4;

    internal static DpapiBlobLayout For(DpapiBlob blob)
    {
        var description = 0x2C;
        var crypt = description + 4 + blob.DescriptionBytes.Length;
        var salt = crypt + 8;
        var hmacKey = salt + 4 + blob.Salt.Length;
        var hash = hmacKey + 4 + blob.HmacKey.Length;
        var hmacSalt = hash + 8;
        var cipher = hmacSalt + 4 + blob.HmacSalt.Length;
        var signature = cipher + 4 + blob.CipherText.Length;
        var length = signature + 4 + blob.Signature.Length;
        return new DpapiBlobLayout(description, crypt, salt, hmacKey, hash, hmacSalt, cipher, signature, length);
    }
}

/// <summary>Names of the CryptoAPI ALG_IDs found in DPAPI blobs and master keys.</summary>
public static class AlgorithmNames
{
    public static string Of(uint algId) => algId switch
    {
        0x6601 => "DES",
        0x6603 => "3DES",
        0x6609 => "3DES-112",
        0x660E => "AES-128",
        0x660F => "AES-192",
        0x6610 => "AES-256",
        0x6801 => "RC4",
        0x8003 => "MD5",
        0x8004 => "SHA-1",
        0x8009 => "HMAC",
        0x800C => "SHA-256",
        0x800D => "SHA-384",
        0x800E => "SHA-512",
        _ => $"0x{algId:X4}",
    };
}
