using System.Globalization;

namespace KeyDoctor.ErrorTableGen;

/// <summary>
/// Evaluates the integer constant expressions found in the bodies of winerror.h and ntstatus.h:
/// literals with U/L suffixes, casts such as <c>(HRESULT)</c>, the wrappers <c>_HRESULT_TYPEDEF_</c>,
/// <c>_NDIS_ERROR_TYPEDEF_</c>, <c>__MSABI_LONG</c>, the conversions <c>HRESULT_FROM_WIN32</c> and
/// <c>HRESULT_FROM_NT</c>, references to other macros, and <c>+ - | &amp; &lt;&lt; &gt;&gt; ~</c>.
/// Anything else is an error, so a new construct in a future header stops the generator instead of being skipped.
/// </summary>
internal sealed class ConstantExpression
{
    private static readonly HashSet<string> CastTypes = new(StringComparer.Ordinal)
    {
        "HRESULT", "NTSTATUS", "SCODE", "DWORD", "LONG", "ULONG", "long", "int", "unsigned", "__LONG32",
    };

    private readonly List<string> _tokens;
    private readonly Func<string, long> _resolve;
    private int _position;

    private ConstantExpression(List<string> tokens, Func<string, long> resolve)
    {
        _tokens = tokens;
        _resolve = resolve;
    }

    /// <summary>Evaluates <paramref name="body"/>; <paramref name="resolve"/> gives the value of another macro.</summary>
    public static long Evaluate(string body, Func<string, long> resolve)
    {
        var parser = new ConstantExpression(Tokenize(body), resolve);
        var value = parser.ParseOr();
        if (parser._position != parser._tokens.Count)
            throw new FormatException($"unexpected '{parser._tokens[parser._position]}' in '{body}'");
        return value;
    }

    private string? Peek(int ahead = 0) => _position + ahead < _tokens.Count ? _tokens[_position + ahead] : null;

    private string Next() => _position < _tokens.Count
        ? _tokens[_position++]
        : throw new FormatException("expression ends too early");

    private void Expect(string token)
    {
        var actual = Next();
        if (actual != token) throw new FormatException($"expected '{token}' but found '{actual}'");
    }

    private long ParseOr()
    {
        var value = ParseAnd();
        while (Peek() == "|") { Next(); value |= ParseAnd(); }
        return value;
    }

    private long ParseAnd()
    {
        var value = ParseShift();
        while (Peek() == "&") { Next(); value &= ParseShift(); }
        return value;
    }

    private long ParseShift()
    {
        var value = ParseAdditive();
        while (Peek() is "<<" or ">>")
        {
            var op = Next();
            var amount = (int)ParseAdditive();
            if (amount is < 0 or > 32) throw new FormatException($"shift by {amount}");
            value = op == "<<" ? value << amount : value >> amount;
        }
        return value;
    }

    private long ParseAdditive()
    {
        var value = ParseUnary();
        while (Peek() is "+" or "-")
            value = Next() == "+" ? value + ParseUnary() : value - ParseUnary();
        return value;
    }

    private long ParseUnary()
    {
        switch (Peek())
        {
            case "-": Next(); return -ParseUnary();
            case "~": Next(); return ~ParseUnary() & 0xFFFFFFFFL;
            case "(" when IsCast(): return ParseCast();
            default: return ParsePrimary();
        }
    }

    private bool IsCast()
    {
        // "(HRESULT)" or "(unsigned __LONG32)": one or more type words, then ")".
        var i = 1;
        while (Peek(i) is { } word && CastTypes.Contains(word)) i++;
        return i > 1 && Peek(i) == ")";
    }

    private long ParseCast()
    {
        Expect("(");
        var types = new List<string>();
        while (Peek() != ")") types.Add(Next());
        Expect(")");
        var value = ParseUnary();
        // Every cast in these headers is to a 32-bit type; unsigned ones keep the bit pattern.
        return types.Contains("unsigned") || types.Contains("DWORD") || types.Contains("ULONG")
            ? value & 0xFFFFFFFFL
            : (int)value;
    }

    private long ParsePrimary()
    {
        var token = Next();
        if (token == "(")
        {
            var inner = ParseOr();
            Expect(")");
            return inner;
        }
        if (char.IsAsciiDigit(token[0])) return ParseNumber(token);
        if (!IsIdentifier(token)) throw new FormatException($"unexpected '{token}'");
        if (Peek() != "(") return _resolve(token);

        Next();
        var argument = ParseOr();
        Expect(")");
        return token switch
        {
            "_HRESULT_TYPEDEF_" or "_NDIS_ERROR_TYPEDEF_" or "__MSABI_LONG" => argument,
            // winerror.h: (HRESULT)(x) <= 0 ? (HRESULT)(x) : (HRESULT)(((x) & 0x0000FFFF) | (FACILITY_WIN32 << 16) | 0x80000000)
            "HRESULT_FROM_WIN32" or "__HRESULT_FROM_WIN32" => (int)argument <= 0 ? argument : (argument & 0xFFFF) | 0x80070000L,
            // winerror.h: ((HRESULT) ((x) | FACILITY_NT_BIT)) with FACILITY_NT_BIT 0x10000000
            "HRESULT_FROM_NT" => argument | 0x10000000L,
            _ => throw new FormatException($"unknown macro function {token}"),
        };
    }

    private static long ParseNumber(string token)
    {
        var digits = token.TrimEnd('u', 'U', 'l', 'L');
        var isHex = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        var ok = isHex
            ? long.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok || value > 0xFFFFFFFFL) throw new FormatException($"bad number '{token}'");
        return value;
    }

    private static bool IsIdentifier(string token) => char.IsAsciiLetter(token[0]) || token[0] == '_';

    private static List<string> Tokenize(string body)
    {
        var tokens = new List<string>();
        for (var i = 0; i < body.Length;)
        {
            var c = body[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                while (i < body.Length && (char.IsAsciiLetterOrDigit(body[i]) || body[i] == '_')) i++;
            }
            else if ((c == '<' || c == '>') && i + 1 < body.Length && body[i + 1] == c)
            {
                i += 2;
            }
            else if ("()+-|&~".Contains(c))
            {
                i++;
            }
            else
            {
                throw new FormatException($"unexpected character '{c}' in '{body}'");
            }
            tokens.Add(body[start..i]);
        }
        return tokens;
    }
}
