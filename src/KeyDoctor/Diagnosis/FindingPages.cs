using System.Text;

namespace KeyDoctor.Diagnosis;

/// <summary>
/// The documentation page of every finding (docs/findings/KDxxxx.md), embedded in the assembly when it is built, so
/// that `keydoctor explain KD1002` answers from the binary alone (a USB stick, no source tree) with the very text the
/// web docs show.
/// </summary>
public static class FindingPages
{
    /// <summary>True when <paramref name="text"/> looks like a finding ID (KD and four digits, any case).</summary>
    public static bool IsFindingId(string text) =>
        text.Length == 6 && text.StartsWith("KD", StringComparison.OrdinalIgnoreCase) && text.AsSpan(2).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>The Markdown page of <paramref name="id"/> (case-insensitive), or null when the binary has none.</summary>
    public static string? Get(string id)
    {
        if (!IsFindingId(id)) return null;
        using var stream = typeof(FindingPages).Assembly.GetManifestResourceStream($"KeyDoctor.Findings.{id.ToUpperInvariant()}.md");
        if (stream is null) return null;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The IDs that have an embedded page, in order.</summary>
    public static IReadOnlyList<string> Ids { get; } =
        [.. typeof(FindingPages).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("KeyDoctor.Findings.", StringComparison.Ordinal) && n.EndsWith(".md", StringComparison.Ordinal))
            .Select(n => n["KeyDoctor.Findings.".Length..^".md".Length])
            .Order(StringComparer.Ordinal)];
}
