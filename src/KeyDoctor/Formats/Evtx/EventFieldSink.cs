using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// Fills an <see cref="EvtxRecord"/>'s fields from the evaluated document by path (Event/System/…,
/// Event/EventData/Data, Event/UserData/*/…) without building a tree. Typed values (EventID, times) are read
/// from their binary form, not parsed back from text. One sink reads all the records of a chunk, one at a time.
/// </summary>
internal sealed class EventFieldSink : IBinXmlSink
{
    private enum Section
    {
        Other,
        System,
        EventData,
        UserData,
    }

    private readonly ChunkContext _chunk;
    private readonly List<EvtxDataItem> _data = [];
    private EvtxRecord _record = null!;
    private string? _level3Element; // the System child being read, e.g. "Provider"
    private int _depth;
    private Section _section;

    // The element or attribute whose text is being collected, and what was collected.
    private string? _target;
    private string? _dataName;
    private string? _attribute;
    private byte[]? _valueChunk;
    private BinXmlValue _value;
    private string? _text;
    private StringBuilder? _builder;
    private int _pieces;

    public EventFieldSink(ChunkContext chunk)
    {
        _chunk = chunk;
    }

    /// <summary>Starts reading <paramref name="record"/> (the last walk may have stopped anywhere, on an error).</summary>
    public void Begin(EvtxRecord record)
    {
        _record = record;
        _data.Clear();
        _level3Element = null;
        _depth = 0;
        _section = Section.Other;
        _target = null;
        _dataName = null;
        _attribute = null;
        Reset();
    }

