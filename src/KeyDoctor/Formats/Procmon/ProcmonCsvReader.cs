using System.Text;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// Reads Procmon's CSV export (File > Save > CSV): a header row naming the columns, then one quoted row per event.
/// Streams the file row by row; a field may hold line breaks. A row with a different number of fields, or a file
/// that does not start with Procmon's header, throws <see cref="MalformedDataException"/> with the byte offset.
/// </summary>
public sealed class ProcmonCsvReader : IDisposable
{
    internal const string Format = "Procmon CSV";
    private readonly TextReader _text;
    private readonly Dictionary<string, int> _columns;
    private readonly StringBuilder _field = new();
    private long _position;

    public ProcmonCsvReader(Stream stream)
    {
        _text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var header = ReadRow() ?? throw new MalformedDataException(Format, 0, "the file is empty");
        _columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++) _columns.TryAdd(header[i].Trim('\uFEFF'), i);
        foreach (var needed in new[] { "Process Name", "Operation", "Path", "Result" })
            if (!_columns.ContainsKey(needed))
                throw new MalformedDataException(Format, 0, $"the header has no \"{needed}\" column: not a Process Monitor CSV export");
    }

    public static ProcmonCsvReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan));

    /// <summary>The column names of the header row, in order.</summary>
    public IReadOnlyCollection<string> Columns => _columns.Keys;

    public IEnumerable<ProcmonEvent> ReadEvents()
    {
        var columns = new ProcmonExportColumns();
        long sequence = 0;
        while (true)
        {
            var start = _position;
            var row = ReadRow();
            if (row is null) yield break;
            if (row.Count == 1 && row[0].Length == 0) continue; // blank line
            if (row.Count != _columns.Count)
                throw new MalformedDataException(Format, start, $"row {sequence + 1} has {row.Count} fields, the header {_columns.Count}");
            yield return columns.ToEvent(name => _columns.TryGetValue(name, out var i) ? row[i] : null, sequence++, Format, start);
        }
    }

    /// <summary>One CSV record (RFC 4180 quoting); null at the end of the file. Positions count characters.</summary>
    private List<string>? ReadRow()
    {
        var fields = new List<string>();
        var quoted = false;
        var any = false;
        while (true)
        {
            var c = _text.Read();
            if (c < 0)
            {
                if (!any) return null;
                if (quoted) throw new MalformedDataException(Format, _position, "a quoted field is not closed: the file is cut short");
                fields.Add(_field.ToString());
                _field.Clear();
                return fields;
            }
            _position++;
            any = true;
            if (quoted)
            {
                if (c == '"')
                {
                    if (_text.Peek() == '"')
                    {
                        _text.Read();
                        _position++;
                        _field.Append('"');
                    }
                    else quoted = false;
                }
                else _field.Append((char)c);
                continue;
            }
            switch (c)
            {
                case '"':
                    quoted = true;
                    break;
                case ',':
                    fields.Add(_field.ToString());
                    _field.Clear();
                    break;
                case '\r':
                    break;
                case '\n':
                    fields.Add(_field.ToString());
                    _field.Clear();
                    return fields;
                default:
                    _field.Append((char)c);
                    break;
            }
        }
    }

    public void Dispose() => _text.Dispose();
}
