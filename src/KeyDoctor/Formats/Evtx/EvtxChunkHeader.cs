using System.Buffers.Binary;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// The 512-byte header of a 64 KiB chunk: record range, free-space offset, and the two CRC-32 values
/// (header bytes 0..119 + 128..511, and record data 512..free-space offset).
/// </summary>
public sealed record EvtxChunkHeader
{
    public const int ChunkSize = 65536;
    public const int HeaderSize = 512;
    private static ReadOnlySpan<byte> Magic => "ElfChnk\0"u8;

    public ulong FirstRecordNumber { get; init; }
    public ulong LastRecordNumber { get; init; }
    public ulong FirstRecordId { get; init; }
    public ulong LastRecordId { get; init; }
    public uint LastRecordOffset { get; init; }
    /// <summary>End of record data, chunk-relative. Archived files sometimes store 0x10000.</summary>
    public uint FreeSpaceOffset { get; init; }
    public uint Flags { get; init; }
    public bool HasNoChecksums => (Flags & 0x4) != 0;
    /// <summary>Header CRC-32 matches (true when the chunk says it has no checksums).</summary>
    public bool HeaderChecksumValid { get; init; }
    /// <summary>Record-data CRC-32 matches (true when the chunk says it has no checksums).</summary>
    public bool DataChecksumValid { get; init; }

    /// <summary>True when the slot starts with the "ElfChnk" signature.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> chunk) => chunk.Length >= 8 && chunk[..8].SequenceEqual(Magic);

    /// <summary>Parses the header of a full 64 KiB chunk; the caller has checked the signature.</summary>
    public static EvtxChunkHeader Parse(ReadOnlySpan<byte> chunk, long fileOffset)
    {
        if (chunk.Length < HeaderSize || !HasSignature(chunk))
            throw new MalformedDataException(EvtxFileHeader.Format, fileOffset, "not a chunk (no \"ElfChnk\" signature)");
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(chunk[120..]);
        var freeSpace = BinaryPrimitives.ReadUInt32LittleEndian(chunk[48..]);
        var noCrc = (flags & 0x4) != 0;
        var headerValid = true;
        var dataValid = true;
        if (!noCrc)
        {
            var crc = Crc32.Append(Crc32.Compute(chunk[..120]), chunk[128..HeaderSize]);
            headerValid = crc == BinaryPrimitives.ReadUInt32LittleEndian(chunk[124..]);
            var dataEnd = (int)Math.Clamp(freeSpace, HeaderSize, (uint)Math.Min(chunk.Length, ChunkSize));
            dataValid = Crc32.Compute(chunk[HeaderSize..dataEnd]) == BinaryPrimitives.ReadUInt32LittleEndian(chunk[52..]);
        }
        return new EvtxChunkHeader
        {
            FirstRecordNumber = BinaryPrimitives.ReadUInt64LittleEndian(chunk[8..]),
            LastRecordNumber = BinaryPrimitives.ReadUInt64LittleEndian(chunk[16..]),
            FirstRecordId = BinaryPrimitives.ReadUInt64LittleEndian(chunk[24..]),
            LastRecordId = BinaryPrimitives.ReadUInt64LittleEndian(chunk[32..]),
            LastRecordOffset = BinaryPrimitives.ReadUInt32LittleEndian(chunk[44..]),
            FreeSpaceOffset = freeSpace,
            Flags = flags,
            HeaderChecksumValid = headerValid,
            DataChecksumValid = dataValid,
        };
    }
}
