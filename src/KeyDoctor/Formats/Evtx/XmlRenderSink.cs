using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace KeyDoctor.Formats.Evtx;

/// <summary>Renders an evaluated event as indented XML text, the shape Event Viewer shows.</summary>
internal sealed class XmlRenderSink : IBinXmlSink
{
    private readonly StringBuilder _sb = new(1024);
    private readonly Stack<string> _open = new();
    private bool _startTagOpen;
    private bool _lastWasElement;
    private bool _inAttribute;

    public override string ToString() => _sb.ToString();

    public void StartElement(string name)
    {
        CloseStartTagForContent(element: true);
        if (_sb.Length > 0) _sb.Append('\n');
        _sb.Append(' ', 2 * _open.Count).Append('<').Append(name);
        _open.Push(name);
        _startTagOpen = true;
        _lastWasElement = false;
    }

    public void StartAttribute(string name)
    {
        _sb.Append(' ').Append(name).Append("=\"");
        _inAttribute = true;
    }

    public void EndAttribute()
    {
        _sb.Append('"');
        _inAttribute = false;
    }

    public void CloseStartElement()
    {
    }

    public void Text(string text)
    {
        CloseStartTagForContent(element: false);
        Escape(text);
    }

    public void Value(byte[] chunk, BinXmlValue value)
    {
        var text = value.Type == BinXmlValueType.String
            ? BinXmlValues.Utf16Chars(chunk.AsSpan(value.Offset, value.Length))
            : BinXmlValues.Render(chunk, value).AsSpan();
        if (text.IsEmpty) return; // an empty value keeps the element empty: <Data/>
        CloseStartTagForContent(element: false);
        Escape(text);
    }

    public void CharRef(ushort value)
    {
        CloseStartTagForContent(element: false);
        _sb.Append("&#").Append(value).Append(';');
    }

    public void EntityRef(string name)
    {
        CloseStartTagForContent(element: false);
        _sb.Append('&').Append(name).Append(';');
    }

    public void CData(string text)
    {
        CloseStartTagForContent(element: false);
        _sb.Append("<![CDATA[").Append(text).Append("]]>");
    }

    public void ProcessingInstruction(string target, string data)
    {
        CloseStartTagForContent(element: true);
        if (_sb.Length > 0) _sb.Append('\n');
        _sb.Append(' ', 2 * _open.Count).Append("<?").Append(target);
        if (data.Length > 0) _sb.Append(' ').Append(data);
        _sb.Append("?>");
        _lastWasElement = true;
    }

    public void EndElement()
    {
        var name = _open.Pop();
        if (_startTagOpen)
        {
            _sb.Append("/>");
            _startTagOpen = false;
        }
        else
        {
            if (_lastWasElement) _sb.Append('\n').Append(' ', 2 * _open.Count);
            _sb.Append("</").Append(name).Append('>');
        }
        _lastWasElement = true;
    }

    private void CloseStartTagForContent(bool element)
    {
        if (_inAttribute) return;
        if (_startTagOpen)
        {
            _sb.Append('>');
            _startTagOpen = false;
        }
        if (!element) _lastWasElement = false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Escape(ReadOnlySpan<char> text)
    {
        // Copy runs of ordinary characters in one go; only the few special ones are rewritten.
        var special = _inAttribute ? AttributeSpecial : TextSpecial;
        while (!text.IsEmpty)
        {
            var next = text.IndexOfAny(special);
            if (next < 0)
            {
                _sb.Append(text);
                return;
            }
            _sb.Append(text[..next]);
            var c = text[next];
            switch (c)
            {
                case '&': _sb.Append("&amp;"); break;
                case '<': _sb.Append("&lt;"); break;
                case '>': _sb.Append("&gt;"); break;
                case '"': _sb.Append("&quot;"); break;
                // Control characters are not allowed in XML 1.0; keep them visible as references.
                default: _sb.Append("&#x").Append(((int)c).ToString("X", CultureInfo.InvariantCulture)).Append(';'); break;
            }
            text = text[(next + 1)..];
        }
    }

    private static readonly SearchValues<char> TextSpecial = SearchValues.Create(SpecialChars(attribute: false));
    private static readonly SearchValues<char> AttributeSpecial = SearchValues.Create(SpecialChars(attribute: true));

    private static string SpecialChars(bool attribute)
    {
        var chars = new List<char> { '&', '<', '>' };
        if (attribute) chars.Add('"');
        for (var c = (char)0; c < 0x20; c++)
            if (c is not ('\t' or '\n' or '\r')) chars.Add(c);
        return new string([.. chars]);
    }
}
