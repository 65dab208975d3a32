using System.Text;
using System.Xml;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Primitives;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Repair;

/// <summary>
/// Removes customMetadata properties from an applicationHost.config as a precise text edit: the elements are cut
/// out (with the indentation and line break of a line they had to themselves) and every other byte of the file,
/// comments, attribute order, line endings and byte-order mark included, stays as it was. appcmd would rewrite the
/// whole file; an edit a person can diff is easier to trust on a broken server.
/// </summary>
public static class CustomMetadataEditor
{
    /// <summary>
    /// The file without the properties <paramref name="propertyIds"/> of <c>&lt;key path="<paramref name="keyPath"/>"&gt;</c>
    /// (and without that key when nothing else is left in it); null when there is nothing to remove.
    /// </summary>
    public static byte[]? RemoveProperties(ReadOnlySpan<byte> file, string keyPath, IReadOnlyCollection<uint> propertyIds)
    {
        var (preamble, encoding) = DetectEncoding(file);
        var body = file[preamble.Length..];
        string text;
        try
        {
            text = encoding.GetString(body);
        }
        catch (DecoderFallbackException ex)
        {
            throw new MalformedDataException("applicationHost.config", ex.Index, "the file is not valid text in its encoding; not editing it");
        }

        var lineStarts = LineStarts(text);
        var cuts = new List<(int Start, int End)>();
        var settings = SafeXml.Settings();
        settings.IgnoreWhitespace = false;
        settings.IgnoreComments = false;
        using (var reader = new LimitedXmlReader(XmlReader.Create(new StringReader(text), settings)))
        {
            var info = (IXmlLineInfo)reader;
            var path = new List<string>();
            try
            {
                while (reader.Read())
                {
                    if (reader.NodeType == XmlNodeType.EndElement) path.RemoveAt(path.Count - 1);
                    if (reader.NodeType != XmlNodeType.Element) continue;
                    var empty = reader.IsEmptyElement;
                    path.Add(reader.LocalName);
                    if (path is ["configuration", "system.applicationHost", "customMetadata", "key"]
                        && reader.GetAttribute("path") == keyPath)
                    {
                        var keyStart = OffsetOf(lineStarts, info) - 1;
                        CollectKey(reader, info, lineStarts, keyStart, empty, propertyIds, text, cuts);
                        path.RemoveAt(path.Count - 1);
                        continue;
                    }
                    if (empty) path.RemoveAt(path.Count - 1);
                }
            }
            catch (XmlException ex)
            {
                throw new MalformedDataException("applicationHost.config", 0, $"not well-formed XML at line {ex.LineNumber}: {ex.Message}", ex);
            }
        }
        if (cuts.Count == 0) return null;

        var edited = new StringBuilder(text);
        foreach (var (start, end) in cuts.OrderByDescending(c => c.Start))
            edited.Remove(start, end - start);
        return [.. preamble, .. encoding.GetBytes(edited.ToString())];
    }

    // Reads one <key> element; adds the cut for the whole key when every child is a removed property, else for each
    // removed property.
    private static void CollectKey(XmlReader reader, IXmlLineInfo info, int[] lineStarts, int keyStart, bool empty,
                                   IReadOnlyCollection<uint> ids, string text, List<(int, int)> cuts)
    {
        if (empty) return;
        var removed = new List<(int, int)>();
        var kept = 0;
        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth) && !reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
            {
                var start = OffsetOf(lineStarts, info) - 1;
                var isTarget = reader.LocalName == "property"
                               && uint.TryParse(reader.GetAttribute("id"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
                               && ids.Contains(id);
                if (isTarget) removed.Add(WholeLines(text, start, ElementEnd(text, start, "property")));
                else kept++;
                if (!reader.IsEmptyElement)
                {
                    reader.Skip(); // lands on the node after the child's end tag
                    continue;
                }
            }
            reader.Read();
        }
        if (removed.Count == 0) return;
        if (kept == 0) cuts.Add(WholeLines(text, keyStart, ElementEnd(text, keyStart, "key")));
        else cuts.AddRange(removed);
    }

    /// <summary>Offset just past the element that starts at <paramref name="start"/> ('&lt;').</summary>
    private static int ElementEnd(string text, int start, string name)
    {
        var i = start + 1;
        char? quote = null;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is not null)
            {
                if (c == quote) quote = null;
                continue;
            }
            if (c is '"' or '\'') quote = c;
            else if (c == '>') break;
        }
        if (i >= text.Length) throw new MalformedDataException("applicationHost.config", start, $"<{name}> has no end");
        if (text[i - 1] == '/') return i + 1;
        var close = text.IndexOf("</" + name, i, StringComparison.Ordinal);
        var gt = close < 0 ? -1 : text.IndexOf('>', close);
        if (gt < 0) throw new MalformedDataException("applicationHost.config", start, $"<{name}> has no end tag");
        return gt + 1;
    }

    /// <summary>Widens a cut to its whole line(s) when nothing but whitespace shares them.</summary>
    private static (int, int) WholeLines(string text, int start, int end)
    {
        var lineStart = start;
        while (lineStart > 0 && text[lineStart - 1] is ' ' or '\t') lineStart--;
        var lineEnd = end;
        while (lineEnd < text.Length && text[lineEnd] is ' ' or '\t') lineEnd++;
        var startsLine = lineStart == 0 || text[lineStart - 1] == '\n';
        var endsLine = lineEnd == text.Length || text[lineEnd] is '\r' or '\n';
        if (!startsLine || !endsLine) return (start, end);
        if (lineEnd < text.Length && text[lineEnd] == '\r') lineEnd++;
        if (lineEnd < text.Length && text[lineEnd] == '\n') lineEnd++;
        return (lineStart, lineEnd);
    }

    private static int OffsetOf(int[] lineStarts, IXmlLineInfo info) => lineStarts[info.LineNumber - 1] + info.LinePosition - 1;

    private static int[] LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n') starts.Add(i + 1);
        return [.. starts];
    }

    private static (byte[] Preamble, Encoding Encoding) DetectEncoding(ReadOnlySpan<byte> file)
    {
        if (file.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return ([0xEF, 0xBB, 0xBF], new UTF8Encoding(false, throwOnInvalidBytes: true));
        if (file.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return ([0xFF, 0xFE], new UnicodeEncoding(false, false, throwOnInvalidBytes: true));
        if (file.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return ([0xFE, 0xFF], new UnicodeEncoding(true, false, throwOnInvalidBytes: true));
        return ([], new UTF8Encoding(false, throwOnInvalidBytes: true));
    }
}
