using System.Text;

namespace KeyDoctor.Formats.Iis;

/// <summary>One exact text replacement: <see cref="Expected"/> occurrences of <see cref="Old"/> (0: at least one).</summary>
public sealed record TextReplacement(string Old, string New, int Expected = 0);

/// <summary>
/// Replaces ASCII tokens (hex or base64 blobs) in a configuration file and leaves every other byte as it was:
/// a BOM, line endings, indentation, comments and non-ASCII text survive, which a re-serialized XML tree would not keep.
/// </summary>
public static class ConfigTextEditor
{
    /// <summary>The edited bytes, or null with <paramref name="problem"/> when a token is not found as expected.</summary>
    public static byte[]? Replace(ReadOnlySpan<byte> file, IEnumerable<TextReplacement> replacements, out string? problem)
    {
        problem = null;
        // Latin-1 maps every byte to one char and back, so a UTF-8 (or ANSI) file round-trips byte for byte and ASCII
        // tokens are found exactly; a UTF-16 file (BOM) is edited as UTF-16.
        Encoding encoding = file.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ? new UnicodeEncoding(false, true)
            : file.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? new UnicodeEncoding(true, true)
            : Encoding.Latin1;
        var preamble = encoding is UnicodeEncoding ? 2 : 0;
        var text = encoding.GetString(file[preamble..]);
        foreach (var r in replacements)
        {
            var count = Count(text, r.Old);
            if (count == 0 || (r.Expected > 0 && count != r.Expected))
            {
                problem = count == 0
                    ? $"a value to replace is not written as one unbroken token in the file (starts {r.Old[..Math.Min(16, r.Old.Length)]}…)"
                    : $"a value to replace occurs {count} times, expected {r.Expected}";
                return null;
            }
            text = text.Replace(r.Old, r.New, StringComparison.Ordinal);
        }
        var body = encoding.GetBytes(text);
        if (preamble == 0) return body;
        var result = new byte[preamble + body.Length];
        file[..preamble].CopyTo(result);
        body.CopyTo(result, preamble);
        return result;
    }

    private static int Count(string text, string token)
    {
        var count = 0;
        for (var i = text.IndexOf(token, StringComparison.Ordinal); i >= 0; i = text.IndexOf(token, i + token.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
