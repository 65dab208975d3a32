using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>A code found in input: the text as first written, where it starts, how it is read, and every way it was written.</summary>
public sealed record FoundCode(string Text, int Index, ErrorCode Code, IReadOnlyList<string> Forms);

/// <summary>
/// Finds Windows error codes in what administrators paste: a lone code in any usual notation, or whole event
/// messages. In free text a number counts only when it cannot be something else:
/// <list type="bullet">
/// <item>hex (0x… or 8 bare hex digits with a letter) and decimals (unsigned or signed) with the top bit set:
/// the HRESULT/NTSTATUS error range, which years, times, record numbers and process ids never reach;</item>
/// <item>smaller numbers only right after an error word ("Error: 1312", "error code 0x520", "status 5",
/// "HResult=", "%%1312"), so "Event ID 7024" or "internal error state is 10001" are not codes;</item>
/// <item>nothing inside a longer token (GUIDs, file names, versions, IP addresses, times).</item>
/// </list>
/// The same failure written twice (2148073478 and 0x80090006, 1312 and 0x80070520) is reported once. A system
/// message text ("Keyset does not exist", see <see cref="SystemMessageTexts"/>) counts as its code.
/// </summary>
public static partial class ErrorCodeScanner
{
    /// <summary>The most characters of text scanned; pasted event messages are far smaller.</summary>
    public const int MaxTextLength = 1 << 20;

    /// <summary>Finds every code in <paramref name="text"/>, in order of first appearance, each failure once.</summary>
    public static IReadOnlyList<FoundCode> Scan(string text, ErrorNameTable names)
    {
        if (text.Length > MaxTextLength)
            throw new ArgumentException($"text longer than {MaxTextLength} characters", nameof(text));
        var found = new List<FoundCode>();
        var forms = new Dictionary<(bool, uint), List<string>>();
        foreach (Match match in Candidate().Matches(text))
        {
            if (Read(match, text, names) is not { } code) continue;
            if (forms.TryGetValue(code.Identity, out var written))
            {
                if (!written.Contains(match.Value)) written.Add(match.Value);
                continue;
            }
            forms[code.Identity] = written = [match.Value];
            found.Add(new FoundCode(match.Value, match.Index, code, written));
        }
        // Since Vista Event Viewer shows the system's text instead of the number: find the code from the text too.
        foreach (var (index, length, bits) in SystemMessageTexts.Find(text).OrderBy(m => m.Index))
        {
            var code = Classify(bits, names);
            var written = text.Substring(index, length);
            if (forms.TryGetValue(code.Identity, out var seen))
            {
                if (!seen.Contains(written)) seen.Add(written);
                continue;
            }
            forms[code.Identity] = seen = [written];
            found.Add(new FoundCode(written, index, code, seen));
        }
        return found.OrderBy(f => f.Index).ToList();
    }

