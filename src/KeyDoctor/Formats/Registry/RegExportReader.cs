using System.Globalization;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Reads .reg exports: "Windows Registry Editor Version 5.00" (UTF-16LE with BOM, or UTF-8) and "REGEDIT4" (ANSI).
/// Values: "string", dword:, hex:, hex(N): with line continuations; "name"=- and [-key] deletions are recorded.
/// A line that cannot be understood is a problem with its line number, and reading goes on.
/// </summary>
public static class RegExportReader
{
    private const string Format = "reg";
    private const string Version5Header = "Windows Registry Editor Version 5.00";
    private const string Version4Header = "REGEDIT4";

    /// <summary>Largest export accepted (exports of a whole SOFTWARE hive are a few hundred MB).</summary>
    public const long MaxFileSize = ReaderLimits.RegExportMaxFileBytes;

    public static RegExportFile Read(string path) => MalformedDataException.FromFile(path, () => ReadCore(path));

    private static RegExportFile ReadCore(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > MaxFileSize)
            throw new MalformedDataException(Format, 0, $"{stream.Length} bytes is larger than any export ({MaxFileSize})");
        var data = new byte[stream.Length];
        stream.ReadExactly(data);
        return Parse(data, path);
    }

    /// <summary>True when <paramref name="data"/> starts like a .reg export (used to tell exports from hives).</summary>
    public static bool LooksLikeExport(ReadOnlySpan<byte> data)
    {
        var text = Decode(data[..Math.Min(data.Length, 200)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return text.StartsWith(Version5Header, StringComparison.Ordinal) || text.StartsWith(Version4Header, StringComparison.Ordinal);
    }

    public static RegExportFile Parse(ReadOnlySpan<byte> data, string source = "(memory)") => ParseText(Decode(data), source);

    public static RegExportFile ParseText(string text, string source = "(memory)")
    {
        var lines = text.TrimStart('\uFEFF').Split('\n');
        var index = 0;
        while (index < lines.Length && lines[index].Trim().Length == 0) index++;
        var header = index < lines.Length ? lines[index].Trim() : "";
        RegExportVersion version;
        if (header == Version5Header) version = RegExportVersion.Regedit5;
        else if (header == Version4Header) version = RegExportVersion.Regedit4;
        else throw new MalformedDataException(Format, 0, $"not a .reg export: first line is \"{Truncate(header)}\"");

        var root = new MemoryKey("", null);
        var problems = new List<RegistryProblem>();
        var deleted = new List<string>();
        MemoryKey? current = null;
        for (index++; index < lines.Length; index++)
        {
            var lineNumber = index + 1;
            var line = lines[index].TrimEnd('\r').TrimStart();
            if (line.Length == 0 || line[0] == ';') continue;
            if (line[0] == '[')
            {
                var close = line.LastIndexOf(']');
                if (close < 0) { problems.Add(RegistryProblem.AtLine(lineNumber, "key line has no closing ']'")); current = null; continue; }
                var path = line[1..close];
                if (path.StartsWith('-')) { deleted.Add(path[1..]); current = null; continue; }
                current = root;
                foreach (var part in ExpandRootName(path).Split('\\', StringSplitOptions.RemoveEmptyEntries)) current = current.GetOrAdd(part);
                if (current == root) { problems.Add(RegistryProblem.AtLine(lineNumber, "empty key path")); current = null; }
                continue;
            }
            // A value; hex data may continue on following lines after a trailing backslash.
            // Whether it is hex data is decided by the first line once: asking again per continuation line was
            // quadratic (a 130 KB export of one large binary value took 200 MB).
            var builder = new StringBuilder(line.TrimEnd());
            var hex = IsHexData(line);
            while (hex && builder.Length > 0 && builder[^1] == '\\' && index + 1 < lines.Length)
            {
                builder.Length--;
                index++;
                builder.Append(lines[index].TrimEnd('\r').Trim());
            }
            if (current is null)
            {
                problems.Add(RegistryProblem.AtLine(lineNumber, "value outside any key"));
                continue;
            }
            var error = ParseValue(builder.ToString(), version, current);
            if (error is not null) problems.Add(RegistryProblem.AtLine(lineNumber, error));
        }
        return new RegExportFile(source, version, root, problems, deleted);
    }

    /// <summary>Expands HKLM/HKCU/HKCR/HKU/HKCC at the start of a path to the names regedit writes.</summary>
    public static string ExpandRootName(string path)
    {
        var slash = path.IndexOf('\\');
        var first = slash < 0 ? path : path[..slash];
        var full = first.ToUpperInvariant() switch
        {
            "HKLM" => "HKEY_LOCAL_MACHINE",
            "HKCU" => "HKEY_CURRENT_USER",
            "HKCR" => "HKEY_CLASSES_ROOT",
            "HKU" => "HKEY_USERS",
            "HKCC" => "HKEY_CURRENT_CONFIG",
            _ => first,
        };
        return slash < 0 ? full : full + path[slash..];
    }

    private static bool IsHexData(string text)
    {
        // Only data written as hex continues; a string value ending in a backslash ends with a quote instead.
        var equals = ValueDataStart(text);
        return equals >= 0 && text.AsSpan(equals).TrimStart().StartsWith("hex", StringComparison.OrdinalIgnoreCase);
    }

    private static int ValueDataStart(string line)
    {
        if (line.StartsWith('@')) return line.IndexOf('=') + 1;
        if (!line.StartsWith('"')) return -1;
        var end = ClosingQuote(line, 1);
        if (end < 0) return -1;
        var equals = line.IndexOf('=', end);
        return equals < 0 ? -1 : equals + 1;
    }

    private static string? ParseValue(string line, RegExportVersion version, MemoryKey key)
    {
        string name;
        int rest;
        if (line.StartsWith('@'))
        {
            name = "";
            rest = 1;
        }
        else if (line.StartsWith('"'))
        {
            var end = ClosingQuote(line, 1);
            if (end < 0) return "value name has no closing quote";
            name = Unescape(line[1..end]);
            rest = end + 1;
        }
        else return $"cannot read line \"{Truncate(line)}\"";
        while (rest < line.Length && line[rest] == ' ') rest++;
        if (rest >= line.Length || line[rest] != '=') return "value has no '='";
        var data = line[(rest + 1)..].Trim();

        if (data == "-")
        {
            key.RemoveValue(name);
            return null;
        }
        if (data.StartsWith('"'))
        {
            var end = ClosingQuote(data, 1);
            if (end < 0) return "string value has no closing quote";
            key.SetValue(new RegistryValue(name, RegistryValueType.String, Utf16WithNul(Unescape(data[1..end]))));
            return null;
        }
        if (data.StartsWith("dword:", StringComparison.OrdinalIgnoreCase))
        {
            if (!uint.TryParse(data.AsSpan(6), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var number))
                return $"dword value \"{Truncate(data)}\" is not 8 hex digits";
            key.SetValue(new RegistryValue(name, RegistryValueType.DWordLittleEndian, BitConverter.GetBytes(number)));
            return null;
        }
        if (data.StartsWith("hex", StringComparison.OrdinalIgnoreCase))
        {
            var type = RegistryValueType.Binary;
            var colon = data.IndexOf(':');
            if (colon < 0) return "hex value has no ':'";
            var spec = data[3..colon];
            if (spec.Length > 0)
            {
                if (spec.Length < 3 || spec[0] != '(' || spec[^1] != ')'
                    || !uint.TryParse(spec.AsSpan(1, spec.Length - 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var typeNumber))
                    return $"hex type \"{Truncate(spec)}\" is not hex(N)";
                type = (RegistryValueType)typeNumber;
            }
            var bytes = ParseHexList(data[(colon + 1)..]);
            if (bytes is null) return "hex data is not a comma-separated list of bytes";
            // REGEDIT4 wrote strings as single-byte ANSI; hives and REGEDIT5 hold UTF-16.
            if (version == RegExportVersion.Regedit4 && type is RegistryValueType.String or RegistryValueType.ExpandString
                    or RegistryValueType.MultiString or RegistryValueType.Link)
                bytes = Encoding.Unicode.GetBytes(Ansi.GetString(bytes));
            key.SetValue(new RegistryValue(name, type, bytes));
            return null;
        }
        return $"unknown value data \"{Truncate(data)}\"";
    }

    private static byte[]? ParseHexList(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0) return [];
        var parts = trimmed.Split(',');
        var bytes = new byte[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            if (part.Length is 0 or > 2 || !byte.TryParse(part, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                return i == parts.Length - 1 && part.Length == 0 ? bytes[..i] : null;
        }
        return bytes;
    }

    private static int ClosingQuote(string text, int start)
    {
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '\\') { i++; continue; }
            if (text[i] == '"') return i;
        }
        return -1;
    }

    private static string Unescape(string text)
    {
        if (!text.Contains('\\')) return text;
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length) i++;
            builder.Append(text[i]);
        }
        return builder.ToString();
    }

    internal static byte[] Utf16WithNul(string text)
    {
        var bytes = new byte[(text.Length + 1) * 2];
        Encoding.Unicode.GetBytes(text, bytes);
        return bytes;
    }

    private static Encoding Ansi { get; } = CodePagesEncodingProvider.Instance.GetEncoding(1252) ?? Encoding.Latin1;

    private static string Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xFE) return Encoding.Unicode.GetString(data[2..]);
        if (data.Length >= 2 && data[0] == 0xFE && data[1] == 0xFF) return Encoding.BigEndianUnicode.GetString(data[2..]);
        if (data.Length >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) return Encoding.UTF8.GetString(data[3..]);
        // No BOM: UTF-16LE without BOM shows as zero high bytes; otherwise ANSI (REGEDIT4) or UTF-8.
        if (data.Length >= 4 && data[1] == 0 && data[3] == 0) return Encoding.Unicode.GetString(data);
        var utf8 = new UTF8Encoding(false, true);
        try { return utf8.GetString(data); }
        catch (DecoderFallbackException) { return Ansi.GetString(data); }
    }

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
