namespace KeyDoctor.Diagnosis;

/// <summary>
/// One thing a check found on one machine: which descriptor, how bad, a message naming the concrete objects,
/// the evidence, and the fix. <see cref="Subject"/> names the object it is about (a key file, a thumbprint, an
/// endpoint) so that findings are stable across runs and can be diffed and planned.
/// </summary>
public sealed record Finding(DiagnosticDescriptor Descriptor, string Subject, string Message)
{
    /// <summary>A finding whose message is the descriptor's format filled with <paramref name="messageArgs"/>, like Roslyn's Diagnostic.Create.</summary>
    public static Finding Create(DiagnosticDescriptor descriptor, string subject, params object?[] messageArgs) =>
        new(descriptor, subject, descriptor.FormatMessage(messageArgs));

    public string Id => Descriptor.Id;
    public string Title => Descriptor.Title;

    /// <summary>Severity of this occurrence; defaults to the descriptor's.</summary>
    public Severity Severity { get; init; } = Descriptor.DefaultSeverity;

    public IReadOnlyList<Evidence> Evidence { get; init; } = [];
    public Fix? Fix { get; init; }

    /// <summary>
    /// The findings of the same result that explain this one (it is their consequence): set by <see cref="RootCauses.Link"/>
    /// after every check has run. Empty for a root cause.
    /// </summary>
    public IReadOnlyList<FindingRef> CausedBy { get; init; } = [];

    /// <summary>Structured facts for scripts and repair plans (e.g. "machineGuid", "thumbprint"). No secrets.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}
