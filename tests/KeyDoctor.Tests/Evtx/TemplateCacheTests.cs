using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Evtx;

/// <summary>
/// Template definitions parsed in one chunk are reused by later chunks on the same thread: the records must render
/// exactly as when every chunk parses its own definitions (each chunk on a fresh thread, whose table is empty).
/// </summary>
public class TemplateCacheTests
{
    [Theory]
    [InlineData("evtx/security.evtx")]
    [InlineData("evtx/system.evtx")]
    [InlineData("evtx/sysmon.evtx")]
    [InlineData("evtx/2-vss_7-System.evtx")]
    [InlineData("evtx/security_bad_string_cache.evtx")]
    public void ChunksRenderTheSameWithDefinitionsFromEarlierChunks(string fixture)
    {
        var bytes = File.ReadAllBytes(Fixtures.Path(fixture));
        var chunks = new List<(byte[] Data, int Slot, long Offset)>();
        for (var offset = EvtxFileHeader.Size; offset + EvtxChunkHeader.ChunkSize <= bytes.Length; offset += EvtxChunkHeader.ChunkSize)
            if (EvtxChunkHeader.HasSignature(bytes.AsSpan(offset)))
                chunks.Add((bytes.AsSpan(offset, EvtxChunkHeader.ChunkSize).ToArray(), chunks.Count, offset));
        Assert.True(chunks.Count >= 2, $"{fixture} has {chunks.Count} chunk(s)");

        var alone = chunks.Select(chunk => OnNewThread(() => Render(chunk))).ToList();
        var found = 0;
        var together = OnNewThread(() =>
        {
            var rendered = chunks.Select(Render).ToList();
            found = TemplateCache.FoundOnThisThread;
            return rendered;
        });

        Assert.True(found > 0, "no definition was reused");
        Assert.Equal(alone.Count, together.Count);
        for (var i = 0; i < alone.Count; i++) Assert.Equal(alone[i], together[i]);
    }

    /// <summary>
    /// A definition with the same GUID and size as one an earlier chunk parsed, but other text inside (a name or data
    /// name with one letter changed), is parsed anew: its records show what this chunk holds.
    /// </summary>
    [Fact]
    public void ADefinitionWithOtherBytesUnderTheSameGuidIsNotReused()
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("evtx/security.evtx"));
        var first = bytes.AsSpan(EvtxFileHeader.Size, EvtxChunkHeader.ChunkSize).ToArray();
        var second = bytes.AsSpan(EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize, EvtxChunkHeader.ChunkSize).ToArray();
        var unpatched = OnNewThread(() => Render((second.ToArray(), 1, EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize)));
        var firstKeys = Definitions(first).Select(d => Convert.ToHexString(first, d + 4, 20)).ToHashSet();
        var name = System.Text.Encoding.Unicode.GetBytes("Name");
        var patched = false;
        foreach (var definition in Definitions(second))
        {
            if (!firstKeys.Contains(Convert.ToHexString(second, definition + 4, 20))) continue;
            var size = BitConverter.ToInt32(second, definition + 20);
            var at = second.AsSpan(definition + 24, size).IndexOf(name);
            if (at < 0) continue;
            second[definition + 24 + at] = (byte)'M'; // "...Name" becomes "...Mame" in this chunk's copy only
            patched = true;
            break;
        }
        Assert.True(patched, "no definition of the second chunk repeats one of the first with an inline Name");

        var alone = OnNewThread(() => Render((second, 1, EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize)));
        var afterFirst = OnNewThread(() =>
        {
            Render((first, 0, EvtxFileHeader.Size));
            return Render((second, 1, EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize));
        });
        Assert.NotEqual(unpatched, alone);
        Assert.Equal(alone, afterFirst);
    }

    /// <summary>Chunk offsets of a chunk's template definitions (its 32-bucket table at 0x180 and their links).</summary>
    private static List<int> Definitions(byte[] chunk)
    {
        var found = new List<int>();
        for (var bucket = 0; bucket < 32; bucket++)
            for (var offset = BitConverter.ToInt32(chunk, 0x180 + (4 * bucket)); offset > 0 && offset < chunk.Length - 24 && !found.Contains(offset);
                 offset = BitConverter.ToInt32(chunk, offset))
                found.Add(offset);
        return found;
    }

    private static List<string> Render((byte[] Data, int Slot, long Offset) chunk) =>
        [.. EvtxChunk.Parse(chunk.Data, chunk.Slot, chunk.Offset, new EvtxReadOptions()).Items
            .Select(item => item.Record is { } record ? $"{record.RecordId} {record.EventId} {string.Join("|", record.Data.Select(d => d.ToString()))}\n{record.RenderXml()}" : $"error {item.Error}")];

    private static T OnNewThread<T>(Func<T> work)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception ex) { error = ex; }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw error;
        return result;
    }
}
