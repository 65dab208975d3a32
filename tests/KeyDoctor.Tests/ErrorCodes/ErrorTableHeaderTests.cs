using System.Globalization;
using System.Text.RegularExpressions;
using KeyDoctor.Diagnosis.ErrorCodes;
using KeyDoctor.ErrorTableGen;

namespace KeyDoctor.Tests.ErrorCodes;

/// <summary>
/// The committed tables must equal what the generator makes from the installed mingw-w64 headers, so a change
/// in the headers (or a hand edit of the tables) fails CI. tools/test.sh installs mingw-w64-common.
/// </summary>
public class ErrorTableHeaderTests
{
    private const string Include = "/usr/share/mingw-w64/include";

    private static string CommittedFile(string name) =>
        Path.Combine(Fixtures.RepoRoot, "src", "KeyDoctor", "Diagnosis", "ErrorCodes", name);

    private static readonly Lazy<ErrorTable> Generated = new(() =>
    {
        Assert.True(File.Exists(Path.Combine(Include, "winerror.h")), "mingw-w64-common is not installed (run tools/test.sh)");
        return ErrorTable.FromHeaders(Include);
    });

    [Fact]
    public void CommittedErrorNamesEqualTheHeaders()
    {
        Assert.Equal(Generated.Value.ErrorNamesText(), File.ReadAllText(CommittedFile(ErrorTable.ErrorNamesFile)));
    }

    [Fact]
    public void CommittedFacilitiesEqualTheHeaders()
    {
        Assert.Equal(Generated.Value.FacilitiesText(), File.ReadAllText(CommittedFile(ErrorTable.FacilitiesFile)));
    }

    [Fact]
    public void EmbeddedTableHoldsEveryGeneratedNameAndValue()
    {
        var embedded = ErrorNameTable.Embedded;
        var generated = Generated.Value.Names;
        Assert.Equal(5277, generated.Count); // mingw-w64-common 10.0.0 (Debian 13); a new header version changes this
        Assert.Equal(generated.Count, embedded.Entries.Count);
        for (var i = 0; i < generated.Count; i++)
        {
            var row = generated[i];
            var entry = embedded.Entries[i];
            Assert.Equal(row.Name, entry.Name);
            Assert.Equal(row.Value, entry.Value);
            Assert.Equal(row.Kind, entry.Kind switch { ErrorCodeKind.Win32 => "win32", ErrorCodeKind.NtStatus => "ntstatus", _ => "hresult" });
            Assert.Equal(row.AliasOf, entry.AliasOf);
        }
        Assert.Equal(Generated.Value.Facilities.Count, embedded.FacilityCount);
        Assert.Equal(45, embedded.FacilityCount);
    }

    /// <summary>
    /// A second reading that shares no code with the generator: every literal define of the three common forms
    /// must be in the embedded table with the same value and kind.
    /// </summary>
    [Fact]
    public void EveryLiteralDefineIsInTheTableIndependentlyOfTheGenerator()
    {
        var table = ErrorNameTable.Embedded;
        var byName = table.Entries.ToDictionary(e => e.Name);
        var forms = new (string File, Regex Pattern, ErrorCodeKind Kind)[]
        {
            ("winerror.h", new Regex(@"^#define\s+(\w+)\s+_HRESULT_TYPEDEF_\(0x([0-9A-Fa-f]{8})L?\)\s*$", RegexOptions.Multiline), ErrorCodeKind.Hresult),
            ("winerror.h", new Regex(@"^#define\s+(\w+)\s+__MSABI_LONG\((\d+)\)\s*$", RegexOptions.Multiline), ErrorCodeKind.Win32),
            ("ntstatus.h", new Regex(@"^#define\s+(\w+)\s+\(\(NTSTATUS\)0x([0-9A-Fa-f]{8})L?\)\s*$", RegexOptions.Multiline), ErrorCodeKind.NtStatus),
        };
        var checkedCount = 0;
        foreach (var (file, pattern, kind) in forms)
        {
            foreach (Match m in pattern.Matches(File.ReadAllText(Path.Combine(Include, file))))
            {
                var name = m.Groups[1].Value;
                if (Regex.IsMatch(name, "_(FIRST|LAST|BEGIN|END)$")) continue; // range bounds, not codes
                var value = kind == ErrorCodeKind.Win32
                    ? uint.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)
                    : uint.Parse(m.Groups[2].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                Assert.True(byName.TryGetValue(name, out var entry), $"{name} from {file} is missing");
                Assert.Equal((kind, value), (entry!.Kind, entry.Value));
                checkedCount++;
            }
        }
        Assert.Equal(1376 + 1998 + 1797, checkedCount);
    }

