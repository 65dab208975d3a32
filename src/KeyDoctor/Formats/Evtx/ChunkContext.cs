using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// One chunk's bytes with its name and template caches. Names and template definitions are referenced by
/// chunk offset and shared by every record of the chunk, so each is decoded once. A chunk is parsed by one
/// thread; chunks are independent of each other.
/// </summary>
internal sealed class ChunkContext
{
    private readonly Dictionary<int, string> _names = [];
    private readonly Dictionary<int, TemplateDefinition> _templates = [];
    private readonly HashSet<int> _compiling = [];

    public ChunkContext(byte[] data, long fileOffset)
    {
        Data = data;
        FileOffset = fileOffset;
    }

    public byte[] Data { get; }

    /// <summary>What the chunk's records have expanded to so far (see <see cref="ReaderLimits.EvtxMaxChunkExpansion"/>).</summary>
    public long Expansion { get; set; }
    public long FileOffset { get; }

    public MalformedDataException Error(int chunkOffset, string reason) =>
        new(EvtxFileHeader.Format, FileOffset + chunkOffset, reason);

    /// <summary>
    /// Reads the name at <paramref name="offset"/> (u32 next, u16 hash, u16 length, UTF-16, NUL) and returns
    /// its total size, which the caller skips when the name is stored inline.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string ReadName(int offset, out int storedSize)
    {
        if (offset < EvtxChunkHeader.HeaderSize || offset > Data.Length - 8)
            throw Error(offset, $"name offset 0x{offset:X} is outside the chunk");
        var count = BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan(offset + 6));
        storedSize = 8 + (2 * count) + 2;
        if (offset + 8 + (2 * count) > Data.Length)
            throw Error(offset, $"name of {count} characters runs past the end of the chunk");
        if (_names.TryGetValue(offset, out var cached)) return cached;
        var name = new string(MemoryMarshal.Cast<byte, char>(Data.AsSpan(offset + 8, 2 * count)));
        _names[offset] = name;
        return name;
    }

    /// <summary>The template definition at <paramref name="offset"/>, parsed on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TemplateDefinition GetTemplate(int offset, int depth)
    {
        if (_templates.TryGetValue(offset, out var cached)) return cached;
        if (offset < EvtxChunkHeader.HeaderSize || offset > Data.Length - TemplateDefinition.HeaderSize)
            throw Error(offset, $"template definition offset 0x{offset:X} is outside the chunk");
        // A definition that (through a nested value) refers to itself would recurse forever.
        if (!_compiling.Add(offset)) throw Error(offset, "template definition refers to itself");
        try
        {
            var span = Data.AsSpan(offset);
            var guid = new Guid(span.Slice(4, 16));
            var dataSize = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
            var start = offset + TemplateDefinition.HeaderSize;
            if (dataSize > (uint)(Data.Length - start))
                throw Error(offset + 20, $"template definition of {dataSize} bytes runs past the end of the chunk");
            var parser = new BinXmlParser(this, start, start + (int)dataSize, inTemplate: true, depth + 1);
            var nodes = parser.ParseFragment();
            var definition = new TemplateDefinition(offset, guid, (int)dataSize, nodes);
            _templates[offset] = definition;
            return definition;
        }
        finally
        {
            _compiling.Remove(offset);
        }
    }
}
