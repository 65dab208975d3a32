using System.Buffers;
using System.Buffers.Binary;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Formats.Evt;

/// <summary>A record that could not be read, with where and why. Reading goes on at the next record found.</summary>
public sealed record EvtRecordError(long FileOffset, uint? RecordNumber, string Reason);

/// <summary>One item of a read: a record or an error, oldest first.</summary>
public readonly record struct EvtReadResult(EvtRecord? Record, EvtRecordError? Error)
{
    public bool IsError => Error is not null;
}

/// <summary>Counts of what a read found, for the summary line.</summary>
public sealed class EvtReadStatistics
{
    public long RecordsRead { get; internal set; }
    public long RecordErrors { get; internal set; }
    /// <summary>Records that were read but had a damaged part (see <see cref="EvtRecord.Damage"/>).</summary>
    public long DamagedRecords { get; internal set; }
    /// <summary>The walk reached the end-of-file record (a clean end).</summary>
    public bool ReachedEndOfFile { get; internal set; }
    /// <summary>Some record continued from the end of the file to just after the header.</summary>
    public bool CrossedWrap { get; internal set; }
}

/// <summary>
/// Reads a legacy event log (.Evt) offline on any OS. The records form a ring buffer after the 48-byte header:
/// the walk starts at the oldest record and follows record sizes, wrapping from the end of the file to just after
/// the header (a record may be split there), until the end-of-file record. A dirty file's header may be stale,
/// so the end-of-file record is looked for when the header's start does not hold a record. A record whose size
/// lies is cut at the next record's start; damaged bytes are skipped to the next "LfLe" signature. Only a file
/// that is not .Evt at all throws. The file is read through a small buffer, never loaded whole.
/// </summary>
public sealed class EvtReader : IDisposable
{
    /// <summary>Larger than any record Windows writes (ReportEvent caps strings and data far below this).</summary>
    internal const int MaxRecordSize = 1 << 20;
    private const int MinRecordSize = EvtRecord.FixedSize + 4;
    private const uint PaddingWord = 0x00000027; // fills the end of the file when a record's fixed part does not fit

    private readonly Stream _stream;
    private readonly bool _leaveOpen;

    /// <summary>Reads from a seekable stream; throws <see cref="MalformedDataException"/> when it is not .Evt.</summary>
    public EvtReader(Stream stream, bool leaveOpen = false)
    {
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        Length = stream.Length;
        if (Length > uint.MaxValue)
            throw new MalformedDataException(EvtFileHeader.Format, 0, $"file is {Length} bytes; .Evt offsets are 32-bit");
        var head = new byte[EvtFileHeader.Size];
        stream.Position = 0;
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        Header = EvtFileHeader.Parse(head.AsSpan(0, read));
    }

