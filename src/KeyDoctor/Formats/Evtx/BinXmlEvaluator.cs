using System.Runtime.CompilerServices;

namespace KeyDoctor.Formats.Evtx;

/// <summary>Receives an evaluated BinXml document as a stream of XML events (no DOM is built).</summary>
internal interface IBinXmlSink
{
    void StartElement(string name);
    void StartAttribute(string name);
    void EndAttribute();
    void CloseStartElement();
    void Text(string text);
    void Value(byte[] chunk, BinXmlValue value);
    void CharRef(ushort value);
    void EntityRef(string name);
    void CData(string text);
    void ProcessingInstruction(string target, string data);
    void EndElement();
}

/// <summary>
/// Instantiates parsed BinXml with substitution values and streams the result to a sink: null optional
/// values drop their attribute, an array value fills one element per item, a BinXml value is parsed and
/// walked in place.
/// </summary>
internal static class BinXmlEvaluator
{
    /// <summary>
    /// Items one record may expand to. A crafted template can use a BinXml value many times, and that value
    /// can do the same, so the work is bounded rather than the nesting alone.
    /// </summary>
    private const int MaxItemsPerRecord = 1_000_000;

    [ThreadStatic] private static int _budget;

    public static void Walk(ChunkContext chunk, BinXmlNode[] nodes, BinXmlValue[] values, IBinXmlSink sink)
    {
        _budget = MaxItemsPerRecord;
        Walk(chunk, nodes, values, sink, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Walk(ChunkContext chunk, BinXmlNode[] nodes, BinXmlValue[] values, IBinXmlSink sink, int depth)
    {
        if (depth > BinXmlParser.MaxDepth) throw chunk.Error(0, "BinXml nested too deeply");
        foreach (var node in nodes) WalkNode(chunk, node, values, sink, depth);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkNode(ChunkContext chunk, BinXmlNode node, BinXmlValue[] values, IBinXmlSink sink, int depth)
    {
        if (--_budget < 0) throw chunk.Error(0, $"record expands to more than {MaxItemsPerRecord} items");
        switch (node.Kind)
        {
            case BinXmlNodeKind.Element:
                WalkElement(chunk, node.Element!, values, sink, depth);
                break;
            case BinXmlNodeKind.TemplateInstance:
                Walk(chunk, node.Instance!.Definition.Nodes, node.Instance.Values, sink, depth + 1);
                break;
            case BinXmlNodeKind.Text:
                sink.Text(node.Text!);
                break;
            case BinXmlNodeKind.Substitution:
                EmitValue(chunk, Lookup(values, node.Index), sink, depth);
                break;
            case BinXmlNodeKind.CharRef:
                sink.CharRef(node.CharValue);
                break;
            case BinXmlNodeKind.EntityRef:
                sink.EntityRef(node.Text!);
                break;
            case BinXmlNodeKind.CData:
                sink.CData(node.Text!);
                break;
            case BinXmlNodeKind.ProcessingInstruction:
                sink.ProcessingInstruction(node.Text!, node.Data!);
                break;
        }
    }

    /// <summary>A substitution index past the values supplied renders as null, as Windows does.</summary>
    private static BinXmlValue Lookup(BinXmlValue[] values, ushort index) =>
        index < values.Length ? values[index] : default;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EmitValue(ChunkContext chunk, BinXmlValue value, IBinXmlSink sink, int depth)
    {
        if (value.IsNull) return;
        if (value.Type == BinXmlValueType.BinXml)
        {
            var parser = new BinXmlParser(chunk, value.Offset, value.Offset + value.Length, inTemplate: false, depth + 1);
            Walk(chunk, parser.ParseFragment(), [], sink, depth + 1);
            return;
        }
        sink.Value(chunk.Data, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkElement(ChunkContext chunk, BinXmlElement element, BinXmlValue[] values, IBinXmlSink sink, int depth)
    {
        if (element.Children is [{ Kind: BinXmlNodeKind.Substitution } only])
        {
            var value = Lookup(values, only.Index);
            if (value.IsArray)
            {
                // One element per array item (EventData with a string array gives one <Data> per string).
                var items = BinXmlValues.ArrayItems(chunk.Data, value);
                if (items.Count == 0) EmitElement(chunk, element, values, sink, depth, null);
                foreach (var item in items) EmitElement(chunk, element, values, sink, depth, item);
                return;
            }
        }
        EmitElement(chunk, element, values, sink, depth, null);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EmitElement(ChunkContext chunk, BinXmlElement element, BinXmlValue[] values, IBinXmlSink sink,
        int depth, BinXmlValue? item)
    {
        sink.StartElement(element.Name);
        foreach (var attribute in element.Attributes)
        {
            if (IsAbsent(attribute.Value, values)) continue;
            sink.StartAttribute(attribute.Name);
            foreach (var part in attribute.Value) WalkNode(chunk, part, values, sink, depth + 1);
            sink.EndAttribute();
        }
        sink.CloseStartElement();
        if (item is { } single)
            sink.Value(chunk.Data, single);
        else
            foreach (var child in element.Children) WalkNode(chunk, child, values, sink, depth + 1);
        sink.EndElement();
    }

    /// <summary>An attribute made only of null substitutions is not rendered at all.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsAbsent(BinXmlNode[] parts, BinXmlValue[] values)
    {
        if (parts.Length == 0) return false;
        foreach (var part in parts)
            if (part.Kind != BinXmlNodeKind.Substitution || !Lookup(values, part.Index).IsNull)
                return false;
        return true;
    }
}
