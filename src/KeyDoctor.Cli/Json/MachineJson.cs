using KeyDoctor.Machine;
using KeyDoctor.Machine.Audit;
using KeyDoctor.Machine.Collection;
using KeyDoctor.Machine.Diff;

namespace KeyDoctor.Cli.Json;

/// <summary>`collect --plan --json` and `snapshot --plan --json`: a JSON array of these, in collection order.</summary>
/// <param name="Kind">"copyFolder", "copyFile", "saveRegistryHive" or "exportEventLog".</param>
/// <param name="Command">What an administrator would type to do the step by hand.</param>
/// <param name="HoldsSecrets">The step copies private keys or secrets (the bundle is then owner-only).</param>
public sealed record CollectionStepJson(CollectionStepKind Kind, string Source, string BundlePath, string Description,
    string? Command, bool Recursive, bool HoldsSecrets)
{
    public static CollectionStepJson From(CollectionStep s) =>
        new(s.Kind, s.Source, s.BundlePath, s.Description, s.Command, s.Recursive, s.HoldsSecrets);
}

/// <summary>`collect --json` and `snapshot --json`: the bundle written.</summary>
/// <param name="Kind">"bundle" or "snapshot".</param>
/// <param name="Problems">What could not be collected, and why.</param>
public sealed record CollectDocument(string Bundle, string Kind, int Files, long Bytes, IReadOnlyList<CollectionProblem> Problems);

/// <summary>`diff --json`: the two states and every change (those that matter first, each with its mark), and how many of each mark.</summary>
public sealed record DiffDocument(string Before, string After, IReadOnlyList<MachineChange> Changes, int Matters, int Noise);

/// <summary>`audit enable|disable|status --json`.</summary>
/// <param name="EnabledUtc">When `audit enable` recorded the earlier settings, while it is on.</param>
public sealed record AuditStatusDocument(bool Enabled, string? Sacl, bool AuditEntryPresent, IReadOnlyList<AuditPolicyJson> Policy, DateTimeOffset? EnabledUtc)
{
    public static AuditStatusDocument From(MachineKeysAudit.Status status) => new(status.Enabled, status.Sacl, status.SaclPresent,
        status.Policy.Select(p => new AuditPolicyJson(p.Name, p.Subcategory, p.Inclusion)).ToList(), status.State?.EnabledUtc);
}

/// <param name="Inclusion">"Success and Failure", "Success", "Failure" or "No Auditing", as auditpol says.</param>
public sealed record AuditPolicyJson(string Subcategory, Guid Guid, string Inclusion);

/// <summary>`audit report --json`: the logs read (file names), every access in log order, and the 5058/5061 key operations by key and process.</summary>
public sealed record AuditReportDocument(IReadOnlyList<string> Logs, IReadOnlyList<KeyAccess> Accesses,
    IReadOnlyList<KeyOperationGroup> KeyOperations, int KeyOperationEvents, int KeyOperationFailures);
