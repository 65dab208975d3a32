using System.Globalization;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.Audit;

/// <summary>
/// One Security 5058 (key file operation) or 5061 (cryptographic operation): which key, which file, what was done,
/// with which result, by which account and process. Written by the Key Storage Provider when "Audit Other System
/// Events" is on, for every use of a CNG key (the Microsoft Software and Smart Card KSPs).
/// </summary>
/// <param name="ProcessSource">"client": the event names the client process (ClientProcessId, Windows 10 and later);
/// "event-writer": it does not, and the process is the one that wrote the event (lsass, where key isolation runs).</param>
public sealed record KeyOperation(
    DateTime TimeUtc,
    int EventId,
    ulong RecordId,
    string Log,
    string Account,
    string? AccountSid,
    string? Provider,
    string? Algorithm,
    string? KeyName,
    string? KeyType,
    string? KeyFile,
    string Operation,
    string ReturnCode,
    long? ProcessId,
    string? ProcessName,
    string ProcessSource)
{
    public bool Failed => !KeyOperationReport.IsSuccess(ReturnCode);
}

/// <summary>
/// The operations on one key by one process: how many, how many failed (and with which codes), when, which operations
/// and accounts, the key files the events name, and which files of the source belong to the key.
/// </summary>
/// <param name="ExpectedProcess">False when the process is none of those that normally use a server's keys (lsass,
/// w3wp, WAS's svchost, inetinfo, certutil, mmc): worth a look.</param>
/// <param name="SourceKeyFiles">Key files of the scanned machine that belong to this key (by file name, else by the
/// name's hash prefix); null when only a log was given.</param>
public sealed record KeyOperationGroup(
    string Key,
    string? Container,
    string Process,
    IReadOnlyList<long> ProcessIds,
    string ProcessSource,
    bool ExpectedProcess,
    int Events,
    int Failures,
    IReadOnlyList<string> FailureCodes,
    DateTime FirstUtc,
    DateTime LastUtc,
    IReadOnlyList<string> Operations,
    IReadOnlyList<string> Accounts,
    IReadOnlyList<int> EventIds,
    IReadOnlyList<string> KeyFiles,
    IReadOnlyList<string>? SourceKeyFiles);

/// <summary>Reads Security 5058 and 5061 and groups them by key and process, failures and unexpected processes first.</summary>
public static class KeyOperationReport
{
    public static readonly IReadOnlySet<int> EventIds = new HashSet<int> { 5058, 5061 };