    [Theory]
    [InlineData("NTE_BAD_KEYSET", ErrorCodeKind.Hresult, 0x80090016u)]
    [InlineData("NTE_BAD_KEY_STATE", ErrorCodeKind.Hresult, 0x8009000Bu)]
    [InlineData("SEC_E_UNKNOWN_CREDENTIALS", ErrorCodeKind.Hresult, 0x8009030Du)]
    [InlineData("CERT_E_UNTRUSTEDROOT", ErrorCodeKind.Hresult, 0x800B0109u)]
    [InlineData("E_ACCESSDENIED", ErrorCodeKind.Hresult, 0x80070005u)]
    [InlineData("E_NOT_SUFFICIENT_BUFFER", ErrorCodeKind.Hresult, 0x8007007Au)] // HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)
    [InlineData("ERROR_NO_SUCH_LOGON_SESSION", ErrorCodeKind.Win32, 1312u)]
    [InlineData("WSAECONNRESET", ErrorCodeKind.Win32, 10054u)] // (WSABASEERR + 54)
    [InlineData("STATUS_LOGON_FAILURE", ErrorCodeKind.NtStatus, 0xC000006Du)]
    [InlineData("SEC_E_NO_SPM", ErrorCodeKind.Hresult, 0x80090304u)] // alias of SEC_E_INTERNAL_ERROR
    public void KnownNamesHaveTheirPublishedValues(string name, ErrorCodeKind kind, uint value)
    {
        var entry = ErrorNameTable.Embedded.Find(name);
        Assert.NotNull(entry);
        Assert.Equal((kind, value), (entry.Kind, entry.Value));
    }

    [Fact]
    public void AliasesAndRangeMarkersDoNotBecomeCanonicalNames()
    {
        var table = ErrorNameTable.Embedded;
        Assert.Equal(["SEC_E_INTERNAL_ERROR", "SEC_E_NO_SPM"], table.Lookup(ErrorCodeKind.Hresult, 0x80090304).Select(n => n.Name));
        Assert.Null(table.Find("DRAGDROP_E_FIRST"));
        Assert.Null(table.Find("WSABASEERR"));
        Assert.Null(table.Find("FACILITY_WIN32"));
        Assert.NotNull(table.Find("STATUS_IMAGE_NOT_AT_BASE")); // typed, so "_BASE" is part of a real name
        Assert.Equal(["FACILITY_SSPI", "FACILITY_SECURITY"], table.FacilityNames(ErrorCodeKind.Hresult, 9));
        Assert.Equal(["FACILITY_AUDCLNT"], table.FacilityNames(ErrorCodeKind.Hresult, 0x889));
        Assert.Equal(["FACILITY_DEBUGGER"], table.FacilityNames(ErrorCodeKind.NtStatus, 1));
    }

