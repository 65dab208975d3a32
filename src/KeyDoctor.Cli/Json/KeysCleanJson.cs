using System.Globalization;
using KeyDoctor.Diagnosis.Clean;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Cli.Json;

/// <summary>One row of <c>keys clean --json</c>: a key file and what the clean-up does with it.</summary>
/// <param name="Action">keep | quarantine | review.</param>
public sealed record CleanRowJson(string File, string Store, string Kind, string? Container, string? MachineGuid, string Action, string Reason,
                                  DateTime? CreatedUtc, DateTime? ModifiedUtc, long Size);

public sealed record CleanStoreJson(string Store, string Owner, string Kind, long Files, long Keep, long Quarantine, long Review, long QuarantineBytes);

public sealed record CleanTimeJson(DateTimeOffset Time, string Source);

public sealed record CleanDayJson(string Day, long Files);

public sealed record CleanPatternJson(string Pattern, long Files, string? First, string? Last, double PerDay, string Example);

public sealed record CleanCreatorJson(string Account, string Process, long Events, DateTime First, DateTime Last);

/// <summary>The summary after the rows: totals, the stores, what kept keys, and the leak's shape.</summary>
public sealed record CleanSummaryJson(long Files, long Keep, long Quarantine, long Review, long Bytes, long QuarantineBytes, string? MachineGuid,
    int OlderThanDays, CleanTimeJson Reference, CleanTimeJson? LastBoot, IReadOnlyList<CleanStoreJson> Stores,
    IReadOnlyDictionary<string, long> KeptBy, string? Rate, IReadOnlyList<CleanDayJson> Days, IReadOnlyList<CleanPatternJson> Patterns,
    IReadOnlyList<CleanCreatorJson> Creators, IReadOnlyList<string> Unavailable)
{
    /// <summary>The plan written with -o, if any.</summary>
    public string? Plan { get; init; }

    /// <summary>Orphans the plan does not hold (over <c>RepairPlan.MaxQuarantinedFilesPerPlan</c>); absent when it holds them all.</summary>
    public long? NotPlanned { get; init; }

    /// <summary>What to do about <see cref="NotPlanned"/>: apply the plan, then run <c>keys clean</c> again.</summary>
    public string? PlanNote { get; init; }
}

internal static class KeysCleanJson
{
    public static string ActionName(CleanAction action) => action switch
    {
        CleanAction.Keep => "keep",
        CleanAction.Quarantine => "quarantine",
        _ => "review",
    };

    public static CleanRowJson Row(CleanRow row) =>
        new(row.File, row.Store, KeysJson.KindName(row.Kind), row.Container, row.MachineGuid, ActionName(row.Action), row.Reason,
            row.CreatedUtc, row.ModifiedUtc, row.Size);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static CleanSummaryJson Summary(CleanSummary s) =>
        new(s.Files, s.Keep, s.Quarantine, s.Review, s.Bytes, s.QuarantineBytes, s.MachineGuid, s.OlderThanDays,
            new CleanTimeJson(s.Reference.Time, s.Reference.Source), s.LastBoot is { } boot ? new CleanTimeJson(boot.Time, boot.Source) : null,
            s.Stores.Select(t => new CleanStoreJson(t.Store, t.Owner, KeysJson.KindName(t.Kind), t.Files, t.Keep, t.Quarantine, t.Review, t.QuarantineBytes)).ToList(),
            s.KeptBy, s.Rate, s.Days.Select(d => new CleanDayJson(Day(d.Day), d.Files)).ToList(),
            s.Patterns.Select(p => new CleanPatternJson(p.Pattern, p.Files, p.First == DateOnly.MinValue ? null : Day(p.First),
                p.Last == DateOnly.MinValue ? null : Day(p.Last), Math.Round(p.PerDay, 1), p.Example)).ToList(),
            s.Creators.Select(c => new CleanCreatorJson(c.Account, c.Process, c.Events, c.First, c.Last)).ToList(), s.Unavailable);
}
