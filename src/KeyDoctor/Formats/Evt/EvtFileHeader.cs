using System.Buffers.Binary;

namespace KeyDoctor.Formats.Evt;

/// <summary>
/// The 48-byte ELF_LOGFILE_HEADER at the start of a legacy event log (.Evt: Windows NT 4 to Server 2003).
/// The service rewrites it only when the log is closed cleanly, so a dirty file's offsets and record numbers
/// may be stale; the end-of-file record then has the current ones.
/// </summary>
public sealed record EvtFileHeader
{
    public const int Size = 48;
    internal const string Format = "evt";
    internal static ReadOnlySpan<byte> Signature => "LfLe"u8;

    public uint MajorVersion { get; init; }
    public uint MinorVersion { get; init; }
    /// <summary>Where the oldest record starts.</summary>
    public uint FirstRecordOffset { get; init; }
    /// <summary>Where the end-of-file record starts.</summary>
    public uint EndOfFileOffset { get; init; }
    /// <summary>The number the next record will get (one past the newest).</summary>
    public uint NextRecordNumber { get; init; }
    public uint FirstRecordNumber { get; init; }
    public uint MaximumSize { get; init; }
    /// <summary>0x1 dirty, 0x2 wrapped, 0x4 log full, 0x8 archive.</summary>
    public uint Flags { get; init; }
    public uint Retention { get; init; }

    public bool IsDirty => (Flags & 0x1) != 0;
    public bool HasWrapped => (Flags & 0x2) != 0;
    public bool IsFull => (Flags & 0x4) != 0;

    /// <summary>Parses the header; throws when the file is not an .Evt log.</summary>
    public static EvtFileHeader Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < Size)
            throw new MalformedDataException(Format, 0, $"file header needs {Size} bytes but the file has {data.Length}");
        if (!data[4..8].SequenceEqual(Signature))
            throw new MalformedDataException(Format, 4, "not a legacy event log (no \"LfLe\" signature)");
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (size != Size || BinaryPrimitives.ReadUInt32LittleEndian(data[44..]) != Size)
            throw new MalformedDataException(Format, 0, $"header size is {size}, not {Size}");
        return new EvtFileHeader
        {
            MajorVersion = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]),
            MinorVersion = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]),
            FirstRecordOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]),
            EndOfFileOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]),
            NextRecordNumber = BinaryPrimitives.ReadUInt32LittleEndian(data[24..]),
            FirstRecordNumber = BinaryPrimitives.ReadUInt32LittleEndian(data[28..]),
            MaximumSize = BinaryPrimitives.ReadUInt32LittleEndian(data[32..]),
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(data[36..]),
            Retention = BinaryPrimitives.ReadUInt32LittleEndian(data[40..]),
        };
    }
}
