using System.Globalization;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Writes keys and values as a REGEDIT5 export, the way regedit does ("string", dword:, hex(N): wrapped at about
/// 80 columns). Strings are written as text only when that reproduces their bytes exactly; anything else (no NUL
/// terminator, bytes after it, control characters) is written as hex(1)/hex(2) so a round trip is lossless.
/// </summary>
public static class RegExportWriter
{
    public const string Header = "Windows Registry Editor Version 5.00";

    /// <summary>
    /// Writes <paramref name="key"/> (and, when <paramref name="recursive"/>, every key below it) under the
    /// export path <paramref name="exportPath"/> (e.g. <c>HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Control\Lsa</c>).
    /// </summary>
    public static void Write(TextWriter writer, RegistryKey key, string exportPath, bool recursive = true, bool includeHeader = true)
    {
        if (includeHeader) writer.Write(Header + "\r\n\r\n");
        WriteKey(writer, key, exportPath.TrimEnd('\\'), recursive, depth: 0);
    }

    public static string ToText(RegistryKey key, string exportPath, bool recursive = true)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(writer, key, exportPath, recursive);
        return writer.ToString();
    }

    /// <summary>The bytes regedit would save: UTF-16LE with a byte-order mark.</summary>
    public static byte[] ToFileBytes(string text) => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)];

    private static void WriteKey(TextWriter writer, RegistryKey key, string path, bool recursive, int depth)
    {
        writer.Write('[');
        writer.Write(path);
        writer.Write("]\r\n");
        foreach (var value in key.Values) WriteValue(writer, value);
        writer.Write("\r\n");
        if (!recursive || depth >= RegistryKey.MaxDepth) return;
        foreach (var subkey in key.Subkeys) WriteKey(writer, subkey, path + "\\" + subkey.Name, recursive, depth + 1);
    }

    private static void WriteValue(TextWriter writer, RegistryValue value)
    {
        var prefix = value.Name.Length == 0 ? "@=" : "\"" + Escape(value.Name) + "\"=";
        writer.Write(prefix);
        var data = value.Data.Span;
        if (value.Type == RegistryValueType.String && IsPlainString(data, out var text))
        {
            writer.Write('"');
            writer.Write(Escape(text));
            writer.Write("\"\r\n");
            return;
        }
        if (value.Type == RegistryValueType.DWordLittleEndian && data.Length == 4)
        {
            writer.Write("dword:");
            writer.Write(BitConverter.ToUInt32(data).ToString("x8", CultureInfo.InvariantCulture));
            writer.Write("\r\n");
            return;
        }
        var typeText = value.Type == RegistryValueType.Binary ? "hex:" : $"hex({((uint)value.Type).ToString("x", CultureInfo.InvariantCulture)}):";
        writer.Write(typeText);
        var column = prefix.Length + typeText.Length;
        for (var i = 0; i < data.Length; i++)
        {
            var last = i == data.Length - 1;
            writer.Write(data[i].ToString("x2", CultureInfo.InvariantCulture));
            column += 2;
            if (last) break;
            writer.Write(',');
            column++;
            if (column > 76)
            {
                writer.Write("\\\r\n  ");
                column = 2;
            }
        }
        writer.Write("\r\n");
    }

    private static bool IsPlainString(ReadOnlySpan<byte> data, out string text)
    {
        text = RegistryValue.DecodeString(data);
        if (data.Length != (text.Length + 1) * 2) return false;
        foreach (var c in text)
            if (c < 0x20 || char.IsSurrogate(c)) return false;
        return true;
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
