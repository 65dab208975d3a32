using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Big data ("db"): a value larger than 16344 bytes is stored as a list of segments, each a cell holding up to
/// 16344 bytes of the data (the rest of a segment's cell is alignment padding).
/// </summary>
internal static class BigData
{
    public static bool IsBigData(ReadOnlySpan<byte> cell) => cell.Length >= 8 && cell[0] == (byte)'d' && cell[1] == (byte)'b';

    /// <summary>Reassembles <paramref name="dataSize"/> bytes; returns what could be read and a reason when short.</summary>
    public static byte[] Assemble(RegistryHive hive, uint dbOffset, ReadOnlySpan<byte> db, uint dataSize, out string? problem)
    {
        problem = null;
        int segments = BinaryPrimitives.ReadUInt16LittleEndian(db[2..]);
        var listOffset = BinaryPrimitives.ReadUInt32LittleEndian(db[4..]);
        if (!hive.TryGetCell(listOffset, out var listCell, out var reason))
        {
            problem = $"big data segment list unreadable: {reason}";
            hive.Report(listOffset, problem);
            return [];
        }
        var list = hive.Span(listCell);
        if (segments * 4 > list.Length)
        {
            problem = $"big data claims {segments} segments but its list holds {list.Length / 4}";
            hive.Report(listOffset, problem);
            segments = list.Length / 4;
        }
        // Never allocate more than the segments can hold, whatever the size field says.
        var capacity = (int)Math.Min(dataSize, (long)segments * ValueKey.BigDataThreshold);
        var result = new byte[capacity];
        var written = 0;
        for (var i = 0; i < segments && written < capacity; i++)
        {
            var segmentOffset = BinaryPrimitives.ReadUInt32LittleEndian(list[(i * 4)..]);
            if (!hive.TryGetCell(segmentOffset, out var segment, out reason))
            {
                problem = $"big data segment {i} unreadable: {reason}";
                hive.Report(segmentOffset, problem);
                break;
            }
            var take = Math.Min(Math.Min(ValueKey.BigDataThreshold, capacity - written), segment.Length);
            hive.Span(segment)[..take].CopyTo(result.AsSpan(written));
            written += take;
        }
        if (written < dataSize)
        {
            problem ??= $"big data holds {written} of {dataSize} bytes";
            hive.Report(dbOffset, problem);
        }
        return written == result.Length ? result : result[..written];
    }
}
