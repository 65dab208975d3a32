using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// Reads a Process Monitor capture (.PML, version 9, from 32- or 64-bit Windows) offline on any OS. The header and
/// the string, process and host/port tables are read when it opens; events are then decoded through the
/// event-offset array, batches of them on all cores (each worker reading through its own window over the file: a
/// memory-mapped view for a file, so the bytes are not copied, a buffer for any other stream), and
/// come out in capture order, a bounded number of batches ahead, so memory stays bounded for captures of many
/// gigabytes. A capture that is not PML, or whose tables are missing (Procmon did not finish saving it),
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
    private readonly MemoryMappedFile? _mapping;

    public PmlReader(Stream stream, bool leaveOpen = false)
    {
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        Length = stream.Length;
        var head = new byte[PmlHeader.Size];
        var read = ReadUpTo(0, head);
        Header = PmlHeader.Parse(head.AsSpan(0, read), Length);

        var strings = PmlStringTable.Parse(Table(Header.StringTableOffset, NextTableAfter(Header.StringTableOffset), "string table"), Header.StringTableOffset);
        _processes = PmlProcessTable.Parse(Table(Header.ProcessTableOffset, NextTableAfter(Header.ProcessTableOffset), "process table"),
            Header.ProcessTableOffset, strings, Header.Is64Bit);
        _network = PmlNetworkNames.Parse(Table(Header.HostsAndPortsOffset, Length, "host and port tables"), Header.HostsAndPortsOffset);
        if (stream is FileStream file) _mapping = TryMap(file);
    }

    /// <summary>The file mapped read-only for the event decoders, or null where it cannot be (they read it then).</summary>
    private static MemoryMappedFile? TryMap(FileStream file)
    {
        try
        {
            return MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Opens a capture read-only.</summary>
    public static PmlReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess));

    public PmlHeader Header { get; }
    public long Length { get; }

    /// <summary>
    /// Event batches decoded at the same time (default: one per core). Events still come out in capture order;
    /// 1 decodes on the calling thread.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The processes the capture knows, by their table index, in index order.</summary>
    public IReadOnlyList<ProcmonProcess> Processes => [.. _processes.Values.OrderBy(p => p.Index)];

    /// <summary>Every event in capture order; throws <see cref="MalformedDataException"/> at the first corrupt one.</summary>
    public IEnumerable<ProcmonEvent> ReadEvents()
    {
        foreach (var batch in ReadBatches(b => b))
        {
            foreach (var e in batch.Events) yield return e;
            if (batch.Error is { } error) throw error;
        }
    }

    /// <summary>
    /// The events in batches of consecutive events, in capture order, with <paramref name="project"/> applied on the
    /// thread that decoded the batch (so formatting output keeps every core busy too). The event-offset array says
    /// where each event is, so batches are decoded in parallel, a bounded number ahead of the consumer. A corrupt
    /// event ends its batch (<see cref="PmlEventBatch.Error"/>, after the events before it) and no batch follows it.
    /// </summary>
    public IEnumerable<T> ReadBatches<T>(Func<PmlEventBatch, T> project, int batchSize = 1024) =>
        Batches(batchSize, (decoder, first, count) =>
        {
            var events = new List<ProcmonEvent>(count);
            var error = decoder.DecodeRange(first, count, (offset, sequence) => events.Add(decoder.ReadEvent(offset, sequence)));
            return (project(new PmlEventBatch(first, events, error)), error is not null);
        });

    /// <summary>
    /// As <see cref="ReadBatches{T}"/>, but each event as its export columns only (<see cref="ProcmonEventColumns"/>),
    /// in a buffer the decoding thread reuses: no object per event, for listing millions of them. The batch's span
    /// is valid only inside <paramref name="project"/>.
    /// </summary>
    public IEnumerable<T> ReadColumnBatches<T>(Func<PmlColumnBatch, T> project, int batchSize = 1024) =>
        Batches(batchSize, (decoder, first, count) =>
        {
            var columns = decoder.ColumnBuffer(count);
            var decoded = 0;
            var error = decoder.DecodeRange(first, count, (offset, sequence) =>
            {
                columns[decoded] = decoder.ReadColumns(offset, sequence);
                decoded++; // only once decoded: a corrupt event is not counted
            });
            return (project(new PmlColumnBatch(first, columns.AsSpan(0, decoded), error)), error is not null);
        });

    private IEnumerable<T> Batches<T>(int batchSize, Func<EventDecoder, long, int, (T Value, bool Failed)> decode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batches = new BatchStarts(Header.EventCount, batchSize);
        var workers = Math.Max(1, MaxDegreeOfParallelism);
        foreach (var (value, failed) in OrderedParallel.Map(batches, () => new EventDecoder(this),
                     (first, decoder) => decode(decoder, first, (int)Math.Min(batchSize, Header.EventCount - first)),
                     workers, window: workers * 4))
        {
            yield return value;
            if (failed) yield break;
        }
    }

    /// <summary>The first event of each batch, computed rather than stored (a capture may hold many millions).</summary>
    private sealed class BatchStarts(long events, int size) : IReadOnlyList<long>
    {
        public int Count { get; } = (int)((events + size - 1) / size);
        public long this[int index] => (long)index * size;

        public IEnumerator<long> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>One worker's decoding state: its own window over the file, so workers never share a read position.</summary>
    private sealed class EventDecoder(PmlReader reader)
    {
        private readonly MappedFileWindow? _mapped = reader._mapping is { } mapping ? new MappedFileWindow(mapping, reader.Length) : null;
        private byte[] _window = reader._mapping is null ? new byte[256 * 1024] : [];
        private byte[] _offsets = [];
        private long _windowStart;
        private int _windowLength;
        private ProcmonEventColumns[] _columns = [];

        /// <summary>This worker's reused buffer for a batch of <see cref="ProcmonEventColumns"/>.</summary>
        public ProcmonEventColumns[] ColumnBuffer(int size)
        {
            if (_columns.Length < size) _columns = new ProcmonEventColumns[size];
            return _columns;
        }

        /// <summary>
        /// Decodes events [first, first + count) through the event-offset array, handing each one's offset and
        /// sequence to <paramref name="decode"/>; returns the corrupt event that stopped it, or null.
        /// </summary>
        public MalformedDataException? DecodeRange(long first, int count, Action<long, long> decode)
        {
            try
            {
                if (_offsets.Length < count * 5) _offsets = new byte[count * 5];
                var offsets = _offsets.AsSpan(0, count * 5);
                reader.ReadAt(reader.Header.EventOffsetsOffset + (first * 5), offsets);
                for (var i = 0; i < count; i++) decode(BinaryPrimitives.ReadUInt32LittleEndian(offsets[(i * 5)..]), first + i);
                return null;
            }
            catch (MalformedDataException ex)
            {
                return ex;
            }
        }

        public ProcmonEvent ReadEvent(long offset, long sequence)
        {
            var e = Decode(offset, sequence);
            var details = e.Details;
            return new ProcmonEvent
            {
                Sequence = sequence,
                Process = e.Process,
                ThreadId = e.ThreadId,
                Class = e.Class,
                Operation = details.Operation,
                Time = e.Time,
                Duration = e.Duration >= 0 ? TimeSpan.FromTicks(e.Duration) : null,
                Path = details.Path,
                Status = e.Status,
                Result = ProcmonResults.Name(e.Status),
                Detail = details.Detail,
                DesiredAccess = details.DesiredAccess,
                Disposition = details.Disposition,
                OpenResult = details.OpenResult,
                ValueType = details.ValueType,
                ValueData = details.ValueData,
            };
        }

        public ProcmonEventColumns ReadColumns(long offset, long sequence)
        {
            var e = Decode(offset, sequence);
            return new ProcmonEventColumns(e.Time, e.Process, e.ThreadId, e.Details.Operation, e.Details.Path, ProcmonResults.Name(e.Status),
                e.Details.Detail);
        }

        private DecodedEvent Decode(long offset, long sequence)
        {
            var header = reader.Header;
            if (offset < PmlHeader.Size || offset + EventHeaderSize > header.EventOffsetsOffset)
                throw new MalformedDataException(PmlHeader.Format, header.EventOffsetsOffset + (sequence * 5),
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

            if (!reader._processes.TryGetValue(processIndex, out var process))
                throw new MalformedDataException(PmlHeader.Format, offset, $"event {sequence} names process index {processIndex}, which the process table does not have");
            var operationName = PmlOperations.Name(eventClass, operation)
                ?? throw new MalformedDataException(PmlHeader.Format, offset + 8, $"event {sequence} has an unknown class {(int)eventClass} or operation {operation}");
            var stackSize = stackDepth * (header.Is64Bit ? 8 : 4);
            var bodySize = (long)EventHeaderSize + stackSize + detailSize;
            if (bodySize > MaxEventSize || offset + bodySize > header.EventOffsetsOffset)
                throw new MalformedDataException(PmlHeader.Format, offset + 44, $"event {sequence}'s detail ({detailSize} bytes) runs past the events area");

            var end = offset + bodySize;
            var hasExtra = false;
            if (extraOffset > 0)
            {
                var extraAt = offset + extraOffset;
                if (extraOffset < bodySize || extraAt + 2 > header.EventOffsetsOffset)
                    throw new MalformedDataException(PmlHeader.Format, offset + 48, $"event {sequence}'s extra detail offset 0x{extraOffset:X} is outside the event area");
                var extraSize = BinaryPrimitives.ReadUInt16LittleEndian(Window(extraAt, 2));
                if (extraAt + 2 + extraSize > header.EventOffsetsOffset)
                    throw new MalformedDataException(PmlHeader.Format, extraAt, $"event {sequence}'s extra detail runs past the events area");
                end = extraAt + 2 + extraSize;
                hasExtra = true;
            }
            // Body and extra detail are usually adjacent: one window holds both (and the next Window call may move it).
            var bytes = Window(offset, (int)(end - offset));
            var detail = bytes[(EventHeaderSize + stackSize)..(int)bodySize];
            var extra = hasExtra ? bytes[((int)extraOffset + 2)..] : [];
            var details = PmlEventDetails.Read(eventClass, operation, operationName, detail, extra, hasExtra,
                offset + EventHeaderSize + stackSize, header.Is64Bit, threadId, reader._network);
            return new DecodedEvent(process, threadId, eventClass, time > 0 && time < DateTime.MaxValue.ToFileTimeUtc() ? DateTime.FromFileTimeUtc(time) : null,
                duration, status, details);
        }

        /// <summary>
        /// Bytes [offset, offset+count) of the file: from the mapped view, or from the buffer, refilled from
        /// <paramref name="offset"/> when they are not in it. Valid until the next call.
        /// </summary>
        private ReadOnlySpan<byte> Window(long offset, int count)
        {
            if (_mapped is not null)
            {
                if (offset + count > reader.Length)
                    throw new MalformedDataException(PmlHeader.Format, reader.Length, $"needs {count} bytes but the file ends");
                return _mapped.Read(offset, count);
            }
            if (offset < _windowStart || offset + count > _windowStart + _windowLength)
            {
                if (count > _window.Length) _window = new byte[Math.Max(count, _window.Length * 2)];
                _windowStart = offset;
                _windowLength = reader.ReadUpTo(offset, _window.AsSpan(0, (int)Math.Min(_window.Length, reader.Length - offset)));
                if (_windowLength < count)
                    throw new MalformedDataException(PmlHeader.Format, offset + _windowLength, $"needs {count} bytes but the file ends");
            }
            return _window.AsSpan((int)(offset - _windowStart), count);
        }
    }

    /// <summary>An event's header fields and details, before they become a <see cref="ProcmonEvent"/> or its columns.</summary>
    private readonly record struct DecodedEvent(ProcmonProcess Process, uint ThreadId, ProcmonEventClass Class, DateTime? Time, long Duration,
        uint Status, PmlDetails Details);

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
        var read = ReadUpTo(offset, destination);
        if (read < destination.Length)
            throw new MalformedDataException(PmlHeader.Format, offset + read, $"needs {destination.Length} bytes at 0x{offset:X} but the file ends");
    }

    /// <summary>
    /// Reads at <paramref name="offset"/> until <paramref name="destination"/> is full or the file ends, from any
    /// thread: a file is read by position (no shared seek), any other stream under a lock.
    /// </summary>
    private int ReadUpTo(long offset, Span<byte> destination)
    {
        if (_stream is FileStream file)
        {
            var total = 0;
            while (total < destination.Length)
            {
                var read = RandomAccess.Read(file.SafeFileHandle, destination[total..], offset + total);
                if (read == 0) break;
                total += read;
            }
            return total;
        }
        lock (_stream)
        {
            _stream.Position = offset;
            return _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
    }

    public void Dispose()
    {
        _mapping?.Dispose();
        if (!_leaveOpen) _stream.Dispose();
    }
}

/// <summary>Consecutive events of a capture, from <see cref="PmlReader.ReadBatches{T}"/>.</summary>
/// <param name="FirstSequence">The sequence number (position in the capture) of the first event.</param>
/// <param name="Events">The events, in capture order.</param>
/// <param name="Error">The corrupt event that ended the batch (and the read), or null.</param>
public sealed record PmlEventBatch(long FirstSequence, IReadOnlyList<ProcmonEvent> Events, MalformedDataException? Error);

/// <summary>Consecutive events of a capture as their export columns, from <see cref="PmlReader.ReadColumnBatches{T}"/>.</summary>
public readonly ref struct PmlColumnBatch(long firstSequence, ReadOnlySpan<ProcmonEventColumns> events, MalformedDataException? error)
{
    /// <summary>The sequence number (position in the capture) of the first event.</summary>
    public long FirstSequence { get; } = firstSequence;

    /// <summary>The events, in capture order, in the decoding thread's buffer: valid only while the batch is handled.</summary>
    public ReadOnlySpan<ProcmonEventColumns> Events { get; } = events;

    /// <summary>The corrupt event that ended the batch (and the read), or null.</summary>
    public MalformedDataException? Error { get; } = error;
}
