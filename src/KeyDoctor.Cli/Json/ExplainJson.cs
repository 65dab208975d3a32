using System.Text.Json.Serialization;

namespace KeyDoctor.Cli.Json;

/// <summary>`explain --json`: one entry per code found in the input, in input order; the pages of the finding IDs given.</summary>
public sealed record ExplainDocument(IReadOnlyList<ExplainedCode> Codes, IReadOnlyList<ExplainedFinding>? Findings = null);

/// <summary>A finding's page (the Markdown of docs/findings/KDxxxx.md, embedded in the binary) with its catalogue entry.</summary>
public sealed record ExplainedFinding(string Id, string Title, KeyDoctor.Diagnosis.Severity Severity, string Category, string Page);

/// <param name="SeenAs">Every form the input had (hex, decimal, signed, name).</param>
/// <param name="Kind">"hresult", "win32" or "ntstatus".</param>
/// <param name="MessageSource">"system" (this OS's message table), "keydoctor" (our words) or "none".</param>
public sealed record ExplainedCode(
    string Input,
    IReadOnlyList<string> SeenAs,
    string Kind,
    string Code,
    uint Unsigned,
    int Signed,
    string Severity,
    bool Customer,
    bool NtBit,
    bool ReservedBit,
    bool XBit,
    ExplainedFacility Facility,
    uint CodeInFacility,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Name,
    bool NameKnown,
    IReadOnlyList<string> Names,
    ExplainedWin32? Win32,
    ExplainedNtStatus? NtStatus,
    string? HresultFromNt,
    string Message,
    string MessageSource,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Advice,
    IReadOnlyList<string> Run);

public sealed record ExplainedFacility(
    uint Number,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Name,
    IReadOnlyList<string> Names);

public sealed record ExplainedWin32(
    uint Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Name,
    IReadOnlyList<string> Names);

public sealed record ExplainedNtStatus(
    string Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Name,
    IReadOnlyList<string> Names);
