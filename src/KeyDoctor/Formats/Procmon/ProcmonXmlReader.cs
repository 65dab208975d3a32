using System.Xml;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// Reads Procmon's XML export (File > Save > XML): &lt;procmon&gt; with a &lt;processlist&gt; and an &lt;eventlist&gt; of
/// &lt;event&gt; elements whose children are the columns, spaces written as underscores (Process_Name, Time_of_Day).
/// An event's ProcessIndex links it to the process list (owner, image path, command line). Streams with an
/// XmlReader (DTDs off); malformed XML throws <see cref="MalformedDataException"/> with the line as offset.
/// </summary>
public sealed class ProcmonXmlReader : IDisposable
{
    internal const string Format = "Procmon XML";
    private readonly Stream _stream;

    public ProcmonXmlReader(Stream stream) => _stream = stream;

    public static ProcmonXmlReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan));

    public IEnumerable<ProcmonEvent> ReadEvents()
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true, IgnoreComments = true };
        using var xml = XmlReader.Create(_stream, settings);
        var processes = new Dictionary<string, Dictionary<string, string>>();
        var columns = new ProcmonExportColumns();
        long sequence = 0;
        while (true)
        {
            Dictionary<string, string>? fields;
            bool isEvent;
            try
            {
                if (!xml.Read()) yield break;
                if (xml.NodeType != XmlNodeType.Element || xml.Name is not ("process" or "event")) continue;
                isEvent = xml.Name == "event";
                fields = ReadFields(xml);
            }
            catch (XmlException ex)
            {
                throw new MalformedDataException(Format, ex.LineNumber, $"the XML is malformed at line {ex.LineNumber}: {ex.Message}");
            }
            if (!isEvent)
            {
                if (fields.TryGetValue("ProcessIndex", out var index)) processes[index] = fields;
                continue;
            }
            var process = fields.TryGetValue("ProcessIndex", out var at) ? processes.GetValueOrDefault(at) : null;
            yield return columns.ToEvent(name => Column(fields, process, name), sequence++, Format, sequence);
        }
    }

    /// <summary>The element's child elements as name → text (nested lists such as modulelist are skipped).</summary>
    private static Dictionary<string, string> ReadFields(XmlReader xml)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (xml.IsEmptyElement) return fields;
        var depth = xml.Depth;
        xml.Read();
        while (xml.Depth > depth)
        {
            if (xml.NodeType == XmlNodeType.Element && xml.Depth == depth + 1)
            {
                var name = xml.Name;
                if (xml.IsEmptyElement)
                {
                    fields[name] = "";
                    xml.Read();
                    continue;
                }
                var subtree = xml.ReadSubtree();
                subtree.Read();
                var hasChildren = false;
                var text = new System.Text.StringBuilder();
                while (subtree.Read())
                {
                    if (subtree.NodeType == XmlNodeType.Element) hasChildren = true;
                    else if (subtree.NodeType is XmlNodeType.Text or XmlNodeType.CDATA && subtree.Depth == 1) text.Append(subtree.Value);
                }
                subtree.Dispose();
                if (!hasChildren) fields[name] = text.ToString();
                xml.Read();
                continue;
            }
            xml.Read();
        }
        return fields;
    }

    private static string? Column(Dictionary<string, string> fields, Dictionary<string, string>? process, string column)
    {
        var element = column.Replace(' ', '_');
        if (fields.TryGetValue(element, out var value)) return value;
        if (column == "Date & Time" && fields.TryGetValue("Date___Time", out value)) return value;
        if (process is null) return null;
        var processField = column switch
        {
            "Process Name" => "ProcessName",
            "PID" => "ProcessId",
            "Image Path" => "ImagePath",
            "Command Line" => "CommandLine",
            "User" => "Owner",
            "Parent PID" => "ParentProcessId",
            "Integrity" => "Integrity",
            "Company" => "CompanyName",
            "Version" => "Version",
            "Description" => "Description",
            _ => null,
        };
        return processField is not null && process.TryGetValue(processField, out value) ? value : null;
    }

    public void Dispose() => _stream.Dispose();
}
