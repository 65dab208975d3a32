using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;

namespace KeyDoctor.Cli.Json;

/// <summary>`scan --json`: what was read, the findings worst first, and how many of each severity.</summary>
public sealed record ScanDocument(ScannedMachine Machine, IReadOnlyList<Finding> Findings, ScanSummary Summary)
{
    public static ScanDocument From(ScanResult result) => new(ScannedMachine.From(result.State), result.Findings,
        new ScanSummary(result.Count(Severity.Info), result.Count(Severity.Warning), result.Count(Severity.Error), result.Count(Severity.Critical)));
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

/// <summary>Findings per severity.</summary>
public sealed record ScanSummary(int Info, int Warning, int Error, int Critical);
