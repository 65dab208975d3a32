namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>Where an explanation's message text came from.</summary>
public enum MessageSource
{
    /// <summary>The Windows message table (FormatMessage).</summary>
    System,

    /// <summary>KeyDoctor's own one-line meaning (offline, or Windows had no text).</summary>
    KeyDoctor,

    /// <summary>No text anywhere: the code is decoded structurally only.</summary>
    None,
}

/// <summary>
/// Everything KeyDoctor can say about one code: its fields, every name the headers give it (in each of its
/// forms), a message, and for codes of this field what it means on IIS and what to run next.
/// </summary>
public sealed record ErrorExplanation(
    ErrorCode Code,
    IReadOnlyList<ErrorName> Names,
    IReadOnlyList<string> FacilityNames,
    IReadOnlyList<ErrorName> Win32Names,
    IReadOnlyList<ErrorName> NtStatusNames,
    string Message,
    MessageSource MessageSource,
    FieldNote? Note)
{
    /// <summary>The canonical name, or null when neither header names the code.</summary>
    public string? Name => Names.Count > 0 ? Names[0].Name : null;

    public const string NoMessageOffline = "no message text available offline";
    public const string NoMessageOnWindows = "Windows has no message text for this code";
}

/// <summary>Builds <see cref="ErrorExplanation"/>s from the name table, a system message source and our notes.</summary>
public sealed class ErrorExplainer(ErrorNameTable names, ISystemMessageSource messages)
{
    public ErrorNameTable Names { get; } = names;

    public ErrorExplanation Explain(ErrorCode code)
    {
        IReadOnlyList<ErrorName> win32Names = code.Win32Error is { } win32 ? Names.Lookup(ErrorCodeKind.Win32, win32) : [];
        IReadOnlyList<ErrorName> ntNames = code.NtStatus is { } status ? Names.Lookup(ErrorCodeKind.NtStatus, status) : [];
        IReadOnlyList<ErrorName> hresultNames = code.Kind == ErrorCodeKind.NtStatus ? [] : Names.Lookup(ErrorCodeKind.Hresult, code.Bits);

        // All names of the failure, the form it was given in first: "1312" is ERROR_NO_SUCH_LOGON_SESSION before
        // anything else; 0x80070005 is E_ACCESSDENIED, then ERROR_ACCESS_DENIED.
        IEnumerable<ErrorName> all = code.Kind switch
        {
            ErrorCodeKind.Win32 => win32Names.Concat(hresultNames),
            ErrorCodeKind.NtStatus => ntNames,
            _ => hresultNames.Concat(win32Names).Concat(ntNames),
        };
        var allNames = all.DistinctBy(n => n.Name).ToList();

        var note = FieldNotes.For(code);
        var (message, source) = messages.Describe(code) is { } system
            ? (system, MessageSource.System)
            : note is not null
                ? (note.Message, MessageSource.KeyDoctor)
                : (messages is NoSystemMessages ? ErrorExplanation.NoMessageOffline : ErrorExplanation.NoMessageOnWindows, MessageSource.None);

        var facilityKind = code.Kind == ErrorCodeKind.NtStatus ? ErrorCodeKind.NtStatus : ErrorCodeKind.Hresult;
        return new ErrorExplanation(code, allNames, Names.FacilityNames(facilityKind, code.Facility),
            win32Names, ntNames, message, source, note);
    }
}
