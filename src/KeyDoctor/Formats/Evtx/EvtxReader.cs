using System.Buffers;
using System.Diagnostics;

namespace KeyDoctor.Formats.Evtx;

/// <summary>Options for reading records.</summary>
public sealed record EvtxReadOptions
{
    /// <summary>Only these event ids are rendered; others are skipped after reading one substitution value.</summary>
    public IReadOnlySet<int>? EventIds { get; init; }

    /// <summary>Chunks parsed at the same time (default: one per core).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>Counts of what a read found, for the summary line.</summary>
public sealed class EvtxReadStatistics
{
    public long RecordsRead { get; internal set; }
    public long RecordErrors { get; internal set; }
    public long RecordsFilteredOut { get; internal set; }
    public int ChunksRead { get; internal set; }
    /// <summary>Slots inside the header's chunk count that are not chunks (bad signature, short read).</summary>
    public int ChunksSkipped { get; internal set; }
    /// <summary>All-zero slots (preallocated space), skipped silently.</summary>
    public int EmptySlots { get; internal set; }
    /// <summary>Non-chunk data past the header's chunk count (slack), skipped silently.</summary>
    public int SlackSlots { get; internal set; }
    public int ChunkHeaderChecksumErrors { get; internal set; }
    public int ChunkDataChecksumErrors { get; internal set; }
}

/// <summary>
/// Reads an EVTX file offline on any OS. Every 64 KiB slot after the file header is examined, not only the
/// header's chunk count (dirty files hold more chunks than they say). Chunks are parsed in parallel, at most
/// a few at a time, and results come back in file order; a corrupt chunk or record becomes an error item and
/// the rest of the file is still read. Only a file that is not EVTX at all throws.
/// </summary>
public sealed class EvtxReader : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;

    /// <summary>Reads from a seekable stream; throws <see cref="MalformedDataException"/> when it is not EVTX.</summary>
    public EvtxReader(Stream stream, bool leaveOpen = false)
    {
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        var head = new byte[128];
        stream.Position = 0;
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        Header = EvtxFileHeader.Parse(head.AsSpan(0, read));
        Length = stream.Length;
    }

    /// <summary>Opens a file read-only, sharing it with the writer (an event log can be open by the service).</summary>
    public static EvtxReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess);
        try
        {
            return MalformedDataException.FromFile(path, () => new EvtxReader(stream));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public EvtxFileHeader Header { get; }
    public long Length { get; }
    public EvtxReadStatistics Statistics { get; } = new();

    /// <summary>All records and errors in file order.</summary>
    public IEnumerable<EvtxReadResult> ReadRecords(EvtxReadOptions? options = null)
    {
        foreach (var chunk in ReadChunks(options))
            foreach (var item in chunk.Items)
                yield return item;
    }

    /// <summary>Chunk by chunk, in file order.</summary>
    public IEnumerable<EvtxChunkResult> ReadChunks(EvtxReadOptions? options = null) => ReadChunks(c => c, options);

    /// <summary>
    /// Chunk by chunk, with <paramref name="project"/> applied on the worker thread that parsed the chunk
    /// (formatting output there keeps both cores busy). Results are yielded in file order.
    /// </summary>
    /// <param name="projectKeepsNoRecords">
    /// True when <paramref name="project"/> keeps nothing of the chunk's records (it formats them): each chunk's
    /// 64 KiB buffer then goes back to a pool for a later chunk once its result is yielded, instead of to the GC.
    /// </param>
    public IEnumerable<T> ReadChunks<T>(Func<EvtxChunkResult, T> project, EvtxReadOptions? options = null, bool projectKeepsNoRecords = false)
    {
        options ??= new EvtxReadOptions();
        var parallel = Math.Max(1, options.MaxDegreeOfParallelism);
        var pending = new Queue<(Task<(EvtxChunkResult Chunk, T Value)> Work, byte[] Data)>();
        var slot = 0;
        for (var offset = (long)EvtxFileHeader.Size; offset < Length; offset += EvtxChunkHeader.ChunkSize, slot++)
        {
            // Not zeroed first: the read fills it, and a short read is never parsed (the slot is reported cut short).
            var data = projectKeepsNoRecords
                ? ArrayPool<byte>.Shared.Rent(EvtxChunkHeader.ChunkSize)
                : GC.AllocateUninitializedArray<byte>(EvtxChunkHeader.ChunkSize);
            Debug.Assert(data.Length == EvtxChunkHeader.ChunkSize, "the pool's sizes are powers of two");
            _stream.Position = offset;
            var read = _stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            Task<(EvtxChunkResult, T)>? work = null;
            if (read < data.Length)
            {
                if (slot < Header.ChunkCount)
                    work = Task.FromResult(Skipped(slot, offset, $"chunk {slot} is cut short ({read} of 65536 bytes)", project));
                else
                    Statistics.SlackSlots++;
            }
            else if (!data.AsSpan().ContainsAnyExcept((byte)0))
            {
                Statistics.EmptySlots++;
            }
            else if (!EvtxChunkHeader.HasSignature(data))
            {
                // Inside the header's count a damaged chunk is an error; past it, it is slack of a dirty file.
                if (slot < Header.ChunkCount)
                    work = Task.FromResult(Skipped(slot, offset, $"slot {slot} has no chunk signature; chunk skipped", project));
                else
                    Statistics.SlackSlots++;
            }
            else
            {
                var (s, o) = (slot, offset);
                work = parallel == 1
                    ? Task.FromResult(Parse(data, s, o, options, project))
                    : Task.Run(() => Parse(data, s, o, options, project));
            }

            if (work is null)
            {
                if (projectKeepsNoRecords) ArrayPool<byte>.Shared.Return(data);
                continue;
            }
            pending.Enqueue((work, data));
            // Bound the chunks in memory: wait for the oldest before reading further ahead.
            while (pending.Count > parallel * 2) yield return Complete(pending.Dequeue(), projectKeepsNoRecords);
        }
        while (pending.Count > 0) yield return Complete(pending.Dequeue(), projectKeepsNoRecords);
    }

    private static (EvtxChunkResult, T) Parse<T>(byte[] data, int slot, long offset, EvtxReadOptions options, Func<EvtxChunkResult, T> project)
    {
        var chunk = EvtxChunk.Parse(data, slot, offset, options);
        return (chunk, project(chunk));
    }

    private static (EvtxChunkResult, T) Skipped<T>(int slot, long offset, string reason, Func<EvtxChunkResult, T> project)
    {
        var chunk = new EvtxChunkResult(slot, offset, null, [new EvtxReadResult(null, new EvtxRecordError(offset, null, reason))]);
        return (chunk, project(chunk));
    }

    private T Complete<T>((Task<(EvtxChunkResult Chunk, T Value)> Work, byte[] Data) pending, bool recycle)
    {
        var (chunk, value) = pending.Work.GetAwaiter().GetResult();
        if (chunk.Header is null)
        {
            Statistics.ChunksSkipped++;
        }
        else
        {
            Statistics.ChunksRead++;
            if (!chunk.Header.HeaderChecksumValid) Statistics.ChunkHeaderChecksumErrors++;
            if (!chunk.Header.DataChecksumValid) Statistics.ChunkDataChecksumErrors++;
        }
        foreach (var item in chunk.Items)
        {
            if (item.IsError) Statistics.RecordErrors++;
            else Statistics.RecordsRead++;
        }
        Statistics.RecordsFilteredOut += chunk.FilteredOut;
        if (recycle) ArrayPool<byte>.Shared.Return(pending.Data);
        return value;
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }
}
