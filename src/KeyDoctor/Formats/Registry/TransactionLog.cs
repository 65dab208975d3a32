using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

public enum TransactionLogFormat
{
    /// <summary>XP to Windows 8: a "DIRT" bitmap of 512-byte pages, then the pages (file type 1 or 2).</summary>
    Old,

    /// <summary>Windows 8.1 and later: "HvLE" entries with Marvin32 hashes (file type 6).</summary>
    New,
}

/// <summary>One dirty page of a log: where it goes in the hive bins data and where its bytes are in the log.</summary>
public readonly record struct DirtyPage(uint Offset, uint Size, int LogPosition);

/// <summary>One "HvLE" entry of a new-format log.</summary>
public sealed record TransactionLogEntry(
    long LogOffset,
    uint Size,
    uint Flags,
    uint SequenceNumber,
    uint HiveBinsDataSize,
    IReadOnlyList<DirtyPage> Pages,
    bool HashesValid);

/// <summary>
/// A transaction log file (.LOG, .LOG1, .LOG2) parsed without applying it: its base-block copy and either its
/// dirty vector (old format) or its log entries (new format). Parsing stops at the first entry that is not
/// well formed; everything before it is kept.
/// </summary>
public sealed class TransactionLog
{
    private const string Format = "regf log";

    private TransactionLog(string name, byte[] data, BaseBlock baseBlock, TransactionLogFormat format,
        IReadOnlyList<TransactionLogEntry> entries, IReadOnlyList<DirtyPage> oldPages, IReadOnlyList<RegistryProblem> problems)
    {
        Name = name;
        Data = data;
        BaseBlock = baseBlock;
        LogFormat = format;
        Entries = entries;
        OldFormatPages = oldPages;
        Problems = problems;
    }

    public string Name { get; }
    internal byte[] Data { get; }
    public BaseBlock BaseBlock { get; }
    public TransactionLogFormat LogFormat { get; }

    /// <summary>New format: the well-formed entries in file order (hash validity is per entry).</summary>
    public IReadOnlyList<TransactionLogEntry> Entries { get; }

    /// <summary>Old format: the dirty 512-byte pages named by the bitmap.</summary>
    public IReadOnlyList<DirtyPage> OldFormatPages { get; }

    /// <summary>Why parsing stopped early, or other anomalies (offsets are in the log file).</summary>
    public IReadOnlyList<RegistryProblem> Problems { get; }

    /// <exception cref="MalformedDataException">Not a log: no "regf" base block or an unknown file type.</exception>
    public static TransactionLog Parse(byte[] data, string name = "(log)")
    {
        var baseBlock = BaseBlock.Parse(data);
        var problems = new List<RegistryProblem>();
        if (!baseBlock.IsChecksumValid)
            problems.Add(RegistryProblem.AtOffset(508, "log base block checksum is wrong"));
        switch (baseBlock.FileType)
        {
            case 6:
                return new TransactionLog(name, data, baseBlock, TransactionLogFormat.New, ParseEntries(data, problems), [], problems);
            case 1:
            case 2:
                return new TransactionLog(name, data, baseBlock, TransactionLogFormat.Old, [], ParseDirtyVector(data, baseBlock, problems), problems);
            default:
                throw new MalformedDataException(Format, 28, $"file type {baseBlock.FileType} is not a transaction log (1, 2 or 6)");
        }
    }

    private static List<TransactionLogEntry> ParseEntries(byte[] data, List<RegistryProblem> problems)
    {
        var entries = new List<TransactionLogEntry>();
        var offset = 512;
        while (offset + 40 <= data.Length)
        {
            var header = data.AsSpan(offset);
            if (!header[..4].SequenceEqual("HvLE"u8)) break; // the rest is zero fill or stale data
            var size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (size < 40 || size % 512 != 0 || size > (uint)(data.Length - offset))
            {
                problems.Add(RegistryProblem.AtOffset(offset, $"log entry size {size} is invalid; later entries ignored"));
                break;
            }
            var entry = data.AsSpan(offset, (int)size);
            var pageCount = BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]);
            if (pageCount > (size - 40) / 8)
            {
                problems.Add(RegistryProblem.AtOffset(offset, $"log entry claims {pageCount} dirty pages, more than it can hold; later entries ignored"));
                break;
            }
            var pages = new List<DirtyPage>((int)pageCount);
            var position = 40 + (int)pageCount * 8;
            var fits = true;
            for (var i = 0; i < pageCount; i++)
            {
                var pageOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry[(40 + i * 8)..]);
                var pageSize = BinaryPrimitives.ReadUInt32LittleEndian(entry[(44 + i * 8)..]);
                if (pageSize > (uint)(size - position)) { fits = false; break; }
                pages.Add(new DirtyPage(pageOffset, pageSize, offset + position));
                position += (int)pageSize;
            }
            if (!fits)
            {
                problems.Add(RegistryProblem.AtOffset(offset, "log entry's dirty pages run past the entry; later entries ignored"));
                break;
            }
            var hash1 = BinaryPrimitives.ReadUInt64LittleEndian(entry[24..]);
            var hash2 = BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]);
            var valid = Marvin32.Compute(entry[40..], Marvin32.RegistryLogSeed) == hash1
                        && Marvin32.Compute(entry[..32], Marvin32.RegistryLogSeed) == hash2;
            entries.Add(new TransactionLogEntry(offset, size,
                BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]),
                pages, valid));
            offset += (int)size;
        }
        return entries;
    }

    private static List<DirtyPage> ParseDirtyVector(byte[] data, BaseBlock baseBlock, List<RegistryProblem> problems)
    {
        var pages = new List<DirtyPage>();
        if (data.Length < 516 || !data.AsSpan(512, 4).SequenceEqual("DIRT"u8))
        {
            problems.Add(RegistryProblem.AtOffset(512, "old-format log has no \"DIRT\" dirty vector"));
            return pages;
        }
        var bits = baseBlock.HiveBinsDataSize / 512;
        var bitmapBytes = (int)Math.Min((bits + 7) / 8, (uint)(data.Length - 516));
        var bitmap = data.AsSpan(516, bitmapBytes);
        // Pages start at the first sector after the dirty vector.
        var position = (516 + bitmapBytes + 511) / 512 * 512;
        for (var bit = 0; bit < bitmapBytes * 8 && bit < bits; bit++)
        {
            if ((bitmap[bit / 8] & (1 << (bit % 8))) == 0) continue;
            if (position + 512 > data.Length)
            {
                problems.Add(RegistryProblem.AtOffset(position, "log ends before all dirty pages named by its bitmap"));
                break;
            }
            pages.Add(new DirtyPage((uint)bit * 512, 512, position));
            position += 512;
        }
        return pages;
    }
}
