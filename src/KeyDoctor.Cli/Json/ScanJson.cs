using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;

namespace KeyDoctor.Cli.Json;

/// <summary>`scan --json`: what was read, every finding worst first (each with its causes), and how many of each severity.</summary>
public sealed record ScanDocument(ScannedMachine Machine, IReadOnlyList<Finding> Findings, ScanSummary Summary)
{
    public static ScanDocument From(ScanResult result)
    {
        var roots = RootCauses.Group(result.Findings).Where(n => n.Finding.Severity > Severity.Info).ToList();
        return new(ScannedMachine.From(result.State), result.Findings,
            new ScanSummary(result.Count(Severity.Info), result.Count(Severity.Warning), result.Count(Severity.Error), result.Count(Severity.Critical),
                roots.Count, roots.FirstOrDefault()?.Finding.Id,
                [.. roots.Select(n => new RootCauseJson(n.Finding.Id, n.Finding.Subject, n.Explains, n.Repeats.Count))]));
    }
}

public sealed record ScannedMachine(
    string Source,
    MachineSourceKind Kind,
    string? HostName,
    DateTimeOffset? CollectedUtc,
    string? MachineGuid,
    long KeyFiles,
    long DamagedKeyFiles,
    int Certificates,
    int HttpSysBindings,
    int? IisSites,
    bool Metabase,
    int Events,
    IReadOnlyList<ScannedTraceSummary> Traces)
{
    public static ScannedMachine From(MachineState state) => new(
        state.Source.Description, state.Source.Kind, state.Source.Info.HostName, state.Source.Info.CollectedUtc,
        state.MachineGuid, state.KeyFileCount, state.DamagedKeyFileCount, state.Certificates.Count,
        state.HttpSysBindings.Count, state.ApplicationHost?.Sites.Count, state.Metabase is not null, state.Events.Count,
        [.. state.Traces.Select(t => new ScannedTraceSummary(t.Path, t.Format.ToString().ToLowerInvariant(), t.Story.EventsRead, t.Story.Processes.Count))]);
}

/// <summary>A Process Monitor capture the scan read: where from, its form (pml, csv, xml), events read, processes that touched keys.</summary>
public sealed record ScannedTraceSummary(string Path, string Format, long Events, int KeyProcesses);

/// <summary>
/// Findings per severity; how many independent problems (root causes above Info) there are, which to fix first, and
/// the root causes in the order the text shows them.
/// </summary>
public sealed record ScanSummary(int Info, int Warning, int Error, int Critical, int IndependentProblems, string? FixFirst,
                                 IReadOnlyList<RootCauseJson> RootCauses);

/// <summary>A root cause: its finding, how many findings it explains, and how many times it occurred (repeated events).</summary>
public sealed record RootCauseJson(string Id, string Subject, int Explains, int Occurrences);
