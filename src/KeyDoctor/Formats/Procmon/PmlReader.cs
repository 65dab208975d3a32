using System.Buffers.Binary;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// Reads a Process Monitor capture (.PML, version 9, from 32- or 64-bit Windows) offline on any OS. The header and
/// the string, process and host/port tables are read when it opens; events are then streamed in capture order
/// through the event-offset array and a sliding window over the file, so memory stays bounded for captures of
/// many gigabytes. A capture that is not PML, or whose tables are missing (Procmon did not finish saving it),
/// throws <see cref="MalformedDataException"/> when opened; a corrupt event ends the stream with that exception,
/// after the events before it.
/// </summary>
public sealed class PmlReader : IDisposable
{
    /// <summary>Bigger than any real table; a larger claim is damage, not a reason to allocate.</summary>
    private const long MaxTableSize = 1L << 30;
    private const int EventHeaderSize = 0x34;
    private const int MaxEventSize = 16 << 20;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly Dictionary<int, ProcmonProcess> _processes;
    private readonly PmlNetworkNames _network;
    private byte[] _window = new byte[1 << 20];
    private long _windowStart;
    private int _windowLength;

    public PmlReader(Stream stream, bool leaveOpen = false)
    {
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        Length = stream.Length;
        var head = new byte[PmlHeader.Size];
        stream.Position = 0;
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        Header = PmlHeader.Parse(head.AsSpan(0, read), Length);

        var strings = PmlStringTable.Parse(Table(Header.StringTableOffset, NextTableAfter(Header.StringTableOffset), "string table"), Header.StringTableOffset);
        _processes = PmlProcessTable.Parse(Table(Header.ProcessTableOffset, NextTableAfter(Header.ProcessTableOffset), "process table"),
            Header.ProcessTableOffset, strings, Header.Is64Bit);
        _network = PmlNetworkNames.Parse(Table(Header.HostsAndPortsOffset, Length, "host and port tables"), Header.HostsAndPortsOffset);
    }

