using System.Globalization;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.Audit;

/// <summary>One audited access to an object: who, with which program, what, how, when, and from which event.</summary>
public sealed record KeyAccess(
    DateTime TimeUtc,
    int EventId,
    ulong RecordId,
    string Log,
    string Account,
    string? AccountSid,
    string? ProcessName,
    long? ProcessId,
    string? ObjectType,
    string? ObjectName,
    string Action,
    IReadOnlyList<string> Access,
    string? AccessMask)
{
    /// <summary>The key container the file belongs to, when its name is a key-file name of a well-known container.</summary>
    public string? Container { get; init; }

    /// <summary>True when the object is in a machine or user key store (MachineKeys, Crypto\Keys, SystemKeys, RSA\&lt;SID&gt;).</summary>
    public bool InKeyStore { get; init; }
}

/// <summary>
/// Reads object-access auditing (4656 handle requested, 4663 access attempted, 4658 handle closed, 4660 object
/// deleted, 4670 permissions changed) and says which process and account touched which key file, when, and with
/// which access. 4658 and 4660 carry no object name: they are joined to the 4656/4663 of the same process and handle.
/// File names are joined to container names through the well-known catalogue.
/// </summary>
public static class KeyAccessReport
{
    public static readonly IReadOnlySet<int> EventIds = new HashSet<int> { 4656, 4663, 4658, 4660, 4670 };

    private static readonly string[] KeyStoreFolders =
    [
        @"\Microsoft\Crypto\RSA\", @"\Microsoft\Crypto\Keys\", @"\Microsoft\Crypto\SystemKeys\", @"\Microsoft\Crypto\DSS\",
    ];

    private static readonly (uint Bit, string Name)[] FileRights =
    [
        (0x1, "ReadData"), (0x2, "WriteData"), (0x4, "AppendData"), (0x8, "ReadEA"), (0x10, "WriteEA"),
        (0x20, "Execute/Traverse"), (0x40, "DeleteChild"), (0x80, "ReadAttributes"), (0x100, "WriteAttributes"),
        (0x10000, "DELETE"), (0x20000, "READ_CONTROL"), (0x40000, "WRITE_DAC"), (0x80000, "WRITE_OWNER"),
        (0x100000, "SYNCHRONIZE"), (0x1000000, "ACCESS_SYSTEM_SECURITY"),
    ];

    private static readonly (uint Bit, string Name)[] ProcessRights =
    [
        (0x1, "TERMINATE"), (0x2, "CREATE_THREAD"), (0x8, "VM_OPERATION"), (0x10, "VM_READ"), (0x20, "VM_WRITE"),
        (0x40, "DUP_HANDLE"), (0x80, "CREATE_PROCESS"), (0x200, "SET_INFORMATION"), (0x400, "QUERY_INFORMATION"),
        (0x800, "SUSPEND_RESUME"), (0x1000, "QUERY_LIMITED_INFORMATION"), (0x10000, "DELETE"), (0x20000, "READ_CONTROL"),
        (0x40000, "WRITE_DAC"), (0x80000, "WRITE_OWNER"), (0x100000, "SYNCHRONIZE"),
    ];

    /// <summary>
    /// The accesses in the given logs, oldest first. With <paramref name="keyStoresOnly"/>, only objects in key stores
    /// (and the handle closes and deletions that belong to them).
    /// </summary>
    public static IReadOnlyList<KeyAccess> Read(IEnumerable<string> logFiles, bool keyStoresOnly, Action<string>? problem = null)
    {
        var accesses = new List<KeyAccess>();
        foreach (var file in logFiles)
        {
            // (process id, handle id) → the object the handle was opened on, from 4656/4663 of this log.
            var handles = new Dictionary<(long, string), (string? Type, string? Name)>();
            using var reader = EvtxReader.Open(file);
            foreach (var result in reader.ReadRecords(new EvtxReadOptions { EventIds = EventIds.ToHashSet() }))
            {
                if (result.Record is not { } record) continue;
                if (!string.Equals(record.Provider, "Microsoft-Windows-Security-Auditing", StringComparison.OrdinalIgnoreCase)) continue;
                var access = ToAccess(record, Path.GetFileName(file), handles);
                if (access is null) continue;
                if (keyStoresOnly && !access.InKeyStore) continue;
                accesses.Add(access);
            }
            if (reader.Statistics.RecordErrors > 0)
                problem?.Invoke($"{Path.GetFileName(file)}: {reader.Statistics.RecordErrors} record(s) could not be read");
        }
        accesses.Sort((a, b) => a.TimeUtc.CompareTo(b.TimeUtc) is var c && c != 0 ? c : a.RecordId.CompareTo(b.RecordId));
        return accesses;
    }

    private static KeyAccess? ToAccess(EvtxRecord record, string log, Dictionary<(long, string), (string? Type, string? Name)> handles)
    {
        var processId = ParseNumber(record.GetData("ProcessId"));
        var handle = record.GetData("HandleId");
        var objectType = record.GetData("ObjectType");
        var objectName = record.GetData("ObjectName");
        if (processId is { } pid && handle is not null)
        {
            if (objectName is not null && record.EventId is 4656 or 4663)
                handles[(pid, handle)] = (objectType, objectName);
            else if (objectName is null && handles.TryGetValue((pid, handle), out var opened))
                (objectType, objectName) = opened;
        }
        var mask = record.GetData("AccessMask");
        var rights = string.Equals(objectType, "Process", StringComparison.OrdinalIgnoreCase) ? ProcessRights : FileRights;
        var action = record.EventId switch
        {
            4656 => "handle requested",
            4663 => "access",
            4658 => "handle closed",
            4660 => "deleted",
            4670 => "permissions changed",
            _ => record.EventId.ToString(CultureInfo.InvariantCulture),
        };
        var domain = record.GetData("SubjectDomainName");
        var user = record.GetData("SubjectUserName") ?? "?";
        return new KeyAccess(record.Time, record.EventId, record.RecordId, log,
            string.IsNullOrEmpty(domain) || domain == "-" ? user : $@"{domain}\{user}",
            record.GetData("SubjectUserSid"), record.GetData("ProcessName"), processId, objectType, objectName, action,
            DecodeMask(mask, rights), mask)
        {
            InKeyStore = objectName is not null && KeyStoreFolders.Any(f => objectName.Contains(f, StringComparison.OrdinalIgnoreCase)),
            Container = ContainerOf(objectName),
        };
    }

    /// <summary>The well-known container a key file belongs to, from its file name.</summary>
    public static string? ContainerOf(string? objectName)
    {
        if (objectName is null) return null;
        var name = objectName[(objectName.LastIndexOf('\\') + 1)..];
        return ContainerName.TrySplitFileName(name, out var prefix, out _) ? WellKnownContainers.Find(prefix)?.Name : null;
    }

    private static IReadOnlyList<string> DecodeMask(string? mask, (uint Bit, string Name)[] rights)
    {
        if (ParseNumber(mask) is not { } value) return [];
        var names = rights.Where(r => (value & r.Bit) != 0).Select(r => r.Name).ToList();
        var known = rights.Aggregate(0u, (all, r) => all | r.Bit);
        if (((uint)value & ~known) != 0) names.Add($"0x{(uint)value & ~known:x}");
        return names;
    }

    /// <summary>An event field's number, decimal or 0x-hex as Windows writes them; null when it is not one.</summary>
    internal static long? ParseNumber(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex) ? hex : null
            : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var dec) ? dec : null;
    }
}
