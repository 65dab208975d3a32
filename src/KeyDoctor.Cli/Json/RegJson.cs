using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Cli.Json;

/// <summary>
/// `reg dump --json`: one JSON line per value. <see cref="Data"/> is decoded by type: strings as text, REG_MULTI_SZ as
/// an array of strings, REG_DWORD/REG_QWORD as numbers, everything else (binary, REG_NONE, resource lists) as
/// lower-case hex.
/// </summary>
/// <param name="Key">Path from the hive root, backslash-separated ("" for the root).</param>
/// <param name="Name">Value name ("" for the default value).</param>
/// <param name="Type">REG_SZ, REG_DWORD, ... as regedit names them.</param>
public sealed record RegistryValueLine(string Key, string Name, string Type,
    [property: JsonConverter(typeof(RegistryDataConverter))] RegistryValue Data);

/// <summary>Writes a value's decoded data (see <see cref="RegistryValueLine"/>); decoding happens here, once.</summary>
public sealed class RegistryDataConverter : JsonConverter<RegistryValue>
{
    public override RegistryValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("registry values are written, not read");

    public override void Write(Utf8JsonWriter writer, RegistryValue value, JsonSerializerOptions options)
    {
        var data = value.Data.Span;
        if (value.IsStringType && BitConverter.IsLittleEndian)
        {
            // UTF-16LE up to the first NUL, straight from the hive's bytes: no string per value.
            var chars = MemoryMarshal.Cast<byte, char>(data[..(data.Length & ~1)]);
            var nul = chars.IndexOf('\0');
            writer.WriteStringValue(nul >= 0 ? chars[..nul] : chars);
        }
        else if (value.AsMultiString() is { } list)
        {
            writer.WriteStartArray();
            foreach (var item in list) writer.WriteStringValue(item);
            writer.WriteEndArray();
        }
        else if (value.AsNumber() is { } number)
        {
            writer.WriteNumberValue(number);
        }
        else if (value.IsStringType)
        {
            writer.WriteStringValue(value.AsString());
        }
        else
        {
            WriteHex(writer, data);
        }
    }

    private static void WriteHex(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 32 * 1024)
        {
            writer.WriteStringValue(Convert.ToHexStringLower(bytes));
            return;
        }
        Span<char> hex = stackalloc char[bytes.Length * 2];
        Convert.TryToHexStringLower(bytes, hex, out var written);
        writer.WriteStringValue(hex[..written]);
    }
}