    /// <summary>The processes that use a web server's machine keys in the ordinary course (file names, any case).</summary>
    public static readonly IReadOnlySet<string> ExpectedProcesses = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "lsass.exe", "w3wp.exe", "svchost.exe", "inetinfo.exe", "certutil.exe", "mmc.exe",
    };

    /// <summary>Events that name a process id with its image: the pid → name map for 5058/5061 that carry only a pid.</summary>
    private static readonly HashSet<int> ProcessNamingEvents = [4688, 4656, 4663, 4624, 4648, 4672, 4697, 4616];

    /// <summary>The insertion strings of msobjs.dll that these events use, decoded where the value is known.</summary>
    private static readonly Dictionary<string, string> Strings = new(StringComparer.Ordinal)
    {
        ["%%2458"] = "Read persisted key from file",
        ["%%2480"] = "Open key",
        ["%%2499"] = "Machine key",
        ["%%2500"] = "User key",
    };

    public static bool IsSuccess(string returnCode) => returnCode.Trim() is "0" or "0x0" or "0x00000000" or "";

    /// <summary>Every 5058 and 5061 of the logs, oldest first.</summary>
    public static IReadOnlyList<KeyOperation> Read(IEnumerable<string> logFiles, Action<string>? problem = null)
    {
        var operations = new List<KeyOperation>();
        foreach (var file in logFiles)
        {
            var names = new Dictionary<long, List<(DateTime Time, string Name)>>();
            var records = new List<EvtxRecord>();
            using (var reader = EvtxReader.Open(file))
            {
                foreach (var result in reader.ReadRecords(new EvtxReadOptions { EventIds = EventIds.Concat(ProcessNamingEvents).ToHashSet() }))
                {
                    if (result.Record is not { } record) continue;
                    if (!string.Equals(record.Provider, "Microsoft-Windows-Security-Auditing", StringComparison.OrdinalIgnoreCase)) continue;
                    if (EventIds.Contains(record.EventId)) records.Add(record);
                    else Remember(record, names);
                }
                if (reader.Statistics.RecordErrors > 0)
                    problem?.Invoke($"{Path.GetFileName(file)}: {reader.Statistics.RecordErrors} record(s) could not be read");
            }
            foreach (var record in records) operations.Add(ToOperation(record, Path.GetFileName(file), names));
        }
        operations.Sort((a, b) => a.TimeUtc.CompareTo(b.TimeUtc) is var c && c != 0 ? c : a.RecordId.CompareTo(b.RecordId));
        return operations;
    }

    private static void Remember(EvtxRecord record, Dictionary<long, List<(DateTime, string)>> names)
    {
        var (pid, name) = record.EventId == 4688
            ? (KeyAccessReport.ParseNumber(record.GetData("NewProcessId")), record.GetData("NewProcessName"))
            : (KeyAccessReport.ParseNumber(record.GetData("ProcessId")), record.GetData("ProcessName"));
        if (pid is not { } id || id == 0 || string.IsNullOrWhiteSpace(name) || name == "-") return;
        if (!names.TryGetValue(id, out var list)) names[id] = list = [];
        list.Add((record.Time, name));
    }

    private static KeyOperation ToOperation(EvtxRecord record, string log, Dictionary<long, List<(DateTime Time, string Name)>> names)
    {
        var client = KeyAccessReport.ParseNumber(record.GetData("ClientProcessId"));
        var pid = client ?? record.ProcessId;
        string? name = null;
        if (pid is { } id && names.TryGetValue(id, out var seen))
            // Process ids are reused: the name seen last before the event, else the first after it.
            name = seen.Where(s => s.Time <= record.Time).OrderBy(s => s.Time).Select(s => s.Name).LastOrDefault()
                   ?? seen.OrderBy(s => s.Time).First().Name;
        var source = client is not null ? "client" : "event-writer";
        // Without a client process id the event's writer is the key isolation service, which runs in lsass.
        if (name is null && client is null) name = "lsass.exe";
        var domain = record.GetData("SubjectDomainName");
        var user = record.GetData("SubjectUserName") ?? "?";
        return new KeyOperation(record.Time, record.EventId, record.RecordId, log,
            string.IsNullOrEmpty(domain) || domain == "-" ? user : $@"{domain}\{user}", record.GetData("SubjectUserSid"),
            record.GetData("ProviderName"), Decode(record.GetData("AlgorithmName")), record.GetData("KeyName"),
            Decode(record.GetData("KeyType")), NullIfEmpty(record.GetData("KeyFilePath")),
            Decode(record.GetData("Operation")) ?? "?", record.GetData("ReturnCode")?.Trim() ?? "", pid, name, source);
    }

    /// <summary>
    /// The operations grouped by key and process: groups with failures first (most first), then those of a process
    /// that is not expected to use keys, then by number of events. <paramref name="sourceKeyFiles"/> are the key-file
    /// paths of the machine the log came from (null for a lone log).
    /// </summary>
    public static IReadOnlyList<KeyOperationGroup> Group(IReadOnlyList<KeyOperation> operations, IReadOnlyList<string>? sourceKeyFiles)
    {
        var groups = new List<KeyOperationGroup>();
        foreach (var g in operations.GroupBy(o => (Key: o.KeyName ?? "(no key name)", Process: ProcessLabel(o)))
                     .OrderBy(g => g.Key.Key, StringComparer.OrdinalIgnoreCase).ThenBy(g => g.Key.Process, StringComparer.OrdinalIgnoreCase))
        {
            var list = g.ToList();
            var files = list.Select(o => o.KeyFile).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
            var processName = list.Select(o => o.ProcessName).FirstOrDefault(n => n is not null);
            groups.Add(new KeyOperationGroup(
                g.Key.Key,
                files.Select(KeyAccessReport.ContainerOf).FirstOrDefault(c => c is not null),
                g.Key.Process,
                [.. list.Select(o => o.ProcessId).OfType<long>().Distinct().Order()],
                list.Any(o => o.ProcessSource == "client") ? "client" : "event-writer",
                processName is not null && ExpectedProcesses.Contains(WindowsPaths.FileName(processName)),
                list.Count,
                list.Count(o => o.Failed),
                [.. list.Where(o => o.Failed).Select(o => o.ReturnCode).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)],
                list.Min(o => o.TimeUtc),
                list.Max(o => o.TimeUtc),
                [.. list.Select(o => o.Operation).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                [.. list.Select(o => o.Account).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)],
                [.. list.Select(o => o.EventId).Distinct().Order()],
                files,
                sourceKeyFiles is null ? null : MatchSourceFiles(g.Key.Key, files, sourceKeyFiles)));
        }
        return [.. groups.OrderByDescending(g => g.Failures).ThenBy(g => g.ExpectedProcess).ThenByDescending(g => g.Events)];
    }

    private static string ProcessLabel(KeyOperation o) =>
        o.ProcessName is { } name ? WindowsPaths.FileName(name) : o.ProcessId is { } pid ? $"PID {pid} (name not in the log)" : "(unknown process)";

    /// <summary>The files of the source that are this key's: those the events name (by file name), else those whose name
    /// starts with the key name's CNG or CryptoAPI hash.</summary>
    private static List<string> MatchSourceFiles(string keyName, List<string> eventFiles, IReadOnlyList<string> sourceKeyFiles)
    {
        var named = eventFiles.Select(WindowsPaths.FileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var byName = sourceKeyFiles.Where(f => named.Contains(WindowsPaths.FileName(f))).ToList();
        if (byName.Count > 0 || keyName.StartsWith('(')) return byName;
        var prefixes = new[] { ContainerName.CngPrefix(keyName), ContainerName.CapiPrefix(keyName) };
        return [.. sourceKeyFiles.Where(f => prefixes.Any(p => WindowsPaths.FileName(f).StartsWith(p + "_", StringComparison.OrdinalIgnoreCase)))];
    }

    /// <summary>A 5058/5061 field as text: the message-table strings KeyDoctor knows (%%2458 …) decoded, others as written.</summary>
    public static string? Decode(string? value) =>
        value is null ? null : Strings.TryGetValue(value.Trim(), out var text) ? text : value.Trim();

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) || value == "-" ? null : value;
}