    /// <summary>Opens a file read-only, sharing it with the event log service.</summary>
    public static EvtReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess));

    public EvtFileHeader Header { get; }
    public long Length { get; }
    public EvtReadStatistics Statistics { get; } = new();

    /// <summary>The end-of-file record the walk ended at; null until then, or when there was none.</summary>
    public EvtEndOfFileRecord? EndOfFile { get; private set; }

    private long RingSize => Length - EvtFileHeader.Size;

    /// <summary>All records and errors, oldest first.</summary>
    public IEnumerable<EvtReadResult> ReadRecords()
    {
        if (RingSize < MinRecordSize) yield break;
        var start = FindStart();
        if (start is null)
        {
            yield return Fail(EvtFileHeader.Size, null, "no record at the header's first-record offset and no end-of-file record; the file is scanned for records");
            start = NextSignature(EvtFileHeader.Size, RingSize);
            if (start is null) yield break;
        }

        var walk = new Walk { Position = start.Value, Buffer = ArrayPool<byte>.Shared.Rent(64 * 1024) };
        try
        {
            while (!walk.Done && walk.Consumed < RingSize)
                if (Step(ref walk) is { } item) yield return item;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(walk.Buffer);
        }
    }

    private struct Walk
    {
        public long Position;
        public long Consumed;
        public byte[] Buffer;
        public bool Done;
    }

    /// <summary>One step of the ring walk: a record, an error, or nothing (padding skipped, or the end reached).</summary>
    private EvtReadResult? Step(ref Walk walk)
    {
        var position = walk.Position;
        var toEnd = Length - position;
        if (toEnd < 8 || IsPadding(position))
        {
            // The rest of the file is unused: the ring goes on after the header.
            walk.Consumed += toEnd;
            walk.Position = EvtFileHeader.Size;
            return null;
        }
        Span<byte> head = stackalloc byte[20];
        ReadRing(position, head);
        if (EvtEndOfFileRecord.IsAt(head))
        {
            var eof = new byte[EvtEndOfFileRecord.Size];
            ReadRing(position, eof);
            EndOfFile = EvtEndOfFileRecord.Parse(eof, position);
            Statistics.ReachedEndOfFile = true;
            walk.Done = true;
            return null;
        }

        var size = BinaryPrimitives.ReadUInt32LittleEndian(head);
        var signed = head[4..8].SequenceEqual(EvtFileHeader.Signature);
        var number = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
        if (!signed || size < MinRecordSize || size % 4 != 0 || size > Math.Min(MaxRecordSize, RingSize - walk.Consumed))
        {
            var next = NextSignature(position + 8, RingSize - walk.Consumed - 8);
            var what = signed ? $"record {number} has an impossible size {size}" : "no record signature";
            if (next is null || Distance(position, next.Value) == 0)
            {
                walk.Done = true;
                return Fail(position, signed ? number : null, $"{what}; nothing readable after it");
            }
            walk.Consumed += Distance(position, next.Value);
            walk.Position = next.Value;
            return Fail(position, signed ? number : null, $"{what}; skipped {Distance(position, next.Value)} bytes to the next record");
        }

        if (walk.Buffer.Length < size)
        {
            ArrayPool<byte>.Shared.Return(walk.Buffer);
            walk.Buffer = ArrayPool<byte>.Shared.Rent((int)size);
        }
        var record = walk.Buffer.AsSpan(0, (int)size);
        ReadRing(position, record);
        if (BinaryPrimitives.ReadUInt32LittleEndian(record[^4..]) != size && TrueSize(position, size) is { } real)
        {
            // The size lies, but the next record starts where a size copy says this one ends.
            size = real;
            record = record[..(int)size];
        }
        walk.Consumed += size;
        walk.Position = Advance(position, size);
        try
        {
            var parsed = EvtRecord.Parse(record, position);
            if (position + size > Length) Statistics.CrossedWrap = true;
            if (parsed.Damage is not null) Statistics.DamagedRecords++;
            Statistics.RecordsRead++;
            return new EvtReadResult(parsed, null);
        }
        catch (MalformedDataException ex)
        {
            return Fail(ex.Offset, number, $"record {number}: {ex.Reason}");
        }
    }

    /// <summary>
    /// The records as <see cref="EvtxRecord"/>s, the event abstraction the EVTX reader gives, so checks need not
    /// care which format a log was (see <see cref="EvtRecordExtensions.ToEventRecord"/> for the mapping).
    /// </summary>
    public IEnumerable<EvtxRecord> ReadEvents(string? channel = null)
    {
        foreach (var item in ReadRecords())
            if (item.Record is { } record)
                yield return record.ToEventRecord(channel);
    }

    /// <summary>The log name Windows gives a classic log file: SysEvent.Evt is System, AppEvent.Evt Application.</summary>
    public static string ChannelOf(string path)
    {
        // A Windows path is split on backslashes too, whatever OS reads it.
        var name = Path.GetFileNameWithoutExtension(path[(path.LastIndexOfAny(['\\', '/']) + 1)..]);
        return name.ToUpperInvariant() switch
        {
            "SYSEVENT" => "System",
            "APPEVENT" => "Application",
            "SECEVENT" => "Security",
            "INTERNET" => "Internet Explorer",
            "DNSEVENT" => "DNS Server",
            "NTDS" => "Directory Service",
            "NTFRS" => "File Replication Service",
            _ => name,
        };
    }

    private EvtReadResult Fail(long offset, uint? number, string reason)
    {
        Statistics.RecordErrors++;
        return new EvtReadResult(null, new EvtRecordError(offset, number, reason));
    }

    /// <summary>The header's first-record offset when a record is there, else the end-of-file record's.</summary>
    private long? FindStart()
    {
        if (Header.FirstRecordOffset == Header.EndOfFileOffset && IsEndOfFileAt(Header.EndOfFileOffset))
            return Header.EndOfFileOffset; // an empty log
        if (IsRecordAt(Header.FirstRecordOffset)) return Header.FirstRecordOffset;
        var eof = FindEndOfFileRecord();
        if (eof is not null && (IsRecordAt(eof.FirstRecordOffset) || IsEndOfFileAt(eof.FirstRecordOffset))) return eof.FirstRecordOffset;
        return null;
    }

    private bool IsRecordAt(long offset)
    {
        if (offset < EvtFileHeader.Size || offset > Length - 8) return false;
        Span<byte> head = stackalloc byte[8];
        ReadRing(offset, head);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(head);
        return head[4..].SequenceEqual(EvtFileHeader.Signature) && size >= MinRecordSize && size <= MaxRecordSize;
    }

    private bool IsEndOfFileAt(long offset)
    {
        if (offset < EvtFileHeader.Size || offset > Length - 20) return false;
        Span<byte> head = stackalloc byte[20];
        ReadRing(offset, head);
        return EvtEndOfFileRecord.IsAt(head);
    }

    /// <summary>Scans the file for the end-of-file record (a dirty header's end offset may be stale).</summary>
    private EvtEndOfFileRecord? FindEndOfFileRecord()
    {
        var found = NextSignature(EvtFileHeader.Size, RingSize, endOfFileOnly: true);
        if (found is null) return null;
        var bytes = new byte[EvtEndOfFileRecord.Size];
        ReadRing(found.Value, bytes);
        return EvtEndOfFileRecord.Parse(bytes, found.Value);
    }

    /// <summary>
    /// Where the next record (or the end-of-file record) starts, searching <paramref name="limit"/> bytes of the ring
    /// from <paramref name="from"/>: a 4-aligned "LfLe" or 0x11111111 that a plausible record or end-of-file record
    /// surrounds. One forward pass, so damaged files cost linear time.
    /// </summary>
    private long? NextSignature(long from, long limit, bool endOfFileOnly = false)
    {
        const int WindowSize = 64 * 1024;
        ReadOnlySpan<byte> eofMarker = [0x11, 0x11, 0x11, 0x11];
        limit = Math.Min(limit, RingSize);
        var window = ArrayPool<byte>.Shared.Rent(WindowSize + 8);
        try
        {
            long scanned = 0;
            var position = Wrap(from);
            while (scanned < limit)
            {
                var count = (int)Math.Min(WindowSize, limit - scanned);
                var span = window.AsSpan(0, count + 4);
                ReadRing(position, span);
                for (var i = 0; i < count;)
                {
                    var rest = span[i..];
                    var record = endOfFileOnly ? -1 : rest.IndexOf(EvtFileHeader.Signature);
                    var eof = rest.IndexOf(eofMarker);
                    var hit = record < 0 ? eof : eof < 0 ? record : Math.Min(record, eof);
                    if (hit < 0 || i + hit >= count) break;
                    var start = Wrap(position + i + hit) - 4;
                    if (start < EvtFileHeader.Size) start += RingSize;
                    if (start % 4 == 0 && (endOfFileOnly ? IsEndOfFileAt(start) : IsRecordAt(start) || IsEndOfFileAt(start)))
                        return start;
                    i += hit + 1;
                }
                scanned += count;
                position = Wrap(position + count);
            }
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }

    /// <summary>When a record's size copy is wrong: the real size, if the next record starts where its size copy says.</summary>
    private uint? TrueSize(long position, uint declared)
    {
        if (NextSignature(position + 8, MaxRecordSize) is not { } next) return null;
        var size = Distance(position, next);
        if (size < MinRecordSize || size > MaxRecordSize || size == declared) return null;
        Span<byte> word = stackalloc byte[4];
        ReadRing(next - 4 < EvtFileHeader.Size ? next - 4 + RingSize : next - 4, word);
        return BinaryPrimitives.ReadUInt32LittleEndian(word) == size ? (uint)size : null;
    }

    private bool IsPadding(long position)
    {
        if (position == EvtFileHeader.Size) return false;
        Span<byte> word = stackalloc byte[4];
        ReadRing(position, word);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(word);
        if (value != PaddingWord && value != 0) return false;
        // Only when every word to the end of the file is filler.
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (var at = position; at < Length;)
            {
                var count = (int)Math.Min(buffer.Length, Length - at) & ~3;
                if (count == 0) break;
                ReadExact(at, buffer.AsSpan(0, count));
                for (var i = 0; i < count; i += 4)
                {
                    var w = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i));
                    if (w != PaddingWord && w != 0) return false;
                }
                at += count;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private long Wrap(long position) => position >= Length ? EvtFileHeader.Size + ((position - Length) % RingSize) : position;

    private long Advance(long position, long count) => Wrap(position + count);

    /// <summary>Bytes from <paramref name="from"/> forward to <paramref name="to"/> around the ring.</summary>
    private long Distance(long from, long to) => to >= from ? to - from : (Length - from) + (to - EvtFileHeader.Size);

    /// <summary>Reads <paramref name="destination"/>.Length bytes of the ring, continuing after the header at the end of the file.</summary>
    private void ReadRing(long position, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            position = Wrap(position);
            var count = (int)Math.Min(destination.Length, Length - position);
            ReadExact(position, destination[..count]);
            destination = destination[count..];
            position += count;
        }
    }

    private void ReadExact(long position, Span<byte> destination)
    {
        _stream.Position = position;
        _stream.ReadExactly(destination);
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }
}

