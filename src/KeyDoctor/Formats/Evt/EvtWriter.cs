using System.Buffers.Binary;
using System.Text;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Formats.Evt;

/// <summary>One record for <see cref="EvtWriter"/>.</summary>
public sealed record EvtRecordToWrite
{
    public required uint RecordNumber { get; init; }
    public required DateTime TimeGenerated { get; init; }
    public DateTime? TimeWritten { get; init; }
    public required uint EventIdentifier { get; init; }
    public EvtEventType EventType { get; init; } = EvtEventType.Information;
    public ushort Category { get; init; }
    public required string SourceName { get; init; }
    public required string ComputerName { get; init; }
    /// <summary>S-1-5-…, or null for none.</summary>
    public string? UserSid { get; init; }
    public IReadOnlyList<string> Strings { get; init; } = [];
    public byte[] Data { get; init; } = [];
}

/// <summary>
/// Writes a legacy event log the way the Windows XP / Server 2003 event log service lays it out: the header,
/// records in a ring that may wrap past the end of the file (a record is split there and continues after the
/// header), and the end-of-file record. Used to build damaged and wrapped logs for tests.
/// </summary>
public static class EvtWriter
{
    /// <summary>
    /// A file of <paramref name="fileSize"/> bytes whose oldest record starts at <paramref name="firstRecordOffset"/>
    /// (default: right after the header). A start near the end makes the ring wrap. <paramref name="dirty"/> sets
    /// the dirty flag and leaves the header's end offset and next record number stale, as a crash does.
    /// </summary>
    public static byte[] Write(IReadOnlyList<EvtRecordToWrite> records, int fileSize, int? firstRecordOffset = null, bool dirty = false)
    {
        var ring = fileSize - EvtFileHeader.Size;
        var encoded = records.Select(Encode).ToList();
        if (encoded.Sum(r => r.Length) + EvtEndOfFileRecord.Size > ring)
            throw new ArgumentException($"the records do not fit a {fileSize}-byte file", nameof(records));
        var first = firstRecordOffset ?? EvtFileHeader.Size;
        if (first < EvtFileHeader.Size || first >= fileSize || first % 4 != 0)
            throw new ArgumentOutOfRangeException(nameof(firstRecordOffset));

        var file = new byte[fileSize];
        var position = first;
        var wrapped = false;
        foreach (var record in encoded)
        {
            position = Put(file, position, record, ref wrapped);
        }
        var eofOffset = position;
        var firstNumber = records.Count > 0 ? records[0].RecordNumber : 1;
        var nextNumber = records.Count > 0 ? records[^1].RecordNumber + 1 : 1;
        var eof = new byte[EvtEndOfFileRecord.Size];
        EvtEndOfFileRecord.Write(eof, (uint)first, (uint)eofOffset, nextNumber, firstNumber);
        Put(file, position, eof, ref wrapped);

        var header = file.AsSpan(0, EvtFileHeader.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(header, EvtFileHeader.Size);
        EvtFileHeader.Signature.CopyTo(header[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)first);
        // A dirty header was last written when the log was opened: it still points at an empty log's end.
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], dirty ? (uint)first : (uint)eofOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], dirty ? firstNumber : nextNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], firstNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], (uint)fileSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[36..], (dirty ? 1u : 0) | (wrapped ? 2u : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[44..], EvtFileHeader.Size);
        return file;
    }

    /// <summary>One EVENTLOGRECORD: fixed part, source, computer, SID, strings, data, padding, size copy.</summary>
    public static byte[] Encode(EvtRecordToWrite record)
    {
        var sid = record.UserSid is null ? [] : EventDataValue.SidBytes(record.UserSid);
        var names = Utf16z(record.SourceName).Concat(Utf16z(record.ComputerName)).ToArray();
        var sidOffset = Align(EvtRecord.FixedSize + names.Length, 4);
        var strings = record.Strings.SelectMany(Utf16z).ToArray();
        var stringOffset = sidOffset + sid.Length;
        var dataOffset = stringOffset + strings.Length;
        var size = Align(dataOffset + record.Data.Length, 4) + 4;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)size);
        EvtFileHeader.Signature.CopyTo(span[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], record.RecordNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], UnixSeconds(record.TimeGenerated));
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], UnixSeconds(record.TimeWritten ?? record.TimeGenerated));
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], record.EventIdentifier);
        BinaryPrimitives.WriteUInt16LittleEndian(span[24..], (ushort)record.EventType);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], (ushort)record.Strings.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], record.Category);
        BinaryPrimitives.WriteUInt32LittleEndian(span[36..], (uint)stringOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[40..], (uint)sid.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[44..], (uint)sidOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[48..], (uint)record.Data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[52..], (uint)dataOffset);
        names.CopyTo(span[EvtRecord.FixedSize..]);
        sid.CopyTo(span[sidOffset..]);
        strings.CopyTo(span[stringOffset..]);
        record.Data.CopyTo(span[dataOffset..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], (uint)size);
        return bytes;
    }

    private static int Put(byte[] file, int position, byte[] bytes, ref bool wrapped)
    {
        var first = Math.Min(bytes.Length, file.Length - position);
        bytes.AsSpan(0, first).CopyTo(file.AsSpan(position));
        if (first == bytes.Length) return position + first == file.Length ? EvtFileHeader.Size : position + first;
        wrapped = true;
        bytes.AsSpan(first).CopyTo(file.AsSpan(EvtFileHeader.Size));
        return EvtFileHeader.Size + bytes.Length - first;
    }

    private static byte[] Utf16z(string text) => Encoding.Unicode.GetBytes(text + "\0");

    private static int Align(int value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static uint UnixSeconds(DateTime utc) => (uint)Math.Max(0, (utc - DateTime.UnixEpoch).TotalSeconds);
}
