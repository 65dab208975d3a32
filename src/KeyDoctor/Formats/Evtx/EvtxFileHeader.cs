using System.Buffers.Binary;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// The 4096-byte EVTX file header (only its first 128 bytes are used). Dirty files lie about their chunk
/// count, so readers use <see cref="ChunkCount"/> only to decide whether a damaged slot is an error.
/// </summary>
public sealed record EvtxFileHeader
{
    public const int Size = 4096;
    internal const string Format = "evtx";
    private static ReadOnlySpan<byte> Magic => "ElfFile\0"u8;

    /// <summary>Oldest chunk number (a wrapped log has <see cref="FirstChunkNumber"/> &gt; <see cref="LastChunkNumber"/>).</summary>
    public ulong FirstChunkNumber { get; init; }
    public ulong LastChunkNumber { get; init; }
    public ulong NextRecordId { get; init; }
    public ushort MinorVersion { get; init; }
    public ushort MajorVersion { get; init; }
    public ushort HeaderBlockSize { get; init; }
    /// <summary>Number of chunks the header claims; a dirty file may hold more.</summary>
    public ushort ChunkCount { get; init; }
    /// <summary>0x1 dirty, 0x2 full, 0x4 no CRC-32 (Windows 10 2004 and later may set it).</summary>
    public uint Flags { get; init; }
    public uint StoredChecksum { get; init; }
    /// <summary>CRC-32 of bytes 0..119 matches the stored value (always true when <see cref="HasNoChecksums"/>).</summary>
    public bool ChecksumValid { get; init; }

    public bool IsDirty => (Flags & 0x1) != 0;
    public bool IsFull => (Flags & 0x2) != 0;
    public bool HasNoChecksums => (Flags & 0x4) != 0;

    /// <summary>Parses the header from the first bytes of a file; throws when the magic is wrong.</summary>
    public static EvtxFileHeader Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 128)
            throw new MalformedDataException(Format, 0, $"file header needs 128 bytes but the file has {data.Length}");
        if (!data[..8].SequenceEqual(Magic))
            throw new MalformedDataException(Format, 0, "not an EVTX file (no \"ElfFile\" signature)");
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(data[120..]);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(data[124..]);
        var noCrc = (flags & 0x4) != 0;
        return new EvtxFileHeader
        {
            FirstChunkNumber = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]),
            LastChunkNumber = BinaryPrimitives.ReadUInt64LittleEndian(data[16..]),
            NextRecordId = BinaryPrimitives.ReadUInt64LittleEndian(data[24..]),
            MinorVersion = BinaryPrimitives.ReadUInt16LittleEndian(data[36..]),
            MajorVersion = BinaryPrimitives.ReadUInt16LittleEndian(data[38..]),
            HeaderBlockSize = BinaryPrimitives.ReadUInt16LittleEndian(data[40..]),
            ChunkCount = BinaryPrimitives.ReadUInt16LittleEndian(data[42..]),
            Flags = flags,
            StoredChecksum = stored,
            ChecksumValid = noCrc || stored == Crc32.Compute(data[..120]),
        };
    }
}
