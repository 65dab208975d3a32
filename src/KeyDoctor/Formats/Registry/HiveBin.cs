using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

/// <summary>A hive bin header: 32 bytes, "hbin", its own offset (relative to the bins data) and its size.</summary>
public readonly record struct HiveBin(uint Offset, uint Size, DateTime? Timestamp, bool SignatureValid)
{
    public const int HeaderSize = 32;
    public const int PageSize = 4096;

    internal static bool TryRead(ReadOnlySpan<byte> header, uint expectedOffset, uint remaining, out HiveBin bin)
    {
        bin = default;
        if (header.Length < HeaderSize) return false;
        var signatureValid = header[..4].SequenceEqual("hbin"u8);
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        var timestamp = FileTime.ToDateTime(BinaryPrimitives.ReadUInt64LittleEndian(header[20..]));
        var sizeValid = size >= PageSize && size % PageSize == 0 && size <= remaining;
        bin = new HiveBin(offset, size, timestamp, signatureValid);
        // A bin whose signature was damaged but whose offset and size agree with its position is still usable
        // (ez/SAMBadHBinHeader); one whose offset or size disagree cannot be trusted to delimit its cells.
        return offset == expectedOffset && sizeValid;
    }
}
