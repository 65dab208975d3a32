using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>Metabase data types (MS-IMSA 2.2.7 METADATA_RECORD dwMDDataType).</summary>
public enum MetabaseDataType
{
    Dword = 1,
    String = 2,
    Binary = 3,
    ExpandSz = 4,
    MultiSz = 5,
}

/// <summary>Turns the clear text of a secure property into text, by the property's metabase data type.</summary>
public static class MetabaseValue
{
    /// <summary>Binary secure properties by name (AdminACL is a self-relative security descriptor); the rest are passwords.</summary>
    private static readonly HashSet<string> BinaryNames = new(StringComparer.OrdinalIgnoreCase) { "AdminACL", "AdminACLBin" };

    /// <summary>
    /// The data type: the Custom element's Type when there is one, the schema type for the known secure properties
    /// (TechNet "Encrypted Properties"), else STRING when the bytes look like NUL-terminated UTF-16, else BINARY.
    /// </summary>
    public static MetabaseDataType TypeOf(string name, string? customType, ReadOnlySpan<byte> clearText)
    {
        if (customType is not null && Parse(customType) is { } declared) return declared;
        if (BinaryNames.Contains(name)) return MetabaseDataType.Binary;
        if (MetabaseXml.SecurePropertyNames.ContainsKey(name)) return MetabaseDataType.String;
        return clearText.Length >= 2 && clearText.Length % 2 == 0 && clearText[^1] == 0 && clearText[^2] == 0
            ? MetabaseDataType.String : MetabaseDataType.Binary;
    }

    public static MetabaseDataType? Parse(string type) => type.Trim().ToUpperInvariant() switch
    {
        "DWORD" => MetabaseDataType.Dword,
        "STRING" => MetabaseDataType.String,
        "BINARY" => MetabaseDataType.Binary,
        "EXPANDSZ" => MetabaseDataType.ExpandSz,
        "MULTISZ" => MetabaseDataType.MultiSz,
        _ => null,
    };

    public static string Name(MetabaseDataType type) => type.ToString().ToUpperInvariant();

    /// <summary>
    /// Decodes a value: strings are UTF-16LE up to their NUL (MS-IMSA: the length includes it), MULTISZ entries
    /// end at the double NUL and are joined with a line feed, DWORD is decimal, BINARY lower-case hex.
    /// A value that does not fit its type is still shown, with <paramref name="problem"/> saying why.
    /// </summary>
    public static string Decode(MetabaseDataType type, ReadOnlySpan<byte> clearText, out string? problem)
    {
        problem = null;
        switch (type)
        {
            case MetabaseDataType.Dword:
                if (clearText.Length == 4) return BinaryPrimitives.ReadUInt32LittleEndian(clearText).ToString(System.Globalization.CultureInfo.InvariantCulture);
                problem = $"a DWORD is 4 bytes, this value is {clearText.Length}";
                return Convert.ToHexStringLower(clearText);
            case MetabaseDataType.String or MetabaseDataType.ExpandSz:
            {
                if (clearText.Length % 2 != 0) problem = "odd number of bytes for UTF-16";
                var end = NulAt(clearText, 0);
                if (end < 0) { problem ??= "no terminating NUL"; end = clearText.Length & ~1; }
                return Encoding.Unicode.GetString(clearText[..end]);
            }
            case MetabaseDataType.MultiSz:
            {
                if (clearText.Length % 2 != 0) problem = "odd number of bytes for UTF-16";
                var entries = new List<string>();
                var start = 0;
                while (start + 1 < clearText.Length)
                {
                    var end = NulAt(clearText, start);
                    if (end < 0) { problem ??= "no terminating double NUL"; entries.Add(Encoding.Unicode.GetString(clearText[start..(clearText.Length & ~1)])); break; }
                    if (end == start) break; // the empty entry is the list terminator
                    entries.Add(Encoding.Unicode.GetString(clearText[start..end]));
                    start = end + 2;
                }
                return string.Join("\n", entries);
            }
            default:
                return Convert.ToHexStringLower(clearText);
        }
    }

    /// <summary>Byte offset of the first UTF-16 NUL at or after <paramref name="start"/> (even offsets), or -1.</summary>
    private static int NulAt(ReadOnlySpan<byte> text, int start)
    {
        for (var i = start; i + 1 < text.Length; i += 2)
            if (text[i] == 0 && text[i + 1] == 0) return i;
        return -1;
    }
}
