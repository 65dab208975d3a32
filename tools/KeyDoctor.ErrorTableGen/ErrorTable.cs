using System.Globalization;
using System.Text;

namespace KeyDoctor.ErrorTableGen;

/// <summary>One name of an error code: its kind ("hresult", "win32", "ntstatus"), 32-bit value, and the name it aliases.</summary>
internal sealed record ErrorNameRow(string Name, string Kind, uint Value, string? AliasOf);

/// <summary>One facility name: kind "hresult" (winerror.h) or "ntstatus" (ntstatus.h), and its number.</summary>
internal sealed record FacilityRow(string Kind, uint Number, string Name);

/// <summary>
/// Turns the defines of winerror.h and ntstatus.h into KeyDoctor's two tables, ErrorNames.tsv and Facilities.tsv.
/// Every object-like define that evaluates to a number is a code, except facilities (their own table) and the
/// markers listed in <see cref="IsMarker"/> (include guards, severities, range bounds); anything that cannot be
/// evaluated stops the generator with the header and line.
/// </summary>
internal sealed class ErrorTable
{
    public const string ErrorNamesFile = "ErrorNames.tsv";
    public const string FacilitiesFile = "Facilities.tsv";
    public static readonly string[] Headers = ["winerror.h", "ntstatus.h"];

    private ErrorTable(List<ErrorNameRow> names, List<FacilityRow> facilities)
    {
        Names = names;
        Facilities = facilities;
    }

    public IReadOnlyList<ErrorNameRow> Names { get; }
    public IReadOnlyList<FacilityRow> Facilities { get; }

    public static ErrorTable FromHeaders(string includeDirectory)
    {
        var defines = Headers.SelectMany(h => HeaderDefines.Read(Path.Combine(includeDirectory, h))).ToList();
        var byName = new Dictionary<string, HeaderDefine>(StringComparer.Ordinal);
        foreach (var define in defines)
        {
            if (byName.TryAdd(define.Name, define)) continue;
            if (Normalize(byName[define.Name].Body) != Normalize(define.Body))
                throw new FormatException($"{define.Header}:{define.Line}: {define.Name} is defined twice with different values");
        }

        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        var resolving = new HashSet<string>(StringComparer.Ordinal);
        long Resolve(string name)
        {
            if (values.TryGetValue(name, out var known)) return known;
            if (!byName.TryGetValue(name, out var define)) throw new FormatException($"unknown name {name}");
            if (!resolving.Add(name)) throw new FormatException($"{name} refers to itself");
            var value = ConstantExpression.Evaluate(define.Body, Resolve);
            resolving.Remove(name);
            if (value is < int.MinValue or > uint.MaxValue) throw new FormatException($"{name} = {value} is not 32-bit");
            return values[name] = value;
        }

        var names = new List<ErrorNameRow>();
        var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
        var facilities = new List<FacilityRow>();
        foreach (var define in defines)
        {
            if (!ReferenceEquals(byName[define.Name], define)) continue; // a guarded repeat of the same value
            long value;
            try
            {
                value = Resolve(define.Name);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{define.Header}:{define.Line}: #define {define.Name} {define.Body}: {ex.Message}", ex);
            }
            var bits = unchecked((uint)value);
            var typed = TypedKind(define.Body);
            if (IsFacility(define.Name))
            {
                facilities.Add(new FacilityRow(define.Header == "ntstatus.h" ? "ntstatus" : "hresult", bits, define.Name));
                continue;
            }
            if (IsMarker(define.Name, typed is not null)) continue;

            var aliasOf = IsIdentifier(define.Body) ? define.Body : null;
            var kind = aliasOf is not null && kinds.TryGetValue(aliasOf, out var aliasKind) ? aliasKind
                : typed ?? (define.Header == "ntstatus.h" ? "ntstatus" : bits <= 0xFFFF ? "win32" : "hresult");
            if (aliasOf is not null && !kinds.ContainsKey(aliasOf))
                throw new FormatException($"{define.Header}:{define.Line}: {define.Name} aliases {aliasOf}, which is not a code defined before it");
            kinds[define.Name] = kind;
            names.Add(new ErrorNameRow(define.Name, kind, bits, aliasOf));
        }
        return new ErrorTable(names, facilities);
    }