    [Fact]
    public void GeneratorReadsEveryConstructItClaims()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "winerror.h"), """
            #ifndef _WINERROR_
            #define _WINERROR_
            #define FACILITY_WIN32 7
            #define FACILITY_NT_BIT 0x10000000
            #define SEVERITY_ERROR 1
            /* a comment with #define NOT_A_CODE 5 inside */
            #define ERROR_ACCESS_DENIED __MSABI_LONG(5) // trailing comment
            #define ERROR_LONG \
                __MSABI_LONG(1312)
            #define ERROR_ALIAS ERROR_ACCESS_DENIED
            #define WSABASEERR 10000
            #define WSAEINTR (WSABASEERR + 4)
            #define E_ACCESSDENIED _HRESULT_TYPEDEF_(0x80070005L)
            #define E_TYPED ((HRESULT)0x80004005)
            #define E_FROM_WIN32 HRESULT_FROM_WIN32(ERROR_LONG)
            #define E_NDIS _NDIS_ERROR_TYPEDEF_(0x80340001)
            #define E_RANGE_FIRST __MSABI_LONG(0x80040100)
            #define MAKE_IT(a) (a)
            #ifndef WSAEINTR
            #define WSAEINTR (WSABASEERR + 4)
            #endif
            #endif
            """);
        File.WriteAllText(Path.Combine(dir.Path, "ntstatus.h"), """
            #define FACILITY_DEBUGGER 0x1
            #define STATUS_SEVERITY_ERROR 0x3
            #define STATUS_LOGON_FAILURE ((NTSTATUS)0xC000006DL)
            """);

        var table = ErrorTable.FromHeaders(dir.Path);

        Assert.Equal(
            [
                ("ERROR_ACCESS_DENIED", "win32", 5u, (string?)null), ("ERROR_LONG", "win32", 1312u, null),
                ("ERROR_ALIAS", "win32", 5u, "ERROR_ACCESS_DENIED"), ("WSAEINTR", "win32", 10004u, null),
                ("E_ACCESSDENIED", "hresult", 0x80070005u, null), ("E_TYPED", "hresult", 0x80004005u, null),
                ("E_FROM_WIN32", "hresult", 0x80070520u, null), ("E_NDIS", "hresult", 0x80340001u, null),
                ("STATUS_LOGON_FAILURE", "ntstatus", 0xC000006Du, null),
            ],
            table.Names.Select(r => (r.Name, r.Kind, r.Value, r.AliasOf)));
        Assert.Equal([("hresult", 7u, "FACILITY_WIN32"), ("ntstatus", 1u, "FACILITY_DEBUGGER")],
            table.Facilities.Select(f => (f.Kind, f.Number, f.Name)));
    }

    [Theory]
    [InlineData("#define E_NEW_SYNTAX SOME_FUNCTION(3)", "winerror.h:1")]
    [InlineData("#define E_UNKNOWN NOT_DEFINED_ANYWHERE", "winerror.h:1")]
    [InlineData("#define E_BIG 0x100000000", "winerror.h:1")]
    [InlineData("#define E_TWICE 1\n#define E_TWICE 2", "E_TWICE is defined twice")]
    [InlineData("#define E_LOOP E_LOOP2\n#define E_LOOP2 E_LOOP", "refers to itself")]
    public void GeneratorStopsOnWhatItCannotRead(string header, string expected)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "winerror.h"), header);
        File.WriteAllText(Path.Combine(dir.Path, "ntstatus.h"), "");
        var ex = Assert.Throws<FormatException>(() => ErrorTable.FromHeaders(dir.Path));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void EveryFieldNoteIsForANamedCode()
    {
        var table = ErrorNameTable.Embedded;
        foreach (var (isNt, value) in FieldNotes.Codes)
        {
            var kind = isNt ? ErrorCodeKind.NtStatus : ErrorCodeKind.Hresult;
            var named = table.Lookup(kind, value).Count > 0
                        || ((value & 0xFFFF0000) == 0x80070000 && table.Lookup(ErrorCodeKind.Win32, value & 0xFFFF).Count > 0);
            Assert.True(named, $"note for 0x{value:X8} has no name in the headers");
        }
    }

    private sealed class TempDirectory : IDisposable
    {
        public TempDirectory() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kd-errtable-" + Guid.NewGuid().ToString("N"));

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
