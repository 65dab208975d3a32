namespace KeyDoctor.Diagnosis;

/// <summary>
/// The fixed description of one kind of finding, like Roslyn's DiagnosticDescriptor: a stable ID that scripts
/// and documentation can rely on, a title, a message format filled per finding, a default severity, and the
/// documentation page that explains it.
/// </summary>
public sealed record DiagnosticDescriptor(
    string Id,
    string Title,
    string MessageFormat,
    Severity DefaultSeverity,
    string Category,
    string Explanation)
{
    /// <summary>The finding's documentation page, relative to the repository root.</summary>
    public string HelpLink => $"docs/findings/{Id}.md";

    /// <summary>Fills <see cref="MessageFormat"/> ({0}, {1}, ...) with invariant formatting.</summary>
    public string FormatMessage(params object?[] args) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, MessageFormat, args);
}
