using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace KeyDoctor.Cli;

/// <summary>
/// Writes JSON string values the way a <see cref="Utf8JsonWriter"/> with one encoder writes them, byte for byte, but
/// without its per-character escaping path for the text JSON Lines are made of: ASCII with a few characters to
/// escape (the backslashes of Windows paths and registry keys). How each ASCII character comes out is asked of the
/// writer itself once, so this cannot drift from it; anything else (non-ASCII, very long text) goes to the writer.
/// </summary>
public sealed class JsonStrings
{
    private const int MaxFastLength = 16 * 1024;

    private static readonly Lazy<JsonStrings> RelaxedLazy = new(() => new JsonStrings(JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
    private static readonly Lazy<JsonStrings> DefaultLazy = new(() => new JsonStrings(null));

    [ThreadStatic] private static byte[]? _scratch;

    private readonly byte[]?[] _escapes = new byte[128][];
    private readonly SearchValues<char> _special;
    private readonly SearchValues<byte> _specialBytes;

    private JsonStrings(JavaScriptEncoder? encoder)
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        var special = new StringBuilder();
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = encoder });
        Span<char> one = stackalloc char[1];
        for (var c = 0; c < 128; c++)
        {
            buffer.ResetWrittenCount();
            writer.Reset();
            one[0] = (char)c;
            writer.WriteStringValue(one);
            writer.Flush();
            var written = buffer.WrittenSpan[1..^1]; // without the quotes
            if (written.Length == 1 && written[0] == c) continue;
            _escapes[c] = written.ToArray();
            special.Append((char)c);
        }
        _special = SearchValues.Create(special.ToString());
        _specialBytes = SearchValues.Create(Encoding.ASCII.GetBytes(special.ToString()));
    }

    /// <summary>The escaping of <see cref="JsonOutput.Compact"/> and <see cref="JsonOutput.Indented"/> (relaxed).</summary>
    public static JsonStrings Relaxed => RelaxedLazy.Value;

    /// <summary>The escaping of a writer with no encoder set (System.Text.Json's default).</summary>
    public static JsonStrings Default => DefaultLazy.Value;

    /// <summary>Writes <paramref name="text"/> as a string value (after a property name, or as an array item).</summary>
    public void WriteValue(Utf8JsonWriter writer, ReadOnlySpan<char> text)
    {
        if (text.Length <= MaxFastLength)
        {
            var scratch = Scratch((text.Length * 6) + 2);
            var length = Encode(text, scratch);
            if (length >= 0)
            {
                writer.WriteRawValue(scratch.AsSpan(0, length), skipInputValidation: true);
                return;
            }
        }
        writer.WriteStringValue(text);
    }

    /// <summary>Writes a property with a string value.</summary>
    public void Write(Utf8JsonWriter writer, JsonEncodedText name, ReadOnlySpan<char> value)
    {
        writer.WritePropertyName(name);
        WriteValue(writer, value);
    }

    /// <summary>
    /// The quoted, escaped UTF-8 of ASCII <paramref name="text"/> (for text written many times, such as a registry key's
    /// path on each of its values), or null when the writer must escape it (non-ASCII or very long).
    /// </summary>
    public byte[]? TryEncode(ReadOnlySpan<char> text)
    {
        if (text.Length > MaxFastLength) return null;
        var scratch = Scratch((text.Length * 6) + 2);
        var length = Encode(text, scratch);
        return length < 0 ? null : scratch.AsSpan(0, length).ToArray();
    }

    /// <summary>
    /// Appends the escaped UTF-8 of ASCII <paramref name="text"/> without quotes; false, with nothing written, when the
    /// writer must escape it (non-ASCII or very long). Escaping goes character by character, so pieces escaped apart
    /// join into the escaping of the whole (a registry path from its key names).
    /// </summary>
    public bool TryAppendEscaped(ReadOnlySpan<char> text, PooledBufferWriter output)
    {
        if (text.Length > MaxFastLength) return false;
        var length = Escape(text, output.GetSpan(text.Length * 6));
        if (length < 0) return false;
        output.Advance(length);
        return true;
    }

    /// <summary>As <see cref="TryAppendEscaped(ReadOnlySpan{char}, PooledBufferWriter)"/>, in quotes: a whole string value.</summary>
    public bool TryAppendEscapedQuoted(ReadOnlySpan<char> text, PooledBufferWriter output)
    {
        if (text.Length > MaxFastLength) return false;
        var destination = output.GetSpan((text.Length * 6) + 2);
        var length = Escape(text, destination[1..]);
        if (length < 0) return false;
        destination[0] = (byte)'"';
        destination[length + 1] = (byte)'"';
        output.Advance(length + 2);
        return true;
    }

    /// <summary>As <see cref="TryAppendEscaped(ReadOnlySpan{char}, PooledBufferWriter)"/> for text held as ASCII bytes (false for any byte above 0x7F).</summary>
    public bool TryAppendEscaped(ReadOnlySpan<byte> ascii, PooledBufferWriter output)
    {
        if (ascii.Length > MaxFastLength || !Ascii.IsValid(ascii)) return false;
        output.Advance(Escape(ascii, output.GetSpan(ascii.Length * 6)));
        return true;
    }

    /// <summary>The escaped form of ASCII bytes in <paramref name="destination"/> (6 bytes per byte), and its length.</summary>
    private int Escape(ReadOnlySpan<byte> ascii, Span<byte> destination)
    {
        var at = 0;
        while (true)
        {
            var next = ascii.IndexOfAny(_specialBytes);
            var run = next < 0 ? ascii : ascii[..next];
            run.CopyTo(destination[at..]);
            at += run.Length;
            if (next < 0) return at;
            foreach (var b in _escapes[ascii[next]]!) destination[at++] = b;
            ascii = ascii[(next + 1)..];
        }
    }

    /// <summary>The quoted, escaped text in <paramref name="destination"/> and its length; -1 when it is not ASCII.</summary>
    private int Encode(ReadOnlySpan<char> text, byte[] destination)
    {
        var length = Escape(text, destination.AsSpan(1));
        if (length < 0) return -1;
        destination[0] = (byte)'"';
        destination[length + 1] = (byte)'"';
        return length + 2;
    }

    /// <summary>
    /// The escaped UTF-8 of <paramref name="text"/> (without quotes) in <paramref name="destination"/>, which holds 6
    /// bytes per character; -1 when the text is not ASCII.
    /// </summary>
    private int Escape(ReadOnlySpan<char> text, Span<byte> destination)
    {
        // Narrowing checks that the text is ASCII; most text then has nothing to escape, found in one search.
        if (Ascii.FromUtf16(text, destination, out _) != OperationStatus.Done) return -1;
        var first = destination[..text.Length].IndexOfAny(_specialBytes);
        if (first < 0) return text.Length;
        var at = first;
        text = text[first..];
        while (true)
        {
            var next = text.IndexOfAny(_special);
            var run = next < 0 ? text : text[..next];
            Ascii.FromUtf16(run, destination[at..], out var narrowed);
            at += narrowed;
            if (next < 0) break;
            // An escape is 2 or 6 bytes: copied here rather than by a call per escape (XML text has many).
            foreach (var b in _escapes[text[next]]!) destination[at++] = b;
            text = text[(next + 1)..];
        }
        return at;
    }

    private static byte[] Scratch(int size)
    {
        var scratch = _scratch;
        if (scratch is null || scratch.Length < size) _scratch = scratch = new byte[Math.Max(size, 4096)];
        return scratch;
    }
}
