using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace KeyDoctor.Formats.Evtx;

/// <summary>What one chunk gave: its header, and its records and errors in order.</summary>
public sealed class EvtxChunkResult
{
    internal EvtxChunkResult(int slot, long fileOffset, EvtxChunkHeader? header, List<EvtxReadResult> items)
    {
        Slot = slot;
        FileOffset = fileOffset;
        Header = header;
        Items = items;
    }

    /// <summary>Index of the 64 KiB slot after the file header.</summary>
    public int Slot { get; }
    public long FileOffset { get; }

    /// <summary>Null when the slot is not a chunk (bad signature or short read); then Items holds one error.</summary>
    public EvtxChunkHeader? Header { get; }
    public IReadOnlyList<EvtxReadResult> Items { get; }

    /// <summary>Records that were skipped by the event-id filter before being rendered.</summary>
    public int FilteredOut { get; internal set; }
}

/// <summary>
/// Reads the records of one chunk: from offset 512 to the free-space offset, stopping at the chunk's last
/// record id, at a zeroed record signature (clean end), or at a record header that cannot be walked past.
/// A record whose BinXml is corrupt is reported and skipped by its size; the chunk goes on.
/// </summary>
internal static class EvtxChunk
{
    private const int RecordHeaderSize = 24;
    private const uint RecordMagic = 0x00002A2A;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static EvtxChunkResult Parse(byte[] data, int slot, long fileOffset, EvtxReadOptions options)
    {
        var header = EvtxChunkHeader.Parse(data, fileOffset);
        var chunk = new ChunkContext(data, fileOffset);
        var sink = new EventFieldSink(chunk);
        var items = new List<EvtxReadResult>(128);
        var result = new EvtxChunkResult(slot, fileOffset, header, items);
        var end = (int)Math.Min(header.FreeSpaceOffset, (uint)EvtxChunkHeader.ChunkSize);
        if (header.FreeSpaceOffset < EvtxChunkHeader.HeaderSize) end = EvtxChunkHeader.ChunkSize;
        var offset = EvtxChunkHeader.HeaderSize;
        while (offset + RecordHeaderSize <= end)
        {
            var span = data.AsSpan(offset);
            var magic = BinaryPrimitives.ReadUInt32LittleEndian(span);
            if (magic == 0) break; // zeroed space after the last record: a clean end
            var recordOffset = fileOffset + offset;
            var size = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
            var recordId = BinaryPrimitives.ReadUInt64LittleEndian(span[8..]);
            if (magic != RecordMagic)
            {
                items.Add(Error(recordOffset, null, $"bad record signature 0x{magic:X8}; rest of the chunk skipped"));
                break;
            }
            if (size < 28)
            {
                items.Add(Error(recordOffset, recordId, $"record size {size} is smaller than 28; rest of the chunk skipped"));
                break;
            }
            if (size > (uint)(EvtxChunkHeader.ChunkSize - offset))
            {
                items.Add(Error(recordOffset, recordId, $"record size {size} runs past the end of the chunk; rest of the chunk skipped"));
                break;
            }

            if (chunk.Expansion >= ReaderLimits.EvtxMaxChunkExpansion)
            {
                items.Add(Error(recordOffset, recordId,
                    $"the chunk's records expand to more than {ReaderLimits.EvtxMaxChunkExpansion} characters (ReaderLimits.EvtxMaxChunkExpansion); rest of the chunk skipped"));
                break;
            }

            var written = BinXmlValues.FromFileTime(BinaryPrimitives.ReadUInt64LittleEndian(span[16..])) ?? DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);
            try
            {
                var record = ReadRecord(chunk, sink, offset, (int)size, recordOffset, recordId, written, options, out var filtered);
                if (record is not null) items.Add(new EvtxReadResult(record, null));
                if (filtered) result.FilteredOut++;
            }
            catch (MalformedDataException ex)
            {
                // Errors of the whole walk (expansion, nesting) carry no position of their own: point at the record.
                items.Add(Error(ex.Offset == fileOffset ? recordOffset : ex.Offset, recordId, $"record {recordId}: {ex.Reason}"));
            }
            offset += (int)size;
            if (recordId == header.LastRecordId) break;
        }
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static EvtxRecord? ReadRecord(ChunkContext chunk, EventFieldSink sink, int offset, int size, long recordOffset, ulong recordId,
        DateTime written, EvtxReadOptions options, out bool filtered)
    {
        filtered = false;
        var parser = new BinXmlParser(chunk, offset + RecordHeaderSize, offset + size - 4, inTemplate: false, depth: 0);
        var document = parser.ParseFragment();
        // Each record gets what is left of the chunk's budget, at most its own limit.
        var limit = Math.Min(ReaderLimits.EvtxMaxRecordExpansion, ReaderLimits.EvtxMaxChunkExpansion - chunk.Expansion);
        var record = new EvtxRecord(chunk, document, recordOffset, recordId, written) { ExpansionLimit = limit };
        if (options.EventIds is { } ids && TryQuickEventId(chunk, document, out var quickId) && !ids.Contains(quickId))
        {
            filtered = true;
            return null;
        }
        sink.Begin(record);
        try
        {
            chunk.Expansion += BinXmlEvaluator.Walk(chunk, document, [], sink, limit);
        }
        catch (MalformedDataException)
        {
            // A damaged record costs what it expanded to before it failed (all of its budget when that ran out).
            chunk.Expansion += BinXmlEvaluator.UsedByLastWalk(chunk);
            throw;
        }
        sink.Complete();
        if (options.EventIds is { } again && !again.Contains(record.EventId))
        {
            filtered = true;
            return null;
        }
        return record;
    }

    /// <summary>The EventID of a template-instance record from its one substitution value, without rendering.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryQuickEventId(ChunkContext chunk, BinXmlNode[] document, out int eventId)
    {
        eventId = 0;
        foreach (var node in document)
        {
            if (node.Kind != BinXmlNodeKind.TemplateInstance) continue;
            var instance = node.Instance!;
            var index = instance.Definition.EventIdSubstitution;
            if (index < 0 || index >= instance.Values.Length) return false;
            if (!BinXmlValues.TryGetUInt64(chunk.Data, instance.Values[index], out var id)) return false;
            eventId = (int)id;
            return true;
        }
        return false;
    }

    private static EvtxReadResult Error(long offset, ulong? recordId, string reason) =>
        new(null, new EvtxRecordError(offset, recordId, reason));
}
