using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Farm;

namespace KeyDoctor.Cli.Json;

/// <summary>
/// `farm --json`: every node (in the farm's order: by source, then computer name) with the facts compared and its own
/// scan findings, then the farm's findings worst first, each naming the nodes it concerns by their sources.
/// </summary>
public sealed record FarmDocument(IReadOnlyList<FarmNodeJson> Nodes, IReadOnlyList<FarmFindingJson> Findings, FarmSummary Summary)
{
    public static FarmDocument From(FarmReport report) => new(
        report.Nodes.Select(FarmNodeJson.From).ToList(),
        report.Findings.Select(FarmFindingJson.From).ToList(),
        new FarmSummary(report.Nodes.Count,
            report.Findings.Count(f => f.Finding.Severity == Severity.Info), report.Findings.Count(f => f.Finding.Severity == Severity.Warning),
            report.Findings.Count(f => f.Finding.Severity == Severity.Error), report.Findings.Count(f => f.Finding.Severity == Severity.Critical),
            report.Nodes.Sum(n => n.Findings.Count(f => f.Severity > Severity.Info))));
}

/// <param name="Name">The computer name (SYSTEM hive, else the bundle manifest), else the source.</param>
/// <param name="Source">The image folder or bundle as given: what findings name the node by.</param>
/// <param name="RegistryRead">False when the SOFTWARE or SYSTEM hive was missing: certificates and bindings were not compared.</param>
/// <param name="ConfigurationRead">False without applicationHost.config: providers and customMetadata were not compared.</param>
/// <param name="Findings">The node's own scan findings, as `scan --json` writes them.</param>
public sealed record FarmNodeJson(
    string Name,
    string Source,
    string? ComputerName,
    string? MachineGuid,
    DateTimeOffset? CollectedUtc,
    long KeyFiles,
    bool RegistryRead,
    bool ConfigurationRead,
    IReadOnlyList<NodeKey> Keys,
    IReadOnlyList<NodeCertificate> Certificates,
    IReadOnlyList<NodeBinding> Bindings,
    IReadOnlyList<NodeProvider> Providers,
    IReadOnlyList<NodeEncryptedValue> EncryptedValues,
    IReadOnlyList<NodeMetadata> CustomMetadata,
    IReadOnlyList<Finding> Findings)
{
    public static FarmNodeJson From(FarmNode n) => new(n.Name, n.Source, n.ComputerName, n.MachineGuid, n.CollectedUtc, n.KeyFileCount,
        n.RegistryRead, n.ConfigurationRead, n.Keys, n.Certificates, n.Bindings, n.Providers, n.EncryptedValues, n.CustomMetadata, n.Findings);
}

/// <summary>A farm finding: the finding's fields as in `scan`, plus the sources of the nodes it concerns.</summary>
/// <param name="Nodes">The sources of the nodes to fix (the clones, the odd ones out), in the farm's node order.</param>
public sealed record FarmFindingJson(
    string Id,
    Severity Severity,
    string Title,
    string Subject,
    string Message,
    IReadOnlyList<string> Nodes,
    IReadOnlyList<Evidence> Evidence,
    Fix? Fix,
    IReadOnlyDictionary<string, string>? Properties,
    string HelpLink)
{
    public static FarmFindingJson From(FarmFinding f) => new(f.Finding.Id, f.Finding.Severity, f.Finding.Title, f.Finding.Subject,
        f.Finding.Message, f.Nodes, f.Finding.Evidence, f.Finding.Fix, f.Finding.Properties.Count > 0 ? f.Finding.Properties : null,
        f.Finding.Descriptor.HelpLink);
}

/// <summary>How many nodes, farm findings per severity, and node findings above Info.</summary>
public sealed record FarmSummary(int Nodes, int Info, int Warning, int Error, int Critical, int NodeFindings);
