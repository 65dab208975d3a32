using System.Buffers.Binary;
using System.Text;
using KeyDoctor.Formats.Primitives;
using KeyDoctor.Formats.Security;

namespace KeyDoctor.Formats.Evt;

/// <summary>EVENTLOGRECORD's event type (one value, not flags, in practice).</summary>
public enum EvtEventType : ushort
{
    Success = 0,
    Error = 1,
    Warning = 2,
    Information = 4,
    AuditSuccess = 8,
    AuditFailure = 16,
}

/// <summary>
/// One EVENTLOGRECORD. There is no message text in the file (it lives in the source's message DLL), so the
/// insertion strings are the evidence. Offsets inside the record that point outside it are ignored, as
/// Windows' own readers do; what could not be read is said in <see cref="Damage"/>.
/// </summary>
public sealed record EvtRecord
{
    internal const int FixedSize = 56;

    /// <summary>Where the record starts in the file (a wrapped record continues after the file header).</summary>
    public long FileOffset { get; init; }
    public uint Size { get; init; }
    public uint RecordNumber { get; init; }
    /// <summary>When the event was reported (UTC, whole seconds).</summary>
    public DateTime TimeGenerated { get; init; }
    /// <summary>When the service wrote it to the log (UTC, whole seconds).</summary>
    public DateTime TimeWritten { get; init; }
    /// <summary>The full 32-bit identifier: severity, customer bit, facility and code.</summary>
    public uint EventIdentifier { get; init; }
    public EvtEventType EventType { get; init; }
    public ushort Category { get; init; }
    public string SourceName { get; init; } = "";
    public string ComputerName { get; init; } = "";
    /// <summary>The user SID (S-1-5-…), or null when the record has none.</summary>
    public string? UserSid { get; init; }
    public IReadOnlyList<string> Strings { get; init; } = [];
    public byte[] Data { get; init; } = [];
    /// <summary>What was wrong with the record though it could be read (a truncated string, a bad size copy); else null.</summary>
    public string? Damage { get; init; }

    /// <summary>The event id as Event Viewer shows it: the low 16 bits of the identifier.</summary>
    public int EventId => (int)(EventIdentifier & 0xFFFF);

    /// <summary>The high 16 bits (severity, customer bit, facility), which EVTX calls Qualifiers.</summary>
    public int Qualifiers => (int)(EventIdentifier >> 16);

    /// <summary>
    /// Parses one whole record (<paramref name="record"/> is the record's bytes, already joined across the wrap;
    /// the reader has cut it where the next record starts when its declared size lies). Throws only when the fixed
    /// part is not there.
    /// </summary>
    public static EvtRecord Parse(ReadOnlySpan<byte> record, long fileOffset)
    {
        var reader = new SpanReader(record, EvtFileHeader.Format, fileOffset);
        var declared = reader.ReadUInt32();
        if (record.Length < FixedSize + 4)
            throw reader.Error($"record is {record.Length} bytes, shorter than the {FixedSize + 4}-byte minimum");
        var size = (uint)record.Length;
        if (!reader.ReadBytes(4).SequenceEqual(EvtFileHeader.Signature))
            throw new MalformedDataException(EvtFileHeader.Format, fileOffset + 4, "record has no \"LfLe\" signature");
        var number = reader.ReadUInt32();
        var generated = reader.ReadUInt32();
        var written = reader.ReadUInt32();
        var identifier = reader.ReadUInt32();
        var type = reader.ReadUInt16();
        var stringCount = reader.ReadUInt16();
        var category = reader.ReadUInt16();
        reader.Skip(2 + 4); // reserved flags, closing record number
        var stringOffset = reader.ReadUInt32();
        var sidLength = reader.ReadUInt32();
        var sidOffset = reader.ReadUInt32();
        var dataLength = reader.ReadUInt32();
        var dataOffset = reader.ReadUInt32();

        var damage = new List<string>();
        if (declared != size) damage.Add($"declared size {declared} is wrong; the record ends after {size} bytes");
        var end = record.Length - 4; // the size copy closes the record
        var position = FixedSize;
        var source = ReadString(record, ref position, end);
        var computer = ReadString(record, ref position, end);

        string? sid = null;
        if (sidLength > 0)
        {
            if (Inside(sidOffset, sidLength, end)) sid = BinarySid.TryFormat(record.Slice((int)sidOffset, (int)sidLength));
            if (sid is null) damage.Add($"user SID ({sidLength} bytes at {sidOffset}) is not readable");
        }

        var strings = new List<string>(Math.Min((int)stringCount, 64));
        if (stringCount > 0)
        {
            // Strings end where the data begins, or at the size copy.
            var stringsEnd = dataLength > 0 && dataOffset > stringOffset && dataOffset <= end ? (int)dataOffset : end;
            if (stringOffset < FixedSize || stringOffset > stringsEnd)
            {
                damage.Add($"strings offset {stringOffset} is outside the record");
            }
            else
            {
                var at = (int)stringOffset;
                for (var i = 0; i < stringCount; i++)
                {
                    if (at >= stringsEnd)
                    {
                        damage.Add($"{stringCount - i} of {stringCount} strings are missing (the record is cut short)");
                        break;
                    }
                    strings.Add(ReadString(record, ref at, stringsEnd));
                }
            }
        }

        byte[] data = [];
        if (dataLength > 0)
        {
            if (Inside(dataOffset, dataLength, end)) data = record.Slice((int)dataOffset, (int)dataLength).ToArray();
            else damage.Add($"data ({dataLength} bytes at {dataOffset}) runs outside the record");
        }

        var sizeCopy = BinaryPrimitives.ReadUInt32LittleEndian(record[end..]);
        if (sizeCopy != size) damage.Add($"the size copy at the end is {sizeCopy}, not {size}");

        return new EvtRecord
        {
            FileOffset = fileOffset,
            Size = size,
            RecordNumber = number,
            TimeGenerated = DateTime.UnixEpoch.AddSeconds(generated),
            TimeWritten = DateTime.UnixEpoch.AddSeconds(written),
            EventIdentifier = identifier,
            EventType = (EvtEventType)type,
            Category = category,
            SourceName = source,
            ComputerName = computer,
            UserSid = sid,
            Strings = strings,
            Data = data,
            Damage = damage.Count == 0 ? null : string.Join("; ", damage),
        };
    }

    private static bool Inside(uint offset, uint length, int end) =>
        offset >= FixedSize && offset <= end && length <= (uint)end - offset;

    /// <summary>A NUL-terminated UTF-16LE string from <paramref name="position"/>; an unterminated one ends at <paramref name="end"/>.</summary>
    private static string ReadString(ReadOnlySpan<byte> record, ref int position, int end)
    {
        var start = position;
        var at = start;
        while (at + 1 < end && (record[at] | record[at + 1]) != 0) at += 2;
        var text = Encoding.Unicode.GetString(record[start..at]);
        position = Math.Min(at + 2, end);
        return text;
    }
}
