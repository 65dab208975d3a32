using System.Text.RegularExpressions;

namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>
/// The English system message texts of the codes an IIS administrator meets around keys and certificates, as
/// Event Viewer shows them since Vista instead of the number ("The IIS Admin Service service terminated with the
/// following error: Key not valid for use in specified state."). <see cref="ErrorCodeScanner"/> finds the code from
/// the text. Short texts that are also ordinary words ("Bad Key.") count only with their closing period.
/// </summary>
public static class SystemMessageTexts
{
    /// <summary>(message text, code bits), the text as FormatMessage gives it.</summary>
    public static readonly IReadOnlyList<(string Text, uint Code)> All =
    [
        ("Key not valid for use in specified state.", 0x8009000B),
        ("Keyset does not exist", 0x80090016),
        ("A specified logon session does not exist. It may already have been terminated.", 0x80070520),
        ("Bad Key.", 0x80090003),
        ("Bad Data.", 0x80090005),
        ("Bad Length.", 0x80090004),
        ("Invalid Signature.", 0x80090006),
        ("Key does not exist.", 0x8009000D),
        ("Object already exists.", 0x8009000F),
        ("Access denied.", 0x80090010),
        ("Object was not found.", 0x80090011),
        ("Invalid provider type specified.", 0x80090014),
        ("Provider type not defined.", 0x80090017),
        ("The keyset is not defined.", 0x80090019),
        ("Keyset as registered is invalid.", 0x8009001A),
        ("The requested operation is not supported.", 0x80090029),
        ("Cannot find object or property.", 0x80092004),
        ("The credentials supplied to the package were not recognized", 0x8009030D),
        ("No credentials are available in the security package", 0x8009030E),
        ("The Local Security Authority cannot be contacted", 0x80090304),
        ("The certificate chain was issued by an authority that is not trusted.", 0x80090325),
        ("Access is denied.", 0x80070005),
        ("The system cannot find the file specified.", 0x80070002),
        ("The specified network password is not correct.", 0x80070056),
        ("The user name or password is incorrect.", 0x8007052E),
        ("Logon failure: unknown user name or bad password.", 0x8007052E),
        ("Logon failure: the user has not been granted the requested logon type at this computer.", 0x80070569),
        ("The data is invalid.", 0x8007000D),
    ];

    /// <summary>Texts of fewer words than this are ordinary phrases too: they match only with their final period.</summary>
    private const int MinWordsWithoutPeriod = 4;

    /// <summary>Each message text as a pattern: any run of white space between words, whole words only.</summary>
    private static readonly (Regex Pattern, uint Code)[] Patterns = All.Select(entry =>
    {
        var words = entry.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var needsPeriod = words.Length < MinWordsWithoutPeriod;
        // Long texts also match without their closing period (Event Viewer and netsh differ); inner periods stay.
        if (!needsPeriod) words[^1] = words[^1].TrimEnd('.');
        var pattern = @"(?<![\w])" + string.Join(@"\s+", words.Select(Regex.Escape)) + (needsPeriod ? "" : @"(?![\w])");
        return (new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2)), entry.Code);
    }).ToArray();

    /// <summary>Each message text found in <paramref name="text"/> (case-insensitive, any run of spaces), with where it starts.</summary>
    public static IEnumerable<(int Index, int Length, uint Code)> Find(string text)
    {
        foreach (var (pattern, code) in Patterns)
            foreach (Match match in pattern.Matches(text))
                yield return (match.Index, match.Length, code);
    }
}