    /// <summary>Opens a capture read-only.</summary>
    public static PmlReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan));

    public PmlHeader Header { get; }
    public long Length { get; }

    /// <summary>The processes the capture knows, by their table index, in index order.</summary>
    public IReadOnlyList<ProcmonProcess> Processes => [.. _processes.Values.OrderBy(p => p.Index)];

    /// <summary>Every event in capture order; throws <see cref="MalformedDataException"/> at the first corrupt one.</summary>
    public IEnumerable<ProcmonEvent> ReadEvents()
    {
        const int Batch = 8192;
        var offsets = new byte[Batch * 5];
        for (long first = 0; first < Header.EventCount; first += Batch)
        {
            var count = (int)Math.Min(Batch, Header.EventCount - first);
            var arrayOffset = Header.EventOffsetsOffset + (first * 5);
            ReadAt(arrayOffset, offsets.AsSpan(0, count * 5));
            for (var i = 0; i < count; i++)
            {
                var offset = BinaryPrimitives.ReadUInt32LittleEndian(offsets.AsSpan(i * 5));
                yield return ReadEvent(offset, first + i);
            }
        }
    }

    private ProcmonEvent ReadEvent(long offset, long sequence)
    {
        if (offset < PmlHeader.Size || offset + EventHeaderSize > Header.EventOffsetsOffset)
            throw new MalformedDataException(PmlHeader.Format, Header.EventOffsetsOffset + (sequence * 5),
                $"event {sequence} is said to start at 0x{offset:X}, outside the events area");
        var head = Window(offset, EventHeaderSize);
        var processIndex = (int)BinaryPrimitives.ReadUInt32LittleEndian(head);
        var threadId = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        var eventClass = (ProcmonEventClass)BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
        var operation = BinaryPrimitives.ReadUInt16LittleEndian(head[12..]);
        var duration = BinaryPrimitives.ReadInt64LittleEndian(head[20..]);
        var time = BinaryPrimitives.ReadInt64LittleEndian(head[28..]);
        var status = BinaryPrimitives.ReadUInt32LittleEndian(head[36..]);
        var stackDepth = BinaryPrimitives.ReadUInt16LittleEndian(head[40..]);
        var detailSize = BinaryPrimitives.ReadUInt32LittleEndian(head[44..]);
        var extraOffset = BinaryPrimitives.ReadUInt32LittleEndian(head[48..]);

        if (!_processes.TryGetValue(processIndex, out var process))
            throw new MalformedDataException(PmlHeader.Format, offset, $"event {sequence} names process index {processIndex}, which the process table does not have");
        var operationName = PmlOperations.Name(eventClass, operation)
            ?? throw new MalformedDataException(PmlHeader.Format, offset + 8, $"event {sequence} has an unknown class {(int)eventClass} or operation {operation}");
        var stackSize = stackDepth * (Header.Is64Bit ? 8 : 4);
        var bodySize = (long)EventHeaderSize + stackSize + detailSize;
        if (bodySize > MaxEventSize || offset + bodySize > Header.EventOffsetsOffset)
            throw new MalformedDataException(PmlHeader.Format, offset + 44, $"event {sequence}'s detail ({detailSize} bytes) runs past the events area");

        ReadOnlySpan<byte> extra = [];
        var hasExtra = false;
        if (extraOffset > 0)
        {
            var extraAt = offset + extraOffset;
            if (extraOffset < bodySize || extraAt + 2 > Header.EventOffsetsOffset)
                throw new MalformedDataException(PmlHeader.Format, offset + 48, $"event {sequence}'s extra detail offset 0x{extraOffset:X} is outside the event area");
            var extraSize = BinaryPrimitives.ReadUInt16LittleEndian(Window(extraAt, 2));
            if (extraAt + 2 + extraSize > Header.EventOffsetsOffset)
                throw new MalformedDataException(PmlHeader.Format, extraAt, $"event {sequence}'s extra detail runs past the events area");
            // Body and extra detail are usually adjacent: one window holds both.
            Window(offset, (int)(extraAt + 2 + extraSize - offset));
            extra = Window(extraAt + 2, extraSize);
            hasExtra = true;
        }
        var body = Window(offset, (int)bodySize);
        var detail = body[(EventHeaderSize + stackSize)..];
        var details = PmlEventDetails.Read(eventClass, operation, operationName, detail, extra, hasExtra,
            offset + EventHeaderSize + stackSize, Header.Is64Bit, threadId, _network);
        return new ProcmonEvent
        {
            Sequence = sequence,
            Process = process,
            ThreadId = threadId,
            Class = eventClass,
            Operation = details.Operation,
            Time = time > 0 && time < DateTime.MaxValue.ToFileTimeUtc() ? DateTime.FromFileTimeUtc(time) : null,
            Duration = duration >= 0 ? TimeSpan.FromTicks(duration) : null,
            Path = details.Path,
            Status = status,
            Result = ProcmonResults.Name(status),
            Detail = details.Detail,
            DesiredAccess = details.DesiredAccess,
            Disposition = details.Disposition,
            OpenResult = details.OpenResult,
            ValueType = details.ValueType,
            ValueData = details.ValueData,
        };
    }

    /// <summary>Bytes [offset, offset+count) of the file from the window, refilled from <paramref name="offset"/> when they are not in it.</summary>
    private ReadOnlySpan<byte> Window(long offset, int count)
    {
        if (offset < _windowStart || offset + count > _windowStart + _windowLength)
        {
            if (count > _window.Length) _window = new byte[Math.Max(count, _window.Length * 2)];
            _windowStart = offset;
            _stream.Position = offset;
            _windowLength = _stream.ReadAtLeast(_window, (int)Math.Min(_window.Length, Length - offset), throwOnEndOfStream: false);
            if (_windowLength < count)
                throw new MalformedDataException(PmlHeader.Format, offset + _windowLength, $"needs {count} bytes but the file ends");
        }
        return _window.AsSpan((int)(offset - _windowStart), count);
    }

    private byte[] Table(long start, long end, string what)
    {
        if (end <= start || end - start > MaxTableSize)
            throw new MalformedDataException(PmlHeader.Format, start, $"the {what} has an impossible size ({end - start} bytes)");
        var bytes = new byte[end - start];
        ReadAt(start, bytes);
        return bytes;
    }

    /// <summary>Where the next table starts after <paramref name="offset"/> (tables are laid out one after another), or the file end.</summary>
    private long NextTableAfter(long offset)
    {
        var next = Length;
        foreach (var other in new[] { Header.EventOffsetsOffset, Header.ProcessTableOffset, Header.StringTableOffset, Header.IconTableOffset, Header.HostsAndPortsOffset })
            if (other > offset && other < next) next = other;
        return next;
    }

    private void ReadAt(long offset, Span<byte> destination)
    {
        _stream.Position = offset;
        var read = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
            throw new MalformedDataException(PmlHeader.Format, offset + read, $"needs {destination.Length} bytes at 0x{offset:X} but the file ends");
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }
}
