using System.Globalization;
using System.Text;

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
        ReadResourceBytes("KeyDoctor.ErrorNames.tsv"), ReadResourceBytes("KeyDoctor.Facilities.tsv")));

    // Built for `explain` of one code, which is often all a process does: one string per name and two arrays, parsed
    // straight from the UTF-8 bytes (splitting the 250 KB table into line and field strings cost 5 MB of heap, a
    // sixth of the process's memory).
    private readonly ErrorName[] _entries;
    private readonly ErrorName[] _byValue; // sorted by kind, value, canonical before alias, then header order
    private readonly Dictionary<string, ErrorName> _byName;
    private readonly Dictionary<(ErrorCodeKind, uint), List<string>> _facilities = [];

    /// <summary>The table generated from the headers and embedded in KeyDoctor.Core.</summary>
    public static ErrorNameTable Embedded => EmbeddedLazy.Value;

    internal ErrorNameTable(string errorNamesTsv, string facilitiesTsv)
        : this(Encoding.UTF8.GetBytes(errorNamesTsv), Encoding.UTF8.GetBytes(facilitiesTsv))
    {
    }

    internal ErrorNameTable(ReadOnlySpan<byte> errorNamesTsv, ReadOnlySpan<byte> facilitiesTsv)
    {
        var entries = new List<ErrorName>(errorNamesTsv.Count((byte)'\n') + 1);
        _byName = new Dictionary<string, ErrorName>(entries.Capacity, StringComparer.OrdinalIgnoreCase);
        foreach (var row in new TsvRows(errorNamesTsv, "ErrorNames.tsv", columns: 4))
        {
            var name = Encoding.UTF8.GetString(row[0]);
            var aliasOf = row[3].IsEmpty ? null : Encoding.UTF8.GetString(row[3]);
            var entry = new ErrorName(name, ParseKind(row[1], row.LineNumber), ParseHex(row[2], row.LineNumber), aliasOf);
            entries.Add(entry);
            _byName.TryAdd(entry.Name, entry);
        }
        _entries = entries.ToArray();

        // Canonical first: real definitions in header order, then aliases in header order.
        var order = new int[_entries.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            ErrorName x = _entries[a], y = _entries[b];
            var byKind = ((int)x.Kind).CompareTo((int)y.Kind); // as ints: Enum.CompareTo boxes both sides
            if (byKind != 0) return byKind;
            var byValue = x.Value.CompareTo(y.Value);
            if (byValue != 0) return byValue;
            var byAlias = (x.AliasOf is null ? 0 : 1).CompareTo(y.AliasOf is null ? 0 : 1);
            return byAlias != 0 ? byAlias : a.CompareTo(b);
        });
        _byValue = new ErrorName[order.Length];
        for (var i = 0; i < order.Length; i++) _byValue[i] = _entries[order[i]];

        foreach (var row in new TsvRows(facilitiesTsv, "Facilities.tsv", columns: 3))
        {
            var key = (ParseKind(row[0], row.LineNumber), uint.Parse(row[1], NumberStyles.None, CultureInfo.InvariantCulture));
            if (!_facilities.TryGetValue(key, out var names)) _facilities[key] = names = [];
            names.Add(Encoding.UTF8.GetString(row[2]));
        }
        FacilityCount = _facilities.Values.Sum(n => n.Count);
    }

    /// <summary>Every name, in header order (winerror.h, then ntstatus.h).</summary>
    public IReadOnlyList<ErrorName> Entries => _entries;

    public int FacilityCount { get; }

    /// <summary>Names of <paramref name="value"/> in the numbering system <paramref name="kind"/>, canonical first.</summary>
    public IReadOnlyList<ErrorName> Lookup(ErrorCodeKind kind, uint value)
    {
        int low = 0, high = _byValue.Length;
        while (low < high) // the first entry not below (kind, value)
        {
            var middle = (low + high) >>> 1;
            var entry = _byValue[middle];
            if (entry.Kind < kind || (entry.Kind == kind && entry.Value < value)) low = middle + 1;
            else high = middle;
        }
        var end = low;
        while (end < _byValue.Length && _byValue[end].Kind == kind && _byValue[end].Value == value) end++;
        if (end == low) return Array.Empty<ErrorName>(); // not `[]`: beside an ArraySegment that is a segment over no array
        return new ArraySegment<ErrorName>(_byValue, low, end - low);
    }

    /// <summary>Finds a name such as <c>NTE_BAD_KEYSET</c> (case-insensitive).</summary>
    public ErrorName? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Facility names for an HRESULT or NTSTATUS facility number (several when the headers alias one).</summary>
    public IReadOnlyList<string> FacilityNames(ErrorCodeKind kind, uint facility) =>
        _facilities.TryGetValue((kind == ErrorCodeKind.NtStatus ? ErrorCodeKind.NtStatus : ErrorCodeKind.Hresult, facility), out var names)
            ? names
            : [];

    /// <summary>The data rows of a generated table: comment (#) and empty lines skipped, each row's fields checked.</summary>
    private ref struct TsvRows(ReadOnlySpan<byte> tsv, string file, int columns)
    {
        private ReadOnlySpan<byte> _rest = tsv;
        private readonly Range[] _fields = new Range[columns + 1];
        private ReadOnlySpan<byte> _line;
        private int _count;

        public int LineNumber { get; private set; }

        public readonly ReadOnlySpan<byte> this[int field] => _line[_fields[field]];

        public readonly TsvRows GetEnumerator() => this;

        public readonly TsvRows Current => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                var end = _rest.IndexOf((byte)'\n');
                var line = end < 0 ? _rest : _rest[..end];
                _rest = end < 0 ? default : _rest[(end + 1)..];
                LineNumber++;
                if (!line.IsEmpty && line[^1] == '\r') line = line[..^1];
                if (line.IsEmpty || line[0] == '#') continue;
                _line = line;
                _count = SplitFields(line);
                if (_count != columns)
                    throw new InvalidDataException($"{file} line {LineNumber}: {_count} columns, expected {columns}");
                return true;
            }
            return false;
        }

        /// <summary>Marks each tab-separated field of <paramref name="line"/>; counts fields beyond the expected too.</summary>
        private readonly int SplitFields(ReadOnlySpan<byte> line)
        {
            int count = 0, start = 0;
            while (true)
            {
                var tab = line[start..].IndexOf((byte)'\t');
                var end = tab < 0 ? line.Length : start + tab;
                if (count < _fields.Length) _fields[count] = start..end;
                count++;
                if (tab < 0) return count;
                start = end + 1;
            }
        }
    }

    private static ErrorCodeKind ParseKind(ReadOnlySpan<byte> kind, int line) => kind switch
    {
        _ when kind.SequenceEqual("hresult"u8) => ErrorCodeKind.Hresult,
        _ when kind.SequenceEqual("win32"u8) => ErrorCodeKind.Win32,
        _ when kind.SequenceEqual("ntstatus"u8) => ErrorCodeKind.NtStatus,
        _ => throw new InvalidDataException($"line {line}: unknown kind '{Encoding.UTF8.GetString(kind)}'"),
    };

    private static uint ParseHex(ReadOnlySpan<byte> value, int line) =>
        value.StartsWith("0x"u8) && uint.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new InvalidDataException($"line {line}: bad value '{Encoding.UTF8.GetString(value)}'");

    internal static string ReadResource(string name) => Encoding.UTF8.GetString(ReadResourceBytes(name));

    private static byte[] ReadResourceBytes(string name)
    {
        using var stream = typeof(ErrorNameTable).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"embedded resource {name} is missing from KeyDoctor.Core");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
