using System.Buffers;
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

    public override void Write(Utf8JsonWriter writer, RegistryValue value, JsonSerializerOptions options) => WriteData(writer, value, null);

    /// <summary>
    /// Writes the data; text goes through <paramref name="strings"/> when given (it must match the writer's encoder),
    /// else through the writer.
    /// </summary>
    internal static void WriteData(Utf8JsonWriter writer, RegistryValue value, JsonStrings? strings)
    {
        var data = value.Data.Span;
        if (value.IsStringType && BitConverter.IsLittleEndian)
        {
            // UTF-16LE up to the first NUL, straight from the hive's bytes: no string per value.
            var chars = MemoryMarshal.Cast<byte, char>(data[..(data.Length & ~1)]);
            var nul = chars.IndexOf('\0');
            if (nul >= 0) chars = chars[..nul];
            if (strings is null) writer.WriteStringValue(chars);
            else strings.WriteValue(writer, chars);
        }
        else if (value.AsMultiString() is { } list)
        {
            writer.WriteStartArray();
            foreach (var item in list)
            {
                if (strings is null) writer.WriteStringValue(item);
                else strings.WriteValue(writer, item);
            }
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
        // Straight to quoted UTF-8 (hex digits never need escaping): no UTF-16 text for the writer to transcode.
        var length = (bytes.Length * 2) + 2;
        var rented = length > 64 * 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
        var quoted = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        quoted[0] = (byte)'"';
        Convert.TryToHexStringLower(bytes, quoted[1..^1], out _);
        quoted[^1] = (byte)'"';
        writer.WriteRawValue(quoted, skipInputValidation: true);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }
}

/// <summary>
/// Writes <see cref="RegistryValueLine"/>'s shape straight from a key's values (a hive has tens of thousands), with
/// <see cref="JsonOutput.Compact"/>'s escaping: property names encoded once, the key's path once per key, text through
/// <see cref="JsonStrings"/>. A test compares it with the serializer byte for byte.
/// </summary>
public static class RegistryValueLineWriter
{
    public static readonly JsonWriterOptions Options = JsonOutput.Compact with { SkipValidation = true };

    private static readonly JsonEncodedText PKey = JsonEncodedText.Encode("key");
    private static readonly JsonEncodedText PName = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText PType = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText PData = JsonEncodedText.Encode("data");

    /// <summary>One line per value of a key, each followed by a line feed.</summary>
    public static void WriteKey(Utf8JsonWriter writer, IBufferWriter<byte> output, string path, IReadOnlyList<RegistryValue> values)
    {
        if (values.Count == 0) return;
        var strings = JsonStrings.Relaxed;
        var encodedPath = strings.TryEncode(path);
        foreach (var value in values)
        {
            writer.WriteStartObject();
            writer.WritePropertyName(PKey);
            if (encodedPath is null) writer.WriteStringValue(path);
            else writer.WriteRawValue(encodedPath, skipInputValidation: true);
            strings.Write(writer, PName, value.Name);
            strings.Write(writer, PType, value.Type.ToRegName());
            writer.WritePropertyName(PData);
            RegistryDataConverter.WriteData(writer, value, strings);
            writer.WriteEndObject();
            writer.Flush();
            writer.Reset();
            output.Write("\n"u8);
        }
    }
}
