namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// A template definition stored in a chunk (next-in-bucket offset, GUID, data size, then a BinXml fragment),
/// parsed once per chunk. It also remembers where the EventID comes from, so an id-filtered scan reads one
/// substitution value instead of rendering the record.
/// </summary>
internal sealed class TemplateDefinition
{
    public TemplateDefinition(int offset, Guid guid, int dataSize, BinXmlNode[] nodes)
    {
        Offset = offset;
        Guid = guid;
        DataSize = dataSize;
        Nodes = nodes;
        (EventIdSubstitution, EventIdLiteral) = FindEventId(nodes);
    }

    /// <summary>The same parsed definition stored at <paramref name="offset"/> of another chunk.</summary>
    public TemplateDefinition At(int offset) => offset == Offset ? this : new(offset, this);

    private TemplateDefinition(int offset, TemplateDefinition same)
    {
        Offset = offset;
        Guid = same.Guid;
        DataSize = same.DataSize;
        Nodes = same.Nodes;
        (EventIdSubstitution, EventIdLiteral) = (same.EventIdSubstitution, same.EventIdLiteral);
    }

    /// <summary>Bytes before the fragment: next offset (4), GUID (16), data size (4).</summary>
    public const int HeaderSize = 24;

    public int Offset { get; }
    public Guid Guid { get; }
    public int DataSize { get; }
    public BinXmlNode[] Nodes { get; }

    /// <summary>Substitution index that fills Event/System/EventID, or -1.</summary>
    public int EventIdSubstitution { get; }

    /// <summary>EventID written literally in the template, when it is.</summary>
    public string? EventIdLiteral { get; }

    private static (int, string?) FindEventId(BinXmlNode[] nodes)
    {
        var root = nodes.FirstOrDefault(n => n.Kind == BinXmlNodeKind.Element)?.Element;
        var system = root?.Children.FirstOrDefault(n => n.Element?.Name == "System")?.Element;
        var eventId = system?.Children.FirstOrDefault(n => n.Element?.Name == "EventID")?.Element;
        if (eventId is null || eventId.Children.Length != 1) return (-1, null);
        var content = eventId.Children[0];
        return content.Kind switch
        {
            BinXmlNodeKind.Substitution => (content.Index, null),
            BinXmlNodeKind.Text => (-1, content.Text),
            _ => (-1, null),
        };
    }
}