/// <summary>Maps a legacy record onto the EVTX event abstraction.</summary>
public static class EvtRecordExtensions
{
    /// <summary>
    /// The record as an <see cref="EvtxRecord"/>, the way Windows renders a classic event: EventID is the low 16
    /// bits and Qualifiers the high 16, Provider and EventSourceName the source name, Task the category, Level from
    /// the event type, each insertion string an EventData item named "Data", the binary data one named "Binary"
    /// (upper-case hex), TimeCreated the generated time and the written time the record header's.
    /// </summary>
    public static EvtxRecord ToEventRecord(this EvtRecord record, string? channel = null)
    {
        var data = new List<EvtxDataItem>(record.Strings.Count + 1);
        foreach (var text in record.Strings) data.Add(new EvtxDataItem("Data", text));
        if (record.Data.Length > 0) data.Add(new EvtxDataItem("Binary", Convert.ToHexString(record.Data)));
        return new EvtxRecord(record.FileOffset, record.RecordNumber, record.TimeWritten)
        {
            EventId = record.EventId,
            Qualifiers = record.Qualifiers,
            Level = record.EventType switch
            {
                EvtEventType.Error => 2,
                EvtEventType.Warning => 3,
                EvtEventType.AuditSuccess or EvtEventType.AuditFailure => 0,
                _ => 4,
            },
            Task = record.Category,
            Keywords = record.EventType switch
            {
                EvtEventType.AuditSuccess => 0x8020000000000000,
                EvtEventType.AuditFailure => 0x8010000000000000,
                _ => 0x0080000000000000,
            },
            TimeCreated = record.TimeGenerated,
            Provider = record.SourceName,
            EventSourceName = record.SourceName,
            Channel = channel,
            Computer = record.ComputerName,
            UserId = record.UserSid,
            Data = data,
        };
    }
}