    /// <summary>
    /// Reads one whole argument as a single code: <c>0x80090016</c>, <c>80090016</c> (8 digits are hex),
    /// <c>2148073478</c>, <c>-2146893802</c>, <c>1312</c>, <c>%%1312</c>, <c>0x80090016L</c>, or a symbolic name
    /// such as <c>NTE_BAD_KEYSET</c>. Returns false with <paramref name="problem"/> set when the argument looks like
    /// a number but is not a 32-bit code; false with a null problem when it is not a code at all (text).
    /// </summary>
    public static bool TryParseStandalone(string argument, ErrorNameTable names, out ErrorCode code, out string? problem)
    {
        code = default;
        problem = null;
        var token = argument.Trim().Trim('(', ')', '[', ']', '"', '\'', ',', '.', ';');
        if (token.StartsWith("%%", StringComparison.Ordinal)) token = token[2..];
        if (token.Length == 0) return false;

        if (names.Find(token) is { } named)
        {
            code = named.Kind switch
            {
                ErrorCodeKind.Win32 => ErrorCode.FromWin32(named.Value),
                ErrorCodeKind.NtStatus => ErrorCode.FromNtStatus(named.Value),
                _ => ErrorCode.FromHresult(named.Value),
            };
            return true;
        }
        if (!LooksNumeric().IsMatch(token)) return false;

        var digits = token.TrimEnd('l', 'L', 'u', 'U');
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var hex = digits[2..];
            if (hex.Length == 0 || !hex.All(char.IsAsciiHexDigit)) { problem = $"'{argument}' is not a hex number"; return false; }
            if (hex.TrimStart('0').Length > 8) { problem = $"'{argument}' has more than 32 bits"; return false; }
            code = Classify(uint.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), names);
            return true;
        }
        if (digits.Length == 8 && digits.All(char.IsAsciiHexDigit))
        {
            // Eight digits are how Windows prints an HRESULT without 0x (80090016); as a decimal they mean nothing.
            code = Classify(uint.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), names);
            return true;
        }
        if (digits.TrimStart('-', '+').All(char.IsAsciiDigit) && digits.TrimStart('-', '+').Length > 0)
        {
            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                || number is < int.MinValue or > uint.MaxValue)
            {
                problem = $"'{argument}' is outside the 32-bit range of error codes";
                return false;
            }
            code = Classify(unchecked((uint)number), names);
            return true;
        }
        problem = $"'{argument}' is not an error code (hex needs 0x or exactly 8 digits)";
        return false;
    }

    private static ErrorCode Classify(uint value, ErrorNameTable names) => ErrorCode.Interpret(value, names);

    private static ErrorCode? Read(Match match, string text, ErrorNameTable names)
    {
        // Only numbers below the error range need an error word before them; most candidates never ask.
        bool AfterErrorWord() => ErrorWordBefore().IsMatch(text.AsSpan(Math.Max(0, match.Index - 48), Math.Min(48, match.Index)));
        uint value;
        if (match.Groups["insert"].Success)
        {
            // "%%1312": an event's insertion of a Win32 message, always a code.
            if (!long.TryParse(match.Groups["insert"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                || n is < int.MinValue or > uint.MaxValue) return null;
            return Classify(unchecked((uint)n), names);
        }
        if (match.Groups["hex"].Success)
        {
            var hex = match.Groups["hex"].Value;
            if (hex.TrimStart('0').Length > 8) return null;
            value = uint.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }
        else if (match.Groups["bare"].Success)
        {
            var bare = match.Groups["bare"].Value;
            // Eight plain digits are more often a size or a count than a hex code: take them only after an error word.
            if (bare.All(char.IsAsciiDigit) && !AfterErrorWord()) return null;
            value = uint.Parse(bare, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (value < 0x8000_0000) return null;
        }
        else
        {
            var dec = match.Groups["dec"].Value;
            if (dec.Length > 11 || !long.TryParse(dec, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                || n is < int.MinValue or > uint.MaxValue) return null;
            value = unchecked((uint)n);
            if (n < 0 && value >= 0xFFFF_0000 && !AfterErrorWord()) return null; // -1, -5: not an HRESULT in running text
        }

        if (value == 0) return null; // success is not something to explain in a pasted message
        if (value < 0x8000_0000 && !AfterErrorWord()) return null;
        return Classify(value, names);
    }

    // One pass finds every candidate; Read decides. Boundaries keep numbers inside longer tokens out:
    // GUIDs and file names (letters, digits, '_', '-'), versions and IPs ('.'), times (':'), paths ('\', '/').
    [GeneratedRegex(@"%%(?<insert>-?\d{1,10})(?!\d)" +
                    @"|(?<![\w.\\/])0[xX](?<hex>[0-9A-Fa-f]{1,16})[lLuU]?(?![\w:\-\\/]|\.\w)" +
                    @"|(?<![\w\-.:\\/])(?<bare>[0-9A-Fa-f]{8})(?![\w\-:\\/]|\.\w)" +
                    @"|(?<![\w\-.:\\/])(?<dec>-?\d{1,11})(?![\w\-:\\/]|[.,]\d)",
        RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 2000)]
    private static partial Regex Candidate();

    // The words that make a small number an error code when they end right before it.
    [GeneratedRegex(@"(?:\berror|\bstatus|\bresult|\bhresult|\bwin32|\bgetlasterror\(\)|\breturn(?:ed)?|\bexit)" +
                    @"(?:\s+(?:code|value|number|status))?\s*(?:is|was|of|=|:|\()?\s*$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, matchTimeoutMilliseconds: 2000)]
    private static partial Regex ErrorWordBefore();

    [GeneratedRegex(@"^(?:[-+]?\d|0[xX])[0-9A-Za-z]*$|^[0-9A-Fa-f]{8}[lLuU]?$", RegexOptions.CultureInvariant)]
    private static partial Regex LooksNumeric();
}
