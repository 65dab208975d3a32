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

    /// <summary>What is left of the current record walk's expansion budget (see <see cref="BinXmlEvaluator"/>).</summary>
    internal long WalkBudget;

    /// <summary>The current record walk's expansion limit.</summary>
    internal long WalkLimit;

    // The last string rendered for each System field: the records of a chunk mostly repeat their provider,
    // channel, computer and user, so the next record's equal bytes reuse the string instead of decoding anew.
    private readonly (BinXmlValueType Type, int Offset, int Length, string Text)[] _lastSystemText =
        new (BinXmlValueType, int, int, string)[SystemTextFieldCount];

    private static readonly int SystemTextFieldCount = Enum.GetValues<SystemTextField>().Length;

    /// <summary>
    /// <see cref="BinXmlValues.Render"/> of a System field's value, reusing the string of the previous record's
    /// <paramref name="field"/> when the bytes are the same.
    /// </summary>
    public string RenderSystemText(SystemTextField field, BinXmlValue value)
    {
        ref var last = ref _lastSystemText[(int)field];
        if (last.Text is not null && last.Type == value.Type && last.Length == value.Length
            && Data.AsSpan(last.Offset, last.Length).SequenceEqual(Data.AsSpan(value.Offset, value.Length)))
            return last.Text;
        var text = BinXmlValues.Render(Data, value);
        last = (value.Type, value.Offset, value.Length, text);
        return text;
    }

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

    /// <summary>Whether a name at <paramref name="offset"/> reads <paramref name="expected"/> (false, not an error, when none fits there).</summary>
    public bool NameAtEquals(int offset, string expected)
    {
        if (offset < EvtxChunkHeader.HeaderSize || offset > Data.Length - 8) return false;
        var count = BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan(offset + 6));
        if (count != expected.Length || offset + 8 + (2 * count) > Data.Length) return false;
        return MemoryMarshal.Cast<byte, char>(Data.AsSpan(offset + 8, 2 * count)).SequenceEqual(expected);
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
            // Every chunk repeats the definitions its records use: most were parsed in an earlier chunk already.
            var body = Data.AsSpan(offset + 4, 20 + (int)dataSize); // all but the chunk's own next-in-bucket link
            if (TemplateCache.Find(this, offset, body, depth) is { } known)
            {
                _templates[offset] = known;
                return known;
            }
            var parser = new BinXmlParser(this, start, start + (int)dataSize, inTemplate: true, depth + 1);
            var nodes = parser.ParseTemplateFragment(out var nameReferences, out var instantiatesTemplates);
            var definition = new TemplateDefinition(offset, guid, (int)dataSize, nodes);
            _templates[offset] = definition;
            if (!instantiatesTemplates) TemplateCache.Add(body, offset + 4, depth, nameReferences, definition);
            return definition;
        }
        finally
        {
            _compiling.Remove(offset);
        }
    }
}

/// <summary>The System fields whose text <see cref="ChunkContext.RenderSystemText"/> shares between a chunk's records.</summary>
internal enum SystemTextField
{
    Channel,
    Computer,
    Provider,
    ProviderGuid,
    EventSourceName,
    UserId,
}
