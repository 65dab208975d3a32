using System.Globalization;

namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>One symbolic name from winerror.h or ntstatus.h.</summary>
/// <param name="AliasOf">The define this one copies (<c>#define SEC_E_NO_SPM SEC_E_INTERNAL_ERROR</c>), or null.</param>
public sealed record ErrorName(string Name, ErrorCodeKind Kind, uint Value, string? AliasOf);

/// <summary>
/// Every error-code and facility name of winerror.h and ntstatus.h, loaded from the generated tables embedded
/// in the assembly (ErrorNames.tsv, Facilities.tsv; see docs/formats/error-codes.md). A value may have several
/// names: the canonical one comes first (the first non-alias define in header order), aliases last.
/// </summary>
public sealed class ErrorNameTable
{
    private static readonly Lazy<ErrorNameTable> EmbeddedLazy = new(() => new ErrorNameTable(
        ReadResource("KeyDoctor.ErrorNames.tsv"), ReadResource("KeyDoctor.Facilities.tsv")));

    private readonly Dictionary<(ErrorCodeKind, uint), List<ErrorName>> _byValue = [];
    private readonly Dictionary<string, ErrorName> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<(ErrorCodeKind, uint), List<string>> _facilities = [];

    /// <summary>The table generated from the headers and embedded in KeyDoctor.Core.</summary>
    public static ErrorNameTable Embedded => EmbeddedLazy.Value;

    internal ErrorNameTable(string errorNamesTsv, string facilitiesTsv)
    {
        var entries = new List<ErrorName>();
        foreach (var fields in Rows(errorNamesTsv, "ErrorNames.tsv", columns: 4))
        {
            var entry = new ErrorName(fields[0], ParseKind(fields[1]), ParseHex(fields[2]), fields[3].Length == 0 ? null : fields[3]);
            entries.Add(entry);
            _byName.TryAdd(entry.Name, entry);
            if (!_byValue.TryGetValue((entry.Kind, entry.Value), out var list))
                _byValue[(entry.Kind, entry.Value)] = list = [];
            list.Add(entry);
        }
        foreach (var list in _byValue.Values)
        {
            // Canonical first: real definitions in header order, then aliases (stable sort keeps header order).
            var ordered = list.OrderBy(e => e.AliasOf is null ? 0 : 1).ToList();
            list.Clear();
            list.AddRange(ordered);
        }
        Entries = entries;

        foreach (var fields in Rows(facilitiesTsv, "Facilities.tsv", columns: 3))
        {
            var key = (ParseKind(fields[0]), uint.Parse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture));
            if (!_facilities.TryGetValue(key, out var names)) _facilities[key] = names = [];
            names.Add(fields[2]);
        }
        FacilityCount = _facilities.Values.Sum(n => n.Count);
    }

    /// <summary>Every name, in header order (winerror.h, then ntstatus.h).</summary>
    public IReadOnlyList<ErrorName> Entries { get; }

    public int FacilityCount { get; }

    /// <summary>Names of <paramref name="value"/> in the numbering system <paramref name="kind"/>, canonical first.</summary>
    public IReadOnlyList<ErrorName> Lookup(ErrorCodeKind kind, uint value) =>
        _byValue.TryGetValue((kind, value), out var list) ? list : [];

    /// <summary>Finds a name such as <c>NTE_BAD_KEYSET</c> (case-insensitive).</summary>
    public ErrorName? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Facility names for an HRESULT or NTSTATUS facility number (several when the headers alias one).</summary>
    public IReadOnlyList<string> FacilityNames(ErrorCodeKind kind, uint facility) =>
        _facilities.TryGetValue((kind == ErrorCodeKind.NtStatus ? ErrorCodeKind.NtStatus : ErrorCodeKind.Hresult, facility), out var names)
            ? names
            : [];

    private static IEnumerable<string[]> Rows(string tsv, string file, int columns)
    {
        var lineNumber = 0;
        foreach (var line in tsv.Split('\n'))
        {
            lineNumber++;
            var text = line.TrimEnd('\r');
            if (text.Length == 0 || text[0] == '#') continue;
            var fields = text.Split('\t');
            if (fields.Length != columns)
                throw new InvalidDataException($"{file} line {lineNumber}: {fields.Length} columns, expected {columns}");
            yield return fields;
        }
    }

    private static ErrorCodeKind ParseKind(string kind) => kind switch
    {
        "hresult" => ErrorCodeKind.Hresult,
        "win32" => ErrorCodeKind.Win32,
        "ntstatus" => ErrorCodeKind.NtStatus,
        _ => throw new InvalidDataException($"unknown kind '{kind}'"),
    };

    private static uint ParseHex(string value) =>
        value.StartsWith("0x", StringComparison.Ordinal)
            ? uint.Parse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"bad value '{value}'");

    internal static string ReadResource(string name)
    {
        using var stream = typeof(ErrorNameTable).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"embedded resource {name} is missing from KeyDoctor.Core");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