    /// <summary>The kind a body states with a cast or wrapper, or null when it is a bare number or expression.</summary>
    private static string? TypedKind(string body)
    {
        if (body.Contains("NTSTATUS", StringComparison.Ordinal)) return "ntstatus";
        if (body.Contains("HRESULT", StringComparison.Ordinal) || body.Contains("SCODE", StringComparison.Ordinal)
            || body.Contains("_NDIS_ERROR_TYPEDEF_", StringComparison.Ordinal))
            return "hresult";
        return null;
    }

    private static bool IsFacility(string name) =>
        name.StartsWith("FACILITY_", StringComparison.Ordinal) && name != "FACILITY_NT_BIT";

    /// <summary>
    /// Defines that are numbers but not codes: header internals (leading underscore), FACILITY_NT_BIT, severity
    /// values, and range bounds (*_FIRST, *_LAST, *_BEGIN, *_END, and untyped *_BASE, *_MASK, WSABASEERR).
    /// Range bounds share their value with a real code and would otherwise pollute its names.
    /// </summary>
    internal static bool IsMarker(string name, bool typed) =>
        name.StartsWith('_')
        || name == "FACILITY_NT_BIT"
        || name.StartsWith("SEVERITY_", StringComparison.Ordinal)
        || name.StartsWith("STATUS_SEVERITY_", StringComparison.Ordinal)
        || name.EndsWith("_FIRST", StringComparison.Ordinal)
        || name.EndsWith("_LAST", StringComparison.Ordinal)
        || name.EndsWith("_BEGIN", StringComparison.Ordinal)
        || name.EndsWith("_END", StringComparison.Ordinal)
        || (!typed && (name.EndsWith("_BASE", StringComparison.Ordinal) || name.EndsWith("_MASK", StringComparison.Ordinal)
                       || name.EndsWith("BASEERR", StringComparison.Ordinal)));

    private static bool IsIdentifier(string body) =>
        body.Length > 0 && (char.IsAsciiLetter(body[0]) || body[0] == '_') && body.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string Normalize(string body) => string.Concat(body.Where(c => !char.IsWhiteSpace(c)));

    public string ErrorNamesText()
    {
        var text = new StringBuilder();
        text.Append("# KeyDoctor error-code names. GENERATED by tools/KeyDoctor.ErrorTableGen from mingw-w64 winerror.h and\n");
        text.Append("# ntstatus.h (public domain, Debian package mingw-w64-common); do not edit, regenerate.\n");
        text.Append("# kind: hresult, win32 (a Win32 error number) or ntstatus. Rows keep header order; aliasOf names the define it copies.\n");
        text.Append("# name\tkind\tvalue\taliasOf\n");
        foreach (var row in Names)
            text.Append(CultureInfo.InvariantCulture, $"{row.Name}\t{row.Kind}\t0x{row.Value:X8}\t{row.AliasOf}\n");
        return text.ToString();
    }

    public string FacilitiesText()
    {
        var text = new StringBuilder();
        text.Append("# KeyDoctor facility names. GENERATED by tools/KeyDoctor.ErrorTableGen from the FACILITY_* defines of\n");
        text.Append("# mingw-w64 winerror.h (kind hresult) and ntstatus.h (kind ntstatus); do not edit, regenerate.\n");
        text.Append("# kind\tnumber\tname\n");
        foreach (var row in Facilities)
            text.Append(CultureInfo.InvariantCulture, $"{row.Kind}\t{row.Number}\t{row.Name}\n");
        return text.ToString();
    }
}