    // An array of the exact size: the list is the sink's, reused for the next record.
    public void Complete() => _record.Data = _data.ToArray();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void StartElement(string name)
    {
        FlushElementText();
        _depth++;
        if (_depth == 3) _level3Element = name;
        if (_depth == 2) _section = name switch
        {
            "System" => Section.System,
            "EventData" => Section.EventData,
            "UserData" => Section.UserData,
            _ => Section.Other,
        };
        _dataName = null;
        _target = null;
        if (_depth == 3 && _section == Section.System) _target = name;
        else if (_section == Section.EventData && _depth == 3) _target = name;
        else if (_section == Section.UserData && _depth >= 4) _target = name;
        Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void StartAttribute(string name)
    {
        _attribute = name;
        Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EndAttribute()
    {
        if (_depth == 3 && _section == Section.System)
            SystemAttribute(_level3Element!, _attribute!);
        else if (_depth == 3 && _section == Section.EventData && _attribute == "Name")
            _dataName = TakeText();
        else if (_depth >= 3 && _section == Section.UserData && !_attribute!.StartsWith("xmlns", StringComparison.Ordinal))
            _data.Add(TakeDataItem(_attribute)); // e.g. CAPI2 <EventAuxInfo ProcessName="…"/>
        _attribute = null;
        Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void CloseStartElement() => Reset();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Text(string text) => Add(text);

    private bool Collecting => _target is not null || _attribute is not null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Value(byte[] chunk, BinXmlValue value)
    {
        if (!Collecting) return;
        _pieces++;
        if (_pieces == 1)
        {
            _valueChunk = chunk;
            _value = value;
            return;
        }
        Add(null);
        BinXmlValues.AppendTo(_builder!, chunk, value);
    }

    public void CharRef(ushort value) => Add(((char)value).ToString());
    public void EntityRef(string name) => Add(name switch
    {
        "amp" => "&", "lt" => "<", "gt" => ">", "quot" => "\"", "apos" => "'", _ => $"&{name};",
    });
    public void CData(string text) => Add(text);

    public void ProcessingInstruction(string target, string data)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EndElement()
    {
        FlushElementText();
        _depth--;
        _target = null;
        Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FlushElementText()
    {
        if (_target is null || _pieces == 0 && !(_section == Section.EventData && _depth == 3)) return;
        if (_section == Section.System && _depth == 3) SystemText(_target);
        else if (_section is Section.EventData or Section.UserData) _data.Add(TakeDataItem(_dataName ?? _target));
        _target = null;
        Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SystemText(string element)
    {
        switch (element)
        {
            case "EventID": _record.EventId = (int)(TakeNumber() ?? 0); break;
            case "Version": _record.Version = (int?)TakeNumber(); break;
            case "Level": _record.Level = (int?)TakeNumber(); break;
            case "Task": _record.Task = (int?)TakeNumber(); break;
            case "Opcode": _record.Opcode = (int?)TakeNumber(); break;
            case "Keywords": _record.Keywords = TakeNumber(hex: true); break;
            case "Channel": _record.Channel = TakeSystemText(SystemTextField.Channel); break;
            case "Computer": _record.Computer = TakeSystemText(SystemTextField.Computer); break;
            case "EventRecordID": break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SystemAttribute(string element, string attribute)
    {
        switch (element, attribute)
        {
            case ("Provider", "Name"): _record.Provider = TakeSystemText(SystemTextField.Provider); break;
            case ("Provider", "Guid"): _record.ProviderGuid = TakeSystemText(SystemTextField.ProviderGuid); break;
            case ("Provider", "EventSourceName"): _record.EventSourceName = TakeSystemText(SystemTextField.EventSourceName); break;
            case ("EventID", "Qualifiers"): _record.Qualifiers = (int?)TakeNumber(); break;
            case ("TimeCreated", "SystemTime"): _record.TimeCreated = TakeTime(); break;
            case ("Correlation", "ActivityID"): _record.ActivityId = TakeText(); break;
            case ("Execution", "ProcessID"): _record.ProcessId = (long?)TakeNumber(); break;
            case ("Execution", "ThreadID"): _record.ThreadId = (long?)TakeNumber(); break;
            case ("Security", "UserID"): _record.UserId = TakeSystemText(SystemTextField.UserId); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Add(string? text)
    {
        if (!Collecting) return;
        if (text is not null) _pieces++;
        if (_pieces == 1 && text is not null)
        {
            _text = text;
            return;
        }
        if (_builder is null) _builder = new StringBuilder();
        if (_builder.Length == 0 && (_text is not null || _valueChunk is not null))
        {
            // Second piece: move the first one into the builder.
            if (_text is not null) _builder.Append(_text);
            else BinXmlValues.AppendTo(_builder, _valueChunk!, _value);
            _text = null;
            _valueChunk = null;
        }
        if (text is not null) _builder.Append(text);
    }

    /// <summary>A single typed value stays in the chunk (rendered when asked); anything else becomes text now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private EvtxDataItem TakeDataItem(string name) =>
        _pieces == 1 && _valueChunk is not null ? new EvtxDataItem(name, _valueChunk, _value) : new EvtxDataItem(name, TakeText());

    /// <summary><see cref="TakeText"/> for a System field that repeats across records (see <see cref="ChunkContext.RenderSystemText"/>).</summary>
    private string TakeSystemText(SystemTextField field) =>
        _pieces == 1 && _valueChunk is not null && ReferenceEquals(_valueChunk, _chunk.Data) ? _chunk.RenderSystemText(field, _value) : TakeText();

    private string TakeText()
    {
        if (_pieces == 0) return "";
        if (_pieces == 1)
            return _text ?? BinXmlValues.Render(_valueChunk!, _value);
        return _builder!.ToString();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong? TakeNumber(bool hex = false)
    {
        if (_pieces == 1 && _valueChunk is not null)
            return BinXmlValues.TryGetUInt64(_valueChunk, _value, out var v) ? v : null;
        var text = TakeText().Trim();
        if (hex && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var h))
            return h;
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private DateTime? TakeTime()
    {
        if (_pieces == 1 && _valueChunk is not null) return BinXmlValues.TryGetTime(_valueChunk, _value);
        return DateTime.TryParse(TakeText(), CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Reset()
    {
        _pieces = 0;
        _text = null;
        _valueChunk = null;
        _builder?.Clear();
    }
}
