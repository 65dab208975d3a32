using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>The result of one scan: what was read, and what was found, worst first.</summary>
public sealed record ScanResult(MachineState State, IReadOnlyList<Finding> Findings)
{
    public int Count(Severity severity) => Findings.Count(f => f.Severity == severity);
}

/// <summary>Runs every check over one machine: read once, then diagnose (no check reads files itself).</summary>
public static class Scanner
{
    private static readonly Func<MachineState, IEnumerable<Finding>>[] Checks =
    [
        KeyStoreChecks.MachineGuidChanged,
        KeyStoreChecks.Iis6Container,
        KeyStoreChecks.CorruptKeyFiles,
        KeyStoreChecks.AttributesAndAcl,
        KeyStoreChecks.BloatedKeyFolders,
        KeyAccessChecks.MasterKeys,
        KeyAccessChecks.KeyFileAcls,
        SslChecks.Run,
        ConfigurationChecks.ProtectedConfigurationKeys,
        ConfigurationChecks.CentralCertificateStore,
        EventChecks.Run,
        TraceChecks.Run,
    ];

    /// <summary>Scans <paramref name="source"/>; <paramref name="traces"/> are Process Monitor captures of it (besides those in its traces folder).</summary>
    public static ScanResult Scan(IMachineSource source, Action<string>? progress = null, IReadOnlyList<string>? traces = null)
    {
        var state = MachineState.Load(source, progress, traces);
        progress?.Invoke("checks");
        var findings = Checks.SelectMany(check => check(state)).ToList();
        findings.AddRange(ScopeChecks.EvidenceUnavailable(state));
        findings = RootCauses.Link(findings, new RootCauses.Facts(
            state.KeyFiles.Concat(state.ProfileKeyFiles).Select(f => f.Report.FileName).ToHashSet(StringComparer.OrdinalIgnoreCase)));
        var ordered = findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Id, StringComparer.Ordinal)
            .ThenBy(f => f.Subject, StringComparer.Ordinal)
            .ToList();
        return new ScanResult(state, ordered);
    }
}
