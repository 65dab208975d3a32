namespace KeyDoctor.Formats.Evtx;

internal enum BinXmlNodeKind : byte
{
    Element,
    Text,
    Substitution,
    CharRef,
    EntityRef,
    CData,
    ProcessingInstruction,
    TemplateInstance,
}

/// <summary>
/// One parsed BinXml item: an element, literal text, a substitution slot, a reference, a PI, or a template
/// instance. Template definitions are parsed into these once per chunk and instantiated per record.
/// </summary>
internal sealed class BinXmlNode
{
    public BinXmlNodeKind Kind { get; private init; }
    /// <summary>Literal text, CDATA text, entity name, or PI target.</summary>
    public string? Text { get; private init; }
    /// <summary>PI data.</summary>
    public string? Data { get; private init; }
    public BinXmlElement? Element { get; private init; }
    public TemplateInstance? Instance { get; private init; }
    public ushort Index { get; private init; }
    public BinXmlValueType ValueType { get; private init; }
    public bool Optional { get; private init; }
    public ushort CharValue { get; private init; }

    public static BinXmlNode ForElement(BinXmlElement element) => new() { Kind = BinXmlNodeKind.Element, Element = element };
    public static BinXmlNode ForText(string text) => new() { Kind = BinXmlNodeKind.Text, Text = text };
    public static BinXmlNode ForCData(string text) => new() { Kind = BinXmlNodeKind.CData, Text = text };
    public static BinXmlNode ForEntity(string name) => new() { Kind = BinXmlNodeKind.EntityRef, Text = name };
    public static BinXmlNode ForCharRef(ushort value) => new() { Kind = BinXmlNodeKind.CharRef, CharValue = value };
    public static BinXmlNode ForPI(string target, string data) => new() { Kind = BinXmlNodeKind.ProcessingInstruction, Text = target, Data = data };
    public static BinXmlNode ForInstance(TemplateInstance instance) => new() { Kind = BinXmlNodeKind.TemplateInstance, Instance = instance };

    public static BinXmlNode ForSubstitution(ushort index, BinXmlValueType type, bool optional) =>
        new() { Kind = BinXmlNodeKind.Substitution, Index = index, ValueType = type, Optional = optional };
}

internal sealed class BinXmlElement(string name, BinXmlAttribute[] attributes, BinXmlNode[] children)
{
    public string Name { get; } = name;
    public BinXmlAttribute[] Attributes { get; } = attributes;
    public BinXmlNode[] Children { get; } = children;
}

internal sealed class BinXmlAttribute(string name, BinXmlNode[] value)
{
    public string Name { get; } = name;
    public BinXmlNode[] Value { get; } = value;
}

/// <summary>A template instance of one record: the shared definition and this record's typed values.</summary>
internal sealed class TemplateInstance(TemplateDefinition definition, BinXmlValue[] values)
{
    public TemplateDefinition Definition { get; } = definition;
    public BinXmlValue[] Values { get; } = values;
}
