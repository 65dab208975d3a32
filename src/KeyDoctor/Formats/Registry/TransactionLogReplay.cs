using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

/// <summary>What log recovery did: which entries (or old-format pages) were applied, and why it stopped.</summary>
public sealed record LogRecovery(
    IReadOnlyList<AppliedLogEntry> AppliedEntries,
    int OldFormatPagesApplied,
    uint? FinalSequenceNumber,
    string? StopReason,
    IReadOnlyList<RegistryProblem> Problems);

public sealed record AppliedLogEntry(string Log, long LogOffset, uint SequenceNumber, int Pages);

/// <summary>
/// Replays transaction logs into a copy of the hive bytes, following the REGF specification's recovery rules:
/// new-format entries are applied in sequence order starting at or after the hive's secondary sequence number,
/// across LOG1 and LOG2, stopping at the first gap, bad hash or bad size; old-format logs apply when their
/// timestamp matches the hive's.
/// </summary>
internal static class TransactionLogReplay
{
    public static LogRecovery Apply(ref byte[] hive, BaseBlock primary, IReadOnlyList<TransactionLog> logs)
    {
        var problems = new List<RegistryProblem>();
        foreach (var log in logs)
            foreach (var p in log.Problems) problems.Add(p with { Reason = $"{log.Name}: {p.Reason}" });

        var newLogs = logs.Where(l => l.LogFormat == TransactionLogFormat.New).ToList();
        if (newLogs.Count > 0) return ApplyNew(ref hive, primary, newLogs, problems);
        var oldLog = logs.FirstOrDefault(l => l.LogFormat == TransactionLogFormat.Old && l.BaseBlock.IsChecksumValid
                                              && l.BaseBlock.SequenceNumbersMatch
                                              && l.BaseBlock.LastWritten == primary.LastWritten);
        if (oldLog is null)
            return new LogRecovery([], 0, null, "no applicable transaction log (none valid with a matching timestamp)", problems);
        return ApplyOld(ref hive, oldLog, problems);
    }

    private static LogRecovery ApplyNew(ref byte[] hive, BaseBlock primary, List<TransactionLog> logs, List<RegistryProblem> problems)
    {
        var start = primary.SecondarySequenceNumber;
        var candidates = logs
            .SelectMany(log => log.Entries.Select(entry => (Log: log, Entry: entry)))
            .Where(c => c.Entry.SequenceNumber >= start)
            .OrderBy(c => c.Entry.SequenceNumber)
            .ToList();
        var applied = new List<AppliedLogEntry>();
        string? stop = null;
        uint? expected = null;
        uint flags = 0;
        var binsSize = primary.HiveBinsDataSize;
        foreach (var (log, entry) in candidates)
        {
            if (expected is { } want && entry.SequenceNumber != want)
            {
                stop = entry.SequenceNumber < want
                    ? $"{log.Name}: a second entry with sequence number {entry.SequenceNumber} (ignored)"
                    : $"{log.Name}: sequence gap, expected {want}, found {entry.SequenceNumber}";
                if (entry.SequenceNumber < want) { problems.Add(RegistryProblem.AtOffset(entry.LogOffset, stop)); stop = null; continue; }
                break;
            }
            if (!entry.HashesValid) { stop = $"{log.Name}: entry {entry.SequenceNumber} at 0x{entry.LogOffset:X} has a wrong Marvin32 hash"; break; }
            if (entry.HiveBinsDataSize % HiveBin.PageSize != 0 || entry.HiveBinsDataSize > RegistryHive.MaxFileSize - BaseBlock.Size)
            { stop = $"{log.Name}: entry {entry.SequenceNumber} has an invalid hive bins data size 0x{entry.HiveBinsDataSize:X}"; break; }

            binsSize = entry.HiveBinsDataSize;
            var needed = BaseBlock.Size + (int)binsSize;
            if (hive.Length < needed) Array.Resize(ref hive, needed); // the hive grows as Windows grew it
            foreach (var page in entry.Pages)
            {
                if ((ulong)page.Offset + page.Size > binsSize)
                {
                    problems.Add(RegistryProblem.AtOffset(page.LogPosition, $"{log.Name}: dirty page at 0x{page.Offset:X} lies outside the hive bins (skipped)"));
                    continue;
                }
                log.Data.AsSpan(page.LogPosition, (int)page.Size).CopyTo(hive.AsSpan(BaseBlock.Size + (int)page.Offset));
            }
            flags = entry.Flags;
            applied.Add(new AppliedLogEntry(log.Name, entry.LogOffset, entry.SequenceNumber, entry.Pages.Count));
            expected = entry.SequenceNumber + 1;
        }
        if (applied.Count == 0)
            return new LogRecovery(applied, 0, null, stop ?? $"no log entry with a sequence number of {start} or later", problems);

        if (applied[0].SequenceNumber != start)
            problems.Add(RegistryProblem.AtOffset(4, $"first applied log entry is {applied[0].SequenceNumber}, the hive's secondary sequence number is {start} (entries applied from the oldest available, as yarp does)"));
        var last = applied[^1].SequenceNumber;
        var header = hive.AsSpan(0, BaseBlock.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], last);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], last);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], binsSize);
        // Only the KTM "locked" bit is carried from the entry into the base block.
        var baseFlags = BinaryPrimitives.ReadUInt32LittleEndian(header[144..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[144..], (baseFlags & ~1u) | (flags & 1u));
        BinaryPrimitives.WriteUInt32LittleEndian(header[508..], BaseBlock.ComputeChecksum(header));
        return new LogRecovery(applied, 0, last, stop, problems);
    }

    private static LogRecovery ApplyOld(ref byte[] hive, TransactionLog log, List<RegistryProblem> problems)
    {
        var binsSize = log.BaseBlock.HiveBinsDataSize;
        var needed = BaseBlock.Size + (long)binsSize;
        if (needed > RegistryHive.MaxFileSize)
            return new LogRecovery([], 0, null, $"{log.Name}: hive bins data size 0x{binsSize:X} is implausible", problems);
        if (hive.Length < needed) Array.Resize(ref hive, (int)needed);
        var count = 0;
        foreach (var page in log.OldFormatPages)
        {
            if ((ulong)page.Offset + page.Size > binsSize) continue;
            log.Data.AsSpan(page.LogPosition, (int)page.Size).CopyTo(hive.AsSpan(BaseBlock.Size + (int)page.Offset));
            count++;
        }
        // The log's base block is the one Windows meant to write: take it, as a primary file (type 0).
        var header = hive.AsSpan(0, 512);
        log.Data.AsSpan(0, 512).CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[508..], BaseBlock.ComputeChecksum(header));
        return new LogRecovery([], count, log.BaseBlock.PrimarySequenceNumber, null, problems);
    }
}
