using System.Xml;
using System.Xml.Linq;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// The one way IIS configuration XML is loaded: no DTD (so no entity expansion or external fetches), no resolver,
/// a hard size limit, depth and attribute limits enforced while reading (<see cref="LimitedXmlReader"/>), and line
/// numbers kept so every problem can point at its place in the file.
/// </summary>
internal static class SafeXml
{
    /// <summary>Largest document accepted. Real applicationHost.config files are well under 1 MiB.</summary>
    public const int MaxDocumentBytes = ReaderLimits.XmlMaxDocumentBytes;

    public static XmlReaderSettings Settings(long maxCharacters = MaxDocumentBytes) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = maxCharacters,
        // Redundant while DTDs are prohibited (0 would mean "no limit"); kept small as a second guard.
        MaxCharactersFromEntities = 1 << 16,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = false,
    };

    /// <summary>Parses <paramref name="data"/>; malformed XML becomes a <see cref="MalformedDataException"/>.</summary>
    public static XDocument Load(ReadOnlyMemory<byte> data, string format, long maxCharacters = MaxDocumentBytes)
    {
        if (data.Length > MaxDocumentBytes)
            throw new MalformedDataException(format, MaxDocumentBytes,
                $"document is {data.Length} bytes, over the {MaxDocumentBytes} byte limit");
        try
        {
            using var stream = AsStream(data);
            using var reader = new LimitedXmlReader(XmlReader.Create(stream, Settings(maxCharacters)));
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlLimitException ex)
        {
            throw new MalformedDataException(format, OffsetOf(data.Span, ex.LineNumber, ex.LinePosition),
                $"{ex.Reason}, at line {ex.LineNumber}, column {ex.LinePosition}; not read further", ex);
        }
        catch (XmlException ex)
        {
            throw new MalformedDataException(format, OffsetOf(data.Span, ex.LineNumber, ex.LinePosition),
                $"not well-formed XML at line {ex.LineNumber}, column {ex.LinePosition}: {FirstSentence(ex.Message)}", ex);
        }
    }

    /// <summary>Reads a whole file read-only (others may keep writing it), refusing files over the size limit.</summary>
    public static byte[] ReadFile(string path, string format)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > MaxDocumentBytes)
            throw new MalformedDataException(format, MaxDocumentBytes,
                $"file is {stream.Length} bytes, over the {MaxDocumentBytes} byte limit");
        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>1-based line number of an XML node, or 0 when unknown.</summary>
    public static int LineOf(XObject node) => node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;

    /// <summary>Attribute value by exact name (IIS attribute names are case-sensitive), or null.</summary>
    public static string? Attr(XElement? element, string name) => element?.Attribute(name)?.Value;

    private static Stream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>Byte offset of a (line, column) position, counting columns as bytes (exact for ASCII lines).</summary>
    private static long OffsetOf(ReadOnlySpan<byte> data, int line, int column)
    {
        if (line <= 0) return 0;
        var offset = 0;
        for (var current = 1; current < line; current++)
        {
            var next = data[offset..].IndexOf((byte)'\n');
            if (next < 0) return data.Length;
            offset += next + 1;
        }
        return Math.Min(data.Length, offset + Math.Max(0, column - 1));
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
