namespace KeyDoctor.Formats.Certificates;

/// <summary>Certificate thumbprints as people type them: "32 b5 39 8e ...", "32:B5:...", or 40 hex digits.</summary>
public static class Thumbprint
{
    /// <summary>40 upper-case hex digits, or null when the text is not a SHA-1 thumbprint.</summary>
    public static string? Normalize(string text)
    {
        var hex = new System.Text.StringBuilder(40);
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c is ':' or '-' or '\u200E' or '\u200F' or '\uFEFF') continue; // copied from MMC: invisible marks
            if (!char.IsAsciiHexDigit(c)) return null;
            hex.Append(char.ToUpperInvariant(c));
        }
        return hex.Length == 40 ? hex.ToString() : null;
    }
}
