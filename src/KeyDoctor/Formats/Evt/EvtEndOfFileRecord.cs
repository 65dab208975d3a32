using System.Buffers.Binary;

namespace KeyDoctor.Formats.Evt;

/// <summary>
/// The 40-byte ELF_EOF_RECORD that follows the newest record: four signature words (0x11111111 … 0x44444444)
/// and the current first/end offsets and record numbers, which a dirty file's header may lack.
/// </summary>
public sealed record EvtEndOfFileRecord
{
    public const int Size = 40;

    public uint FirstRecordOffset { get; init; }
    public uint EndOfFileOffset { get; init; }
    public uint NextRecordNumber { get; init; }
    public uint FirstRecordNumber { get; init; }

    /// <summary>True when <paramref name="data"/> starts with an end-of-file record (size and the four signatures).</summary>
    public static bool IsAt(ReadOnlySpan<byte> data) =>
        data.Length >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(data) == Size
        && BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) == 0x11111111
        && BinaryPrimitives.ReadUInt32LittleEndian(data[8..]) == 0x22222222
        && BinaryPrimitives.ReadUInt32LittleEndian(data[12..]) == 0x33333333
        && BinaryPrimitives.ReadUInt32LittleEndian(data[16..]) == 0x44444444;

    /// <summary>Parses a record that <see cref="IsAt"/> accepted.</summary>
    public static EvtEndOfFileRecord Parse(ReadOnlySpan<byte> data, long offset)
    {
        if (data.Length < Size || !IsAt(data))
            throw new MalformedDataException(EvtFileHeader.Format, offset, "not an end-of-file record");
        return new EvtEndOfFileRecord
        {
            FirstRecordOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]),
            EndOfFileOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[24..]),
            NextRecordNumber = BinaryPrimitives.ReadUInt32LittleEndian(data[28..]),
            FirstRecordNumber = BinaryPrimitives.ReadUInt32LittleEndian(data[32..]),
        };
    }

    internal static void Write(Span<byte> destination, uint firstOffset, uint endOffset, uint nextNumber, uint firstNumber)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Size);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], 0x11111111);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], 0x22222222);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0x33333333);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], 0x44444444);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], firstOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], endOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], nextNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[32..], firstNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[36..], Size);
    }
}
