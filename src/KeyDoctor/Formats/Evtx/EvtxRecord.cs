namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// One EventData/UserData value: <c>Data Name="x"</c> → (x, text); unnamed items use the element name.
/// A value that is one typed substitution stays in the chunk until it is asked for, so formatting output
/// (<see cref="TryFormatValue"/>) needs no intermediate string.
/// </summary>
public readonly struct EvtxDataItem
{
    private readonly string? _text;
    private readonly byte[]? _chunk;
    private readonly BinXmlValue _value;

    public EvtxDataItem(string name, string value)
    {
        Name = name;
        _text = value;
    }

    internal EvtxDataItem(string name, byte[] chunk, BinXmlValue value)
    {
        Name = name;
        _chunk = chunk;
        _value = value;
    }

    public string Name { get; }

    /// <summary>The value as text (rendered on each call when it is still in the chunk).</summary>
    public string Value => _text ?? (_chunk is null ? "" : BinXmlValues.Render(_chunk, _value));

    /// <summary>Writes the value's text into <paramref name="destination"/>; false when it does not fit.</summary>
    public bool TryFormatValue(Span<char> destination, out int charsWritten)
    {
        if (_text is not null || _chunk is null)
        {
            var text = _text ?? "";
            charsWritten = text.Length;
            return text.TryCopyTo(destination);
        }
        return BinXmlValues.TryFormat(_chunk, _value, destination, out charsWritten);
    }

    public override string ToString() => $"{Name}={Value}";
}

/// <summary>
/// One event record: the record header, the System fields, and EventData/UserData as ordered name → value
/// pairs. The full XML is rendered only when <see cref="RenderXml"/> is called.
/// </summary>
public sealed class EvtxRecord
{
    private readonly ChunkContext? _chunk;
    private readonly BinXmlNode[]? _document;

    internal EvtxRecord(ChunkContext chunk, BinXmlNode[] document, long fileOffset, ulong recordId, DateTime writtenTime)
    {
        _chunk = chunk;
        _document = document;
        FileOffset = fileOffset;
        RecordId = recordId;
        WrittenTime = writtenTime;
    }

    /// <summary>
    /// A record that has no BinXml (a legacy .Evt record): the caller sets the fields, and
    /// <see cref="RenderXml"/> renders them in the shape Windows gives a classic event.
    /// </summary>
    internal EvtxRecord(long fileOffset, ulong recordId, DateTime writtenTime)
    {
        FileOffset = fileOffset;
        RecordId = recordId;
        WrittenTime = writtenTime;
    }

    /// <summary>The expansion budget the record was read with (what was left of its chunk's budget).</summary>
    internal long ExpansionLimit { get; init; } = ReaderLimits.EvtxMaxRecordExpansion;

    /// <summary>Where the record starts in the file.</summary>
    public long FileOffset { get; }

    /// <summary>Event record identifier from the record header.</summary>
    public ulong RecordId { get; }

    /// <summary>Written time from the record header (UTC).</summary>
    public DateTime WrittenTime { get; }

    public int EventId { get; internal set; }
    public int? Qualifiers { get; internal set; }
    public int? Version { get; internal set; }
    public int? Level { get; internal set; }
    public int? Task { get; internal set; }
    public int? Opcode { get; internal set; }
    public ulong? Keywords { get; internal set; }

    /// <summary>System/TimeCreated/@SystemTime (UTC); null when the event has none.</summary>
    public DateTime? TimeCreated { get; internal set; }

    /// <summary>System/Provider/@Name.</summary>
    public string? Provider { get; internal set; }
    public string? ProviderGuid { get; internal set; }
    public string? EventSourceName { get; internal set; }
    public string? Channel { get; internal set; }
    public string? Computer { get; internal set; }

    /// <summary>System/Security/@UserID (a SID).</summary>
    public string? UserId { get; internal set; }
    public long? ProcessId { get; internal set; }
    public long? ThreadId { get; internal set; }
    public string? ActivityId { get; internal set; }

    /// <summary>EventData (or UserData) values in document order; names may repeat.</summary>
    public IReadOnlyList<EvtxDataItem> Data { get; internal set; } = [];

    /// <summary>TimeCreated when present, else the header's written time.</summary>
    public DateTime Time => TimeCreated ?? WrittenTime;

    /// <summary>The first value named <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? GetData(string name)
    {
        foreach (var item in Data)
            if (string.Equals(item.Name, name, StringComparison.OrdinalIgnoreCase))
                return item.Value;
        return null;
    }

    /// <summary>Renders the record as event XML (the chunk is kept alive by this record until then).</summary>
    public string RenderXml()
    {
        var sink = new XmlRenderSink();
        if (_chunk is null) RenderFields(sink);
        // The same walk as when the record was read, so it stays within the budget that walk was given.
        else lock (_chunk) BinXmlEvaluator.Walk(_chunk, _document!, [], sink, ExpansionLimit);
        return sink.ToString();
    }

    private void RenderFields(XmlRenderSink sink)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        sink.StartElement("Event");
        sink.StartElement("System");
        Element(sink, "Provider", null, ("Name", Provider));
        Element(sink, "EventID", EventId.ToString(inv), ("Qualifiers", Qualifiers?.ToString(inv)));
        Element(sink, "Level", Level?.ToString(inv));
        Element(sink, "Task", Task?.ToString(inv));
        Element(sink, "TimeCreated", null, ("SystemTime", Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", inv)));
        Element(sink, "EventRecordID", RecordId.ToString(inv));
        Element(sink, "Channel", Channel);
        Element(sink, "Computer", Computer);
        Element(sink, "Security", null, ("UserID", UserId));
        sink.EndElement();
        sink.StartElement("EventData");
        foreach (var item in Data) Element(sink, item.Name, item.Value);
        sink.EndElement();
        sink.EndElement();
    }

    private static void Element(XmlRenderSink sink, string name, string? text, params (string Name, string? Value)[] attributes)
    {
        sink.StartElement(name);
        foreach (var (attribute, value) in attributes)
        {
            if (value is null) continue;
            sink.StartAttribute(attribute);
            sink.Text(value);
            sink.EndAttribute();
        }
        sink.CloseStartElement();
        if (!string.IsNullOrEmpty(text)) sink.Text(text);
        sink.EndElement();
    }
}

/// <summary>A record (or chunk) that could not be read, with where and why. The rest of the file is still read.</summary>
public sealed record EvtxRecordError(long FileOffset, ulong? RecordId, string Reason);

/// <summary>One item of a read: a record or an error, in file order.</summary>
public readonly record struct EvtxReadResult(EvtxRecord? Record, EvtxRecordError? Error)
{
    public bool IsError => Error is not null;
}
