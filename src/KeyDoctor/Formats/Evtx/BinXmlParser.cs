using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// Parses BinXml tokens inside a chunk into <see cref="BinXmlNode"/>s. Positions are chunk offsets because
/// names and template definitions are referenced by chunk offset and may be stored inline (the reference
/// equals the current position). Every read is checked against <c>end</c>; nesting is bounded.
/// </summary>
internal struct BinXmlParser
{
    /// <summary>Deeper nesting than this is treated as corrupt rather than risking the stack.</summary>
    public const int MaxDepth = ReaderLimits.EvtxMaxBinXmlDepth;

    private readonly ChunkContext _chunk;
    private readonly byte[] _data;
    private readonly int _end;
    private readonly bool _inTemplate;
    private readonly int _depth;
    private int _pos;
    private List<NameReference>? _nameReferences;
    private bool _instantiatesTemplates;

    /// <param name="inTemplate">Element starts carry a 2-byte dependency id inside template definitions only.</param>
    public BinXmlParser(ChunkContext chunk, int start, int end, bool inTemplate, int depth)
    {
        if (depth > MaxDepth) throw chunk.Error(start, "BinXml nested too deeply");
        _chunk = chunk;
        _data = chunk.Data;
        _pos = start;
        _end = end;
        _inTemplate = inTemplate;
        _depth = depth;
    }

    public readonly int Position => _pos;

    /// <summary>
    /// <see cref="ParseFragment"/> for a template definition, with what ties its parse to this chunk: every name
    /// reference (a chunk offset, inline or elsewhere), and whether it instantiates a template (then its parse
    /// depends on more than its bytes and its names).
    /// </summary>
    public BinXmlNode[] ParseTemplateFragment(out NameReference[] nameReferences, out bool instantiatesTemplates)
    {
        _nameReferences = [];
        var nodes = ParseFragment();
        nameReferences = [.. _nameReferences];
        instantiatesTemplates = _instantiatesTemplates;
        return nodes;
    }

    /// <summary>
    /// Parses a document or fragment: fragment headers, template instances, elements and PIs until the
    /// end-of-stream token or the end of the data (a record may hold several fragments).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public BinXmlNode[] ParseFragment()
    {
        // Nearly every fragment holds one node (a template instance).
        var nodes = new OneOrMore<BinXmlNode>();
        while (_pos < _end)
        {
            var token = _data[_pos];
            BinXmlNode node;
            switch (token & ~BinXmlToken.MoreFlag)
            {
                case BinXmlToken.EndOfStream:
                    _pos++;
                    return nodes.ToArray();
                case BinXmlToken.FragmentHeader:
                    Need(4);
                    _pos += 4;
                    continue;
                case BinXmlToken.TemplateInstance:
                    node = BinXmlNode.ForInstance(ParseTemplateInstance());
                    break;
                case BinXmlToken.OpenStartElement:
                    node = BinXmlNode.ForElement(ParseElement(_depth + 1));
                    break;
                case BinXmlToken.PITarget:
                    node = ParseProcessingInstruction();
                    break;
                default:
                    throw _chunk.Error(_pos, $"unexpected BinXml token 0x{token:X2} at document level");
            }
            nodes.Add(node);
        }
        return nodes.ToArray();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private TemplateInstance ParseTemplateInstance()
    {
        _instantiatesTemplates = true;
        Need(10);
        _pos += 1 + 1 + 4; // token, unknown byte, template id (the GUID's first 4 bytes)
        var definitionOffset = (int)ReadUInt32();
        TemplateDefinition definition;
        if (definitionOffset == _pos)
        {
            // The definition follows inline (first use in this chunk): parse it, then skip over it.
            Need(TemplateDefinition.HeaderSize);
            var dataSize = BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_pos + 20));
            if (dataSize > (uint)(_end - _pos - TemplateDefinition.HeaderSize))
                throw _chunk.Error(_pos + 20, $"inline template definition of {dataSize} bytes runs past the end of the record");
            definition = _chunk.GetTemplate(definitionOffset, _depth);
            _pos += TemplateDefinition.HeaderSize + (int)dataSize;
        }
        else
        {
            definition = _chunk.GetTemplate(definitionOffset, _depth);
        }

