using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace KeyDoctor.Cli;

/// <summary>
/// The one JSON style of the tool: camelCase, enums as camelCase strings, nulls omitted (all set in
/// <see cref="Json.KeyDoctorJson"/>), written through source-generated type information (no reflection), with "\n"
/// line ends on every OS. Paths and messages carry backslashes and quotes: the relaxed encoder keeps them readable.
/// </summary>
public static class JsonOutput
{
    public static readonly JsonWriterOptions Indented = new()
    {
        Indented = true,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static readonly JsonWriterOptions Compact = new()
    {
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>One document as UTF-8, followed by a line end.</summary>
    public static byte[] ToUtf8<T>(T value, JsonTypeInfo<T> type, bool indented = true)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, indented ? Indented : Compact))
            JsonSerializer.Serialize(writer, value, type);
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One indented document as text (for files the tool writes beside its output).</summary>
    public static string ToText<T>(T value, JsonTypeInfo<T> type) => System.Text.Encoding.UTF8.GetString(ToUtf8(value, type));
}

/// <summary>
/// A Utf8JsonWriter over a small buffer, drained to stdout after whole items, so a million-row array or a long JSON
/// Lines stream goes out in 64 KiB pieces instead of being built in memory or written a line at a time.
/// </summary>
public sealed class JsonStream : IDisposable
{
    private const int FlushThreshold = 64 * 1024;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly CliContext _context;
    private readonly bool _lines;
    private bool _object;

    private JsonStream(CliContext context, bool lines)
    {
        _context = context;
        _lines = lines;
        Writer = new Utf8JsonWriter(_buffer, lines ? JsonOutput.Compact : JsonOutput.Indented);
    }

    /// <summary>One indented JSON array, item by item; <see cref="Dispose"/> closes it.</summary>
    public static JsonStream Array(CliContext context)
    {
        var stream = new JsonStream(context, lines: false);
        stream.Writer.WriteStartArray();
        return stream;
    }

    /// <summary>One indented JSON object whose properties the caller writes (a long array among them); <see cref="Dispose"/> closes it.</summary>
    public static JsonStream Object(CliContext context)
    {
        var stream = new JsonStream(context, lines: false) { _object = true };
        stream.Writer.WriteStartObject();
        return stream;
    }

    /// <summary>JSON Lines: one compact object per line.</summary>
    public static JsonStream Lines(CliContext context) => new(context, lines: true);

    public Utf8JsonWriter Writer { get; }

    public void Add<T>(T item, JsonTypeInfo<T> type)
    {
        JsonSerializer.Serialize(Writer, item, type);
        EndItem();
    }

    /// <summary>Items already formatted (JSON Lines with their line ends).</summary>
    public void AddRaw(ReadOnlySpan<byte> utf8)
    {
        Writer.Flush();
        if (utf8.Length >= FlushThreshold / 4)
        {
            // Big pieces go out as they are, after what is waiting: one copy fewer.
            Flush();
            _context.WriteUtf8(utf8);
            return;
        }
        _buffer.Write(utf8);
        if (_buffer.WrittenCount >= FlushThreshold) Flush();
    }

    /// <summary>After an item written directly on <see cref="Writer"/>.</summary>
    public void EndItem()
    {
        if (_lines)
        {
            Writer.Flush();
            Writer.Reset();
            _buffer.Write("\n"u8);
        }
        if (Writer.BytesPending + _buffer.WrittenCount >= FlushThreshold) Flush();
    }

    private void Flush()
    {
        Writer.Flush();
        if (_buffer.WrittenCount == 0) return;
        _context.WriteUtf8(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    public void Dispose()
    {
        if (!_lines)
        {
            if (_object) Writer.WriteEndObject();
            else Writer.WriteEndArray();
            Writer.Flush();
            _buffer.Write("\n"u8);
        }
        Flush();
        Writer.Dispose();
    }
}
