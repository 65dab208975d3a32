namespace KeyDoctor.Diagnosis.Farm;

/// <summary>A finding about the farm and the nodes it concerns (the ones to fix), by their sources.</summary>
public sealed record FarmFinding(Finding Finding, IReadOnlyList<string> Nodes);

/// <summary>The farm: its nodes in a stable order (each with its own scan findings) and what differs between them.</summary>
public sealed record FarmReport(IReadOnlyList<FarmNode> Nodes, IReadOnlyList<FarmFinding> Findings)
{
    /// <summary>True when a farm finding, or a node finding above Info, exists: the command's exit code 1.</summary>
    public bool HasFindings => Findings.Count > 0 || Nodes.Any(n => n.Findings.Any(f => f.Severity > Severity.Info));
}

/// <summary>
/// Compares the nodes of a farm (KD5001-KD5004). Pure: it looks only at <see cref="FarmNode"/> facts, so nodes read
/// from folders and nodes read back from a scan store give the same findings.
/// </summary>
public static class FarmComparison
{
    /// <summary>Nodes are ordered by source (ordinal), then computer name; findings worst first, then by ID and subject.</summary>
    public static FarmReport Compare(IEnumerable<FarmNode> nodes)
    {
        var ordered = Order(nodes);
        var findings = new List<FarmFinding>();
        findings.AddRange(FarmChecks.SharedMachineGuids(ordered));
        findings.AddRange(FarmChecks.ConfigurationKeys(ordered));
        findings.AddRange(FarmChecks.BindingCertificates(ordered));
        findings.AddRange(FarmChecks.ConfigurationDrift(ordered));
        var sorted = findings
            .OrderByDescending(f => f.Finding.Severity)
            .ThenBy(f => f.Finding.Id, StringComparer.Ordinal)
            .ThenBy(f => f.Finding.Subject, StringComparer.Ordinal)
            .ToList();
        return new FarmReport(ordered, sorted);
    }

    public static List<FarmNode> Order(IEnumerable<FarmNode> nodes) => nodes
        .OrderBy(n => n.Source, StringComparer.Ordinal)
        .ThenBy(n => n.ComputerName ?? "", StringComparer.Ordinal)
        .ToList();
}