        var count = ReadUInt32();
        if (count > (uint)(_end - _pos) / 4)
            throw _chunk.Error(_pos - 4, $"{count} substitution values do not fit in the record");
        var values = new BinXmlValue[count];
        var valueOffset = _pos + (4 * (int)count);
        for (var i = 0; i < values.Length; i++)
        {
            var size = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_pos + (4 * i)));
            var type = (BinXmlValueType)_data[_pos + (4 * i) + 2];
            if (size > _end - valueOffset)
                throw _chunk.Error(_pos + (4 * i), $"substitution value {i} ({size} bytes) runs past the end of the record");
            values[i] = new BinXmlValue(type, valueOffset, size);
            valueOffset += size;
        }
        _pos = valueOffset;
        return new TemplateInstance(definition, values);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private BinXmlElement ParseElement(int depth)
    {
        if (depth > MaxDepth) throw _chunk.Error(_pos, "elements nested too deeply");
        var token = _data[_pos];
        var hasAttributes = (token & BinXmlToken.MoreFlag) != 0;
        _pos++;
        if (_inTemplate)
        {
            Need(2);
            _pos += 2; // dependency id
        }
        Need(8);
        _pos += 4; // element size
        var name = ReadNameReference();
        if (hasAttributes)
        {
            Need(4);
            _pos += 4; // attribute list size
        }

        var attributes = new OneOrMore<BinXmlAttribute>();
        while (_pos < _end && (_data[_pos] & ~BinXmlToken.MoreFlag) == BinXmlToken.Attribute)
        {
            _pos++;
            Need(4);
            var attributeName = ReadNameReference();
            attributes.Add(new BinXmlAttribute(attributeName, ParseAttributeValue()));
        }

        Need(1);
        var close = _data[_pos++];
        BinXmlNode[] children;
        if (close == BinXmlToken.CloseEmptyElement)
            children = [];
        else if (close == BinXmlToken.CloseStartElement)
            children = ParseContent(depth);
        else
            throw _chunk.Error(_pos - 1, $"expected the end of a start element, found token 0x{close:X2}");
        return new BinXmlElement(name, attributes.ToArray(), children);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private BinXmlNode[] ParseAttributeValue()
    {
        var parts = new OneOrMore<BinXmlNode>();
        while (_pos < _end)
        {
            var token = _data[_pos] & ~BinXmlToken.MoreFlag;
            if (token is not (BinXmlToken.Value or BinXmlToken.NormalSubstitution or BinXmlToken.OptionalSubstitution
                or BinXmlToken.CharRef or BinXmlToken.EntityRef))
                break;
            parts.Add(ParseContentItem());
        }
        return parts.ToArray();
    }

    /// <summary>Element content up to and including the end-element token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private BinXmlNode[] ParseContent(int depth)
    {
        var nodes = new OneOrMore<BinXmlNode>(); // mostly one text or substitution
        while (true)
        {
            Need(1);
            var token = _data[_pos] & ~BinXmlToken.MoreFlag;
            switch (token)
            {
                case BinXmlToken.EndElement:
                    _pos++;
                    return nodes.ToArray();
                case BinXmlToken.OpenStartElement:
                    nodes.Add(BinXmlNode.ForElement(ParseElement(depth + 1)));
                    break;
                case BinXmlToken.TemplateInstance:
                    nodes.Add(BinXmlNode.ForInstance(ParseTemplateInstance()));
                    break;
                case BinXmlToken.PITarget:
                    nodes.Add(ParseProcessingInstruction());
                    break;
                default:
                    nodes.Add(ParseContentItem());
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private BinXmlNode ParseContentItem()
    {
        var token = _data[_pos] & ~BinXmlToken.MoreFlag;
        _pos++;
        switch (token)
        {
            case BinXmlToken.Value:
            {
                Need(1);
                var type = (BinXmlValueType)_data[_pos++];
                if (type != BinXmlValueType.String)
                    throw _chunk.Error(_pos - 1, $"value token of type 0x{(byte)type:X2} (only strings are defined)");
                return BinXmlNode.ForText(ReadCountedString());
            }
            case BinXmlToken.NormalSubstitution or BinXmlToken.OptionalSubstitution:
            {
                Need(3);
                var index = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_pos));
                var type = (BinXmlValueType)_data[_pos + 2];
                _pos += 3;
                return BinXmlNode.ForSubstitution(index, type, token == BinXmlToken.OptionalSubstitution);
            }
            case BinXmlToken.CData:
                return BinXmlNode.ForCData(ReadCountedString());
            case BinXmlToken.CharRef:
                Need(2);
                _pos += 2;
                return BinXmlNode.ForCharRef(BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_pos - 2)));
            case BinXmlToken.EntityRef:
                Need(4);
                return BinXmlNode.ForEntity(ReadNameReference());
            default:
                throw _chunk.Error(_pos - 1, $"unexpected BinXml token 0x{_data[_pos - 1]:X2} in element content");
        }
    }

    private BinXmlNode ParseProcessingInstruction()
    {
        _pos++;
        Need(4);
        var target = ReadNameReference();
        Need(1);
        if (_data[_pos] != BinXmlToken.PIData)
            return BinXmlNode.ForPI(target, "");
        _pos++;
        return BinXmlNode.ForPI(target, ReadCountedString());
    }

    /// <summary>Reads a u32 name offset; when it points here the name is inline and is skipped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string ReadNameReference()
    {
        var field = _pos;
        var offset = (int)ReadUInt32();
        var name = _chunk.ReadName(offset, out var storedSize);
        _nameReferences?.Add(new NameReference(field, offset, name));
        if (offset == _pos)
        {
            if (storedSize > _end - _pos) throw _chunk.Error(_pos, "inline name runs past the end of the data");
            _pos += storedSize;
        }
        return name;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string ReadCountedString()
    {
        Need(2);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_pos));
        _pos += 2;
        Need(2 * count);
        var text = new string(MemoryMarshal.Cast<byte, char>(_data.AsSpan(_pos, 2 * count)));
        _pos += 2 * count;
        return text;
    }

    private uint ReadUInt32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_pos));
        _pos += 4;
        return value;
    }

    // Inlined, with the message built out of line: it runs for every token.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int count)
    {
        if (count > _end - _pos) ThrowTooShort(count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowTooShort(int count) =>
        throw _chunk.Error(_pos, $"BinXml needs {count} bytes but only {_end - _pos} remain");
}

/// <summary>A name reference read while parsing: where its offset field is, the chunk offset it holds, the name there.</summary>
internal readonly record struct NameReference(int Field, int Target, string Name);

/// <summary>Collects parsed items into an array of their exact number, without a list for the usual single item.</summary>
internal struct OneOrMore<T>
    where T : class
{
    private T? _first;
    private List<T>? _more;

    public void Add(T item)
    {
        if (_first is null) _first = item;
        else (_more ??= [_first]).Add(item);
    }

    public readonly T[] ToArray() => _more is not null ? [.. _more] : _first is not null ? [_first] : [];
}
