using System.Buffers.Binary;
using System.Text;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>The 44-byte header of a CNG (Microsoft Software KSP) key file.</summary>
/// <remarks>
/// The DWORD at 0x0C is read as two WORDs: <see cref="Type"/> and <see cref="PropertyCount"/> (dissect.target's
/// reading; mimikatz keeps it as one DWORD). Neither meaning is documented; both values are shown as read.
/// </remarks>
public sealed record CngKeyFileHeader(
    uint Version,
    uint Reserved,
    uint NameLength,
    ushort Type,
    ushort PropertyCount,
    uint PublicPropertiesLength,
    uint PrivatePropertiesLength,
    uint PrivateKeyLength,
    ReadOnlyMemory<byte> Reserved2)
{
    public const int Length = 44;
    public const uint ExpectedVersion = 1;
    public const uint MaxNameLength = ReaderLimits.CngKeyFileMaxNameBytes;
    public const uint MaxSectionLength = ReaderLimits.KeyFileMaxSectionBytes;

    public long DeclaredFileLength => Length + (long)NameLength + PublicPropertiesLength + PrivatePropertiesLength + PrivateKeyLength;

    public static CngKeyFileHeader Read(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < Length)
            throw new MalformedDataException(CngKeyFile.FormatName, span.Length,
                $"needs a {Length}-byte header but the input has {span.Length} bytes");
        return new CngKeyFileHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(span),
            BinaryPrimitives.ReadUInt32LittleEndian(span[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(span[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(span[14..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[24..]),
            data.Slice(28, 16));
    }

    /// <summary>Why these header values cannot belong to a key file, or null when they can.</summary>
    public string? Implausibility()
    {
        if (Version != ExpectedVersion) return $"version {Version} at 0x0, expected {ExpectedVersion}";
        if (NameLength is 0 or > MaxNameLength || NameLength % 2 != 0)
            return $"name length {NameLength} at 0x8 is not a plausible UTF-16 length";
        if (PublicPropertiesLength > MaxSectionLength) return $"public properties length {PublicPropertiesLength} at 0x10 is not plausible";
        if (PrivatePropertiesLength > MaxSectionLength) return $"private properties length {PrivatePropertiesLength} at 0x14 is not plausible";
        if (PrivateKeyLength > MaxSectionLength) return $"private key length {PrivateKeyLength} at 0x18 is not plausible";
        return null;
    }
}

/// <summary>One property record: <c>cbStruct, type, reserved, cbName, cbValue, name (UTF-16LE), value</c>.</summary>
public sealed record CngProperty(long Offset, uint StructLength, uint Type, uint Reserved, string Name, ReadOnlyMemory<byte> Value)
{
    public const int HeaderLength = 20;

    /// <summary>Absolute offset of the value bytes.</summary>
    public long ValueOffset => Offset + StructLength - Value.Length;

    /// <summary>The "Modified" FILETIME as UTC, when this is that property.</summary>
    public DateTime? AsFileTime =>
        Value.Length == 8 && BinaryPrimitives.ReadInt64LittleEndian(Value.Span) is var ft and > 0 and < 2650467743999999999
            ? DateTime.FromFileTimeUtc(ft) : null;

    /// <summary>The value as UTF-16 text (for CreatorProcessName and other string properties).</summary>
    public string AsText => Encoding.Unicode.GetString(Value.Span[..(Value.Length & ~1)]).TrimEnd('\0');

    /// <summary>
    /// Reads a property list (the public-properties section, or a decrypted private-properties blob). Each record
    /// must fit and have a consistent length; the first bad one throws.
    /// </summary>
    public static IReadOnlyList<CngProperty> ReadList(ReadOnlyMemory<byte> data, long baseOffset)
    {
        var list = new List<CngProperty>();
        var position = 0;
        while (position < data.Length)
        {
            var reader = new SpanReader(data.Span[position..], "CNG property", baseOffset + position);
            var structLength = reader.ReadUInt32();
            var type = reader.ReadUInt32();
            var reserved = reader.ReadUInt32();
            var nameLength = reader.ReadUInt32();
            var valueLength = reader.ReadUInt32();
            if (structLength < HeaderLength || structLength > data.Length - position
                || (ulong)nameLength + valueLength + HeaderLength > structLength || nameLength % 2 != 0)
                throw new MalformedDataException("CNG property", baseOffset + position,
                    $"record length {structLength} (name {nameLength}, value {valueLength}) does not fit the {data.Length - position} bytes left");
            var name = Encoding.Unicode.GetString(reader.ReadBytes((int)nameLength));
            var value = data.Slice(position + HeaderLength + (int)nameLength, (int)valueLength);
            list.Add(new CngProperty(baseOffset + position, structLength, type, reserved, name, value));
            position += (int)structLength; // structLength >= 20: the loop always advances
        }
        return list;
    }
}

/// <summary>
/// A CNG key file (Crypto\Keys, Crypto\SystemKeys) parsed without decrypting: header, key name, public
/// properties (with the public key blob when there is one) and the DPAPI blobs of the private properties and of
/// the private key, parsed to their headers. Structural problems throw <see cref="MalformedDataException"/>;
/// a section whose content does not parse is kept in <see cref="Errors"/>.
/// </summary>
public sealed record CngKeyFile
{
    public const string FormatName = "CNG key file";

    public required CngKeyFileHeader Header { get; init; }
    public required string Name { get; init; }
    public required ReadOnlyMemory<byte> NameBytes { get; init; }
    public required KeyFileSection PublicPropertiesSection { get; init; }
    public required KeyFileSection PrivatePropertiesSection { get; init; }
    public required KeyFileSection PrivateKeySection { get; init; }
    public IReadOnlyList<CngProperty> PublicProperties { get; init; } = [];

    /// <summary>The public key from the public-key property (null for symmetric keys such as a KDBM AES key).</summary>
    public PublicKeyInfo? PublicKey { get; init; }

    public DpapiBlob? PrivateProperties { get; init; }
    public DpapiBlob? PrivateKey { get; init; }
    public int TrailingLength { get; init; }
    public IReadOnlyList<KeyFilePartError> Errors { get; init; } = [];

    /// <summary>The "Modified" public property, when present.</summary>
    public DateTime? Modified => PublicProperties.FirstOrDefault(p => p.Name == "Modified")?.AsFileTime;

    public UInt128 NameDigest => ContainerName.CngDigest(Name);

    public static CngKeyFile Parse(ReadOnlyMemory<byte> data)
    {
        var header = CngKeyFileHeader.Read(data);
        if (header.Implausibility() is { } why) throw new MalformedDataException(FormatName, 0, why);
        if (header.DeclaredFileLength > data.Length)
            throw new MalformedDataException(FormatName, data.Length,
                $"truncated: the header declares {header.DeclaredFileLength} bytes, the input has {data.Length}");

        var errors = new List<KeyFilePartError>();
        long position = CngKeyFileHeader.Length;
        KeyFileSection Next(KeyFilePart part, uint length)
        {
            var section = new KeyFileSection(part, null, position, (int)length);
            position += length;
            return section;
        }
        var nameSection = Next(KeyFilePart.Name, header.NameLength);
        var nameBytes = data.Slice((int)nameSection.Offset, nameSection.Length);
        var name = Encoding.Unicode.GetString(nameBytes.Span).TrimEnd('\0');
        var publicSection = Next(KeyFilePart.PublicProperties, header.PublicPropertiesLength);
        var privatePropertiesSection = Next(KeyFilePart.PrivatePropertiesBlob, header.PrivatePropertiesLength);
        var privateKeySection = Next(KeyFilePart.PrivateKeyBlob, header.PrivateKeyLength);

        IReadOnlyList<CngProperty> properties = [];
        PublicKeyInfo? publicKey = null;
        try
        {
            properties = CngProperty.ReadList(data.Slice((int)publicSection.Offset, publicSection.Length), publicSection.Offset);
        }
        catch (MalformedDataException ex)
        {
            errors.Add(new KeyFilePartError(publicSection, ex.Offset, ex.Reason));
        }
        // The public key is the property whose value is a BCRYPT public blob (an unnamed property in real files).
        if (properties.FirstOrDefault(p => BcryptPublicKeyBlob.IsPublicKeyBlob(p.Value.Span)) is { } keyProperty)
        {
            try
            {
                publicKey = BcryptPublicKeyBlob.Parse(keyProperty.Value.Span, keyProperty.ValueOffset);
            }
            catch (MalformedDataException ex)
            {
                errors.Add(new KeyFilePartError(
                    new KeyFileSection(KeyFilePart.PublicKey, null, keyProperty.ValueOffset, keyProperty.Value.Length), ex.Offset, ex.Reason));
            }
        }

        DpapiBlob? Blob(KeyFileSection section)
        {
            if (section.Length == 0) return null;
            try
            {
                return DpapiBlob.Parse(data.Slice((int)section.Offset, section.Length), section.Offset);
            }
            catch (MalformedDataException ex)
            {
                errors.Add(new KeyFilePartError(section, ex.Offset, ex.Reason));
                return null;
            }
        }

        return new CngKeyFile
        {
            Header = header,
            Name = name,
            NameBytes = nameBytes,
            PublicPropertiesSection = publicSection,
            PrivatePropertiesSection = privatePropertiesSection,
            PrivateKeySection = privateKeySection,
            PublicProperties = properties,
            PublicKey = publicKey,
            PrivateProperties = Blob(privatePropertiesSection),
            PrivateKey = Blob(privateKeySection),
            TrailingLength = (int)(data.Length - position),
            Errors = errors,
        };
    }
}
