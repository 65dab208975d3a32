using System.Xml;

namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// Passes an <see cref="XmlReader"/> through, stopping as soon as the document nests deeper than
/// <see cref="ReaderLimits.XmlMaxDepth"/> or an attribute value passes <see cref="ReaderLimits.XmlMaxAttributeChars"/>:
/// the limits hold while reading, so a 100,000-level document is refused after 257 elements instead of being
/// built in full first.
/// </summary>
internal sealed class LimitedXmlReader(XmlReader inner) : XmlReader, IXmlLineInfo
{
    public override bool Read()
    {
        if (!inner.Read()) return false;
        if (inner.NodeType == XmlNodeType.Element)
        {
            if (inner.Depth >= ReaderLimits.XmlMaxDepth)
                throw Limit($"elements nest deeper than {ReaderLimits.XmlMaxDepth} levels (ReaderLimits.XmlMaxDepth)");
            if (inner.HasAttributes)
            {
                for (var more = inner.MoveToFirstAttribute(); more; more = inner.MoveToNextAttribute())
                    if (inner.Value.Length > ReaderLimits.XmlMaxAttributeChars)
                        throw Limit($"attribute '{inner.Name}' holds {inner.Value.Length} characters, over the limit of {ReaderLimits.XmlMaxAttributeChars} (ReaderLimits.XmlMaxAttributeChars)");
                inner.MoveToElement();
            }
        }
        return true;
    }

    /// <summary>An <see cref="XmlException"/> with the position, which the callers turn into the typed error with an offset.</summary>
    private XmlLimitException Limit(string reason) =>
        inner is IXmlLineInfo info ? new XmlLimitException(reason, info.LineNumber, info.LinePosition) : new XmlLimitException(reason, 0, 0);

    public override int AttributeCount => inner.AttributeCount;
    public override string BaseURI => inner.BaseURI;
    public override int Depth => inner.Depth;
    public override bool EOF => inner.EOF;
    public override bool IsEmptyElement => inner.IsEmptyElement;
    public override string LocalName => inner.LocalName;
    public override string Name => inner.Name;
    public override string NamespaceURI => inner.NamespaceURI;
    public override XmlNameTable NameTable => inner.NameTable;
    public override XmlNodeType NodeType => inner.NodeType;
    public override string Prefix => inner.Prefix;
    public override ReadState ReadState => inner.ReadState;
    public override string Value => inner.Value;
    public override bool HasValue => inner.HasValue;
    public override string GetAttribute(int i) => inner.GetAttribute(i);
    public override string? GetAttribute(string name) => inner.GetAttribute(name);
    public override string? GetAttribute(string name, string? namespaceURI) => inner.GetAttribute(name, namespaceURI);
    public override string? LookupNamespace(string prefix) => inner.LookupNamespace(prefix);
    public override bool MoveToAttribute(string name) => inner.MoveToAttribute(name);
    public override bool MoveToAttribute(string name, string? ns) => inner.MoveToAttribute(name, ns);
    public override void MoveToAttribute(int i) => inner.MoveToAttribute(i);
    public override bool MoveToElement() => inner.MoveToElement();
    public override bool MoveToFirstAttribute() => inner.MoveToFirstAttribute();
    public override bool MoveToNextAttribute() => inner.MoveToNextAttribute();
    public override bool ReadAttributeValue() => inner.ReadAttributeValue();
    public override void ResolveEntity() => inner.ResolveEntity();
    public override XmlReaderSettings? Settings => inner.Settings;

    public bool HasLineInfo() => inner is IXmlLineInfo info && info.HasLineInfo();
    public int LineNumber => inner is IXmlLineInfo info ? info.LineNumber : 0;
    public int LinePosition => inner is IXmlLineInfo info ? info.LinePosition : 0;

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A document over one of the XML limits: well-formed perhaps, but not read any further.</summary>
internal sealed class XmlLimitException(string reason, int line, int column) : XmlException(reason + ".", null, line, column)
{
    public string Reason { get; } = reason;
}
