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

/// <summary>
/// Writes a value's decoded data (see <see cref="RegistryValueLine"/>); decoding happens here, once. The reference
/// form: <see cref="RegistryValueLineWriter"/> writes the same bytes faster.
/// </summary>
public sealed class RegistryDataConverter : JsonConverter<RegistryValue>
{
    public override RegistryValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("registry values are written, not read");

    public override void Write(Utf8JsonWriter writer, RegistryValue value, JsonSerializerOptions options)
    {
        if (value.AsString() is { } text) writer.WriteStringValue(text);
        else if (value.AsMultiString() is { } list)
        {
            writer.WriteStartArray();
            foreach (var item in list) writer.WriteStringValue(item);
            writer.WriteEndArray();
        }
        else if (value.AsNumber() is { } number) writer.WriteNumberValue(number);
        else writer.WriteStringValue(Convert.ToHexStringLower(value.Data.Span));
    }
}

/// <summary>
/// Writes <see cref="RegistryValueLine"/>'s shape as raw UTF-8, one line per value, with <see cref="JsonOutput.Compact"/>'s
/// escaping: for a hive, straight from the key and value cells (no string or object per key or value; a key's path is
/// built from its parent's, which the walk order has just written). Text the fast path does not take (non-ASCII) goes
/// through a <see cref="Utf8JsonWriter"/>. One per thread. A test compares it with the serializer byte for byte.
/// </summary>
public sealed class RegistryValueLineWriter
{
    private static readonly byte[][] TypeNames = [.. Enumerable.Range(0, 12).Select(t => Quoted(((RegistryValueType)t).ToRegName()))];

    private readonly JsonStrings _strings = JsonStrings.Relaxed;
    private readonly Utf8JsonWriter _writer = new(Stream.Null, JsonOutput.Compact with { SkipValidation = true });
    private readonly PooledBufferWriter _path = new(1024);
    private readonly List<(HiveKey Key, int End)> _pathChain = [];

    /// <summary>One line per value of <paramref name="key"/>, each followed by a line feed.</summary>
    public void WriteKey(PooledBufferWriter output, RegistryKey key)
    {
        if (key is HiveKey hiveKey)
        {
            var values = hiveKey.ValueViews;
            if (!values.MoveNext()) return;
            var path = EscapedPath(hiveKey);
            do
            {
                var value = values.Current;
                StartLine(output, path);
                output.Write("\""u8);
                AppendEscapedName(output, value.NameBytes, value.HasCompressedName);
                output.Write("\""u8);
                EndLine(output, value.Type, value.Data.Span);
            }
            while (values.MoveNext());
            return;
        }

        var list = key.Values;
        if (list.Count == 0) return;
        _pathChain.Clear();
        _path.Clear();
        if (!_strings.TryAppendEscaped(key.Path, _path)) AppendEscapedThroughWriter(_path, key.Path);
        foreach (var value in list)
        {
            StartLine(output, _path.WrittenSpan);
            WriteString(output, value.Name);
            EndLine(output, value.Type, value.Data.Span);
        }
    }

    private static void StartLine(PooledBufferWriter output, ReadOnlySpan<byte> escapedPath)
    {
        output.Write("{\"key\":\""u8);
        output.Write(escapedPath);
        output.Write("\",\"name\":"u8);
    }

    private void EndLine(PooledBufferWriter output, RegistryValueType type, ReadOnlySpan<byte> data)
    {
        output.Write(",\"type\":"u8);
        if ((uint)type < (uint)TypeNames.Length) output.Write(TypeNames[(int)type]);
        else WriteString(output, type.ToRegName());
        output.Write(",\"data\":"u8);
        WriteData(output, type, data);
        output.Write("}\n"u8);
    }

