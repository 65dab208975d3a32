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
    /// What is left of this walk's expansion budget, in characters of rendered XML. A crafted template can use a
    /// BinXml value many times, and that value can do the same, so the output is bounded rather than the nesting
    /// alone: every node charges what it renders to (names, text, values, indentation) and a BinXml value what
    /// parsing it costs.
    /// </summary>
    // The budget lives on the chunk (one thread walks a chunk at a time: parsing, or RenderXml under its lock):
    // a thread-static read on every node cost 4% of `events`.

    /// <summary>
    /// Streams the record to <paramref name="sink"/> and returns what it expanded to (characters of rendered XML).
    /// Throws <see cref="MalformedDataException"/> once that passes <paramref name="limit"/>
    /// (<see cref="ReaderLimits.EvtxMaxRecordExpansion"/>, or less when the chunk's budget is nearly spent).
    /// </summary>
    public static long Walk(ChunkContext chunk, BinXmlNode[] nodes, BinXmlValue[] values, IBinXmlSink sink,
        long limit = ReaderLimits.EvtxMaxRecordExpansion)
    {
        chunk.WalkBudget = chunk.WalkLimit = limit;
        Walk(chunk, nodes, values, sink, 0);
        return UsedByLastWalk(chunk);
    }

    /// <summary>What the last walk of <paramref name="chunk"/> expanded to, also when it stopped with an error.</summary>
    public static long UsedByLastWalk(ChunkContext chunk) => Math.Min(chunk.WalkLimit, chunk.WalkLimit - chunk.WalkBudget);

    // Inlined, with the message built out of line: it runs for every node.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Charge(ChunkContext chunk, long weight)
    {
        chunk.WalkBudget -= weight;
        if (chunk.WalkBudget < 0) ThrowOverBudget(chunk);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOverBudget(ChunkContext chunk) =>
        throw chunk.Error(0, chunk.WalkLimit < ReaderLimits.EvtxMaxRecordExpansion
            ? $"the chunk's records expand to more than {ReaderLimits.EvtxMaxChunkExpansion} characters (ReaderLimits.EvtxMaxChunkExpansion)"
            : $"record expands to more than {ReaderLimits.EvtxMaxRecordExpansion} characters (ReaderLimits.EvtxMaxRecordExpansion)");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Walk(ChunkContext chunk, BinXmlNode[] nodes, BinXmlValue[] values, IBinXmlSink sink, int depth)
    {
        if (depth > BinXmlParser.MaxDepth) throw chunk.Error(0, "BinXml nested too deeply");
        foreach (var node in nodes) WalkNode(chunk, node, values, sink, depth);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkNode(ChunkContext chunk, BinXmlNode node, BinXmlValue[] values, IBinXmlSink sink, int depth)
    {
        Charge(chunk, 1 + (node.Text?.Length ?? 0) + (node.Data?.Length ?? 0));
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
        // A rendered value is at most about twice its bytes (hex), plus the longest scalar form.
        Charge(chunk, (2L * value.Length) + 48);
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
        // Start and end tags, and the indentation the XML rendering gives them.
        Charge(chunk, (2L * element.Name.Length) + (2L * depth) + 8);
        sink.StartElement(element.Name);
        foreach (var attribute in element.Attributes)
        {
            if (IsAbsent(attribute.Value, values)) continue;
            Charge(chunk, attribute.Name.Length + 4);
            sink.StartAttribute(attribute.Name);
            foreach (var part in attribute.Value) WalkNode(chunk, part, values, sink, depth + 1);
            sink.EndAttribute();
        }
        sink.CloseStartElement();
        if (item is { } single)
        {
            Charge(chunk, (2L * single.Length) + 48);
            sink.Value(chunk.Data, single);
        }
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