    /// <summary>A value's decoded data (see <see cref="RegistryValueLine"/>), as <see cref="RegistryDataConverter"/> writes it.</summary>
    private void WriteData(PooledBufferWriter output, RegistryValueType type, ReadOnlySpan<byte> data)
    {
        if (RegistryValue.IsString(type))
        {
            if (BitConverter.IsLittleEndian) WriteString(output, RegistryValue.StringChars(data));
            else WriteString(output, RegistryValue.DecodeString(data));
        }
        else if (type == RegistryValueType.MultiString)
        {
            output.Write("["u8);
            var first = true;
            foreach (var item in RegistryValue.DecodeMultiString(data))
            {
                if (!first) output.Write(","u8);
                first = false;
                WriteString(output, item);
            }
            output.Write("]"u8);
        }
        else if (RegistryValue.NumberOf(type, data) is { } number)
        {
            var span = output.GetSpan(20);
            number.TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            output.Advance(written);
        }
        else
        {
            // Hex digits never need escaping.
            var span = output.GetSpan((data.Length * 2) + 2);
            span[0] = (byte)'"';
            Convert.TryToHexStringLower(data, span[1..], out var digits);
            span[1 + digits] = (byte)'"';
            output.Advance(digits + 2);
        }
    }

    /// <summary>The key's path from the hive root, escaped, without quotes ("" for the root).</summary>
    private ReadOnlySpan<byte> EscapedPath(HiveKey key)
    {
        var end = PathEnd(key);
        return _path.WrittenSpan[..end];
    }

    /// <summary>
    /// Makes <see cref="_path"/> hold <paramref name="key"/>'s path and returns its length. Keys come in walk order, so
    /// the parent's path is usually the last one built: a key costs its own name only.
    /// </summary>
    private int PathEnd(HiveKey key)
    {
        for (var i = _pathChain.Count - 1; i >= 0; i--)
            if (ReferenceEquals(_pathChain[i].Key, key))
            {
                Truncate(i + 1);
                return _pathChain[i].End;
            }
        if (key.Parent is not { } parent)
        {
            _pathChain.Clear();
            _path.Clear();
            _pathChain.Add((key, 0));
            return 0;
        }
        var parentEnd = PathEnd(parent);
        if (parentEnd > 0) _path.Write("\\\\"u8);
        AppendEscapedName(_path, key.RawName(out var compressed), compressed);
        _pathChain.Add((key, _path.WrittenCount));
        return _path.WrittenCount;
    }

    private void Truncate(int levels)
    {
        _pathChain.RemoveRange(levels, _pathChain.Count - levels);
        _path.Truncate(_pathChain[^1].End);
    }

    private void WriteString(PooledBufferWriter output, ReadOnlySpan<char> text)
    {
        if (_strings.TryAppendEscapedQuoted(text, output)) return;
        _writer.Reset(output);
        _writer.WriteStringValue(text);
        _writer.Flush();
    }

    /// <summary>
    /// A stored key or value name, escaped, without quotes: one Latin-1 byte per character when compressed (ASCII is
    /// written as it is), else UTF-16LE; anything the fast path does not take is decoded and escaped by the writer.
    /// </summary>
    private void AppendEscapedName(PooledBufferWriter target, ReadOnlySpan<byte> stored, bool compressed)
    {
        var done = compressed
            ? _strings.TryAppendEscaped(stored, target)
            : BitConverter.IsLittleEndian && _strings.TryAppendEscaped(MemoryMarshal.Cast<byte, char>(stored[..(stored.Length & ~1)]), target);
        if (!done) AppendEscapedThroughWriter(target, HiveKey.DecodeName(stored, compressed));
    }

    /// <summary>The writer's escaping of non-ASCII text, without its quotes.</summary>
    private void AppendEscapedThroughWriter(PooledBufferWriter target, ReadOnlySpan<char> text)
    {
        var start = target.WrittenCount;
        WriteString(target, text);
        var inner = target.WrittenSpan[(start + 1)..^1].ToArray();
        target.Truncate(start);
        target.Write(inner);
    }

    private static byte[] Quoted(string text)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonOutput.Compact)) writer.WriteStringValue(text);
        return buffer.WrittenSpan.ToArray();
    }
}
