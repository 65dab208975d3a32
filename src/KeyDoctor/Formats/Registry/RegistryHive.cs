using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A registry hive file (regf) read into one array and decoded lazily from it. Dirty hives are recovered in
/// memory from their transaction logs (the files are never written); damaged cells are reported in
/// <see cref="Problems"/> and skipped, so the rest of the tree stays readable.
/// </summary>
public sealed class RegistryHive : IRegistryHive
{
    /// <summary>Largest hive accepted. Windows caps hives far below this; a bigger file is not a hive.</summary>
    public const long MaxFileSize = ReaderLimits.HiveMaxFileBytes;

    // The hive's bytes: an array (read or recovered here), or memory the caller holds, such as a mapped file.
    // Cells are read through the array when there is one: the hot path is one span per cell.
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly byte[]? _array;
    private readonly int _arrayOffset;
    private readonly int _binsLength;
    private readonly int[] _pageBinStart;
    private readonly int[] _pageBinEnd;
    private readonly List<RegistryProblem> _problems = [];
    private readonly HashSet<(long, string)> _seen = [];
    private readonly Lock _problemLock = new();

    private RegistryHive(ReadOnlyMemory<byte> data, string source, BaseBlock baseBlock, BaseBlock originalBaseBlock, LogRecovery? recovery,
        IEnumerable<RegistryProblem> earlyProblems)
    {
        _memory = data;
        if (MemoryMarshal.TryGetArray(data, out var segment))
        {
            _array = segment.Array;
            _arrayOffset = segment.Offset;
        }
        Source = source;
        BaseBlock = baseBlock;
        OriginalBaseBlock = originalBaseBlock;
        Recovery = recovery;
        foreach (var problem in earlyProblems) Add(problem);

        var available = data.Length - BaseBlock.Size;
        var declared = baseBlock.HiveBinsDataSize;
        if (declared % HiveBin.PageSize != 0)
            Report(BaseBlock.Size, $"hive bins data size 0x{declared:X} is not a multiple of 4096", absolute: true);
        if (declared > available)
            Report(40, $"base block declares 0x{declared:X} bytes of hive bins but the file holds 0x{available:X} (truncated)", absolute: true);
        _binsLength = (int)Math.Min(declared, (uint)available) & ~(HiveBin.PageSize - 1);

        var pages = _binsLength / HiveBin.PageSize;
        _pageBinStart = new int[pages];
        _pageBinEnd = new int[pages];
        MapBins(pages);

        if (!TryGetCell(baseBlock.RootCellOffset, out var rootCell, out var reason))
            throw new MalformedDataException(BaseBlock.Format, BaseBlock.Size + (long)baseBlock.RootCellOffset, $"root key unreadable: {reason}");
        var rootReason = KeyNode.TryParse(Span(rootCell), out var rootNode);
        if (rootReason is not null)
            throw new MalformedDataException(BaseBlock.Format, BaseBlock.Size + (long)baseBlock.RootCellOffset, $"root key unreadable: {rootReason}");
        if ((rootNode.Flags & KeyNode.FlagHiveEntry) == 0)
            Report(baseBlock.RootCellOffset, "root key node lacks the HIVE_ENTRY flag (root cell offset may point to an ordinary key)");
        Root = new HiveKey(this, rootCell, parent: null, depth: 0);
    }

    public string Source { get; }

    /// <summary>The base block in effect (after log recovery, when logs were applied).</summary>
    public BaseBlock BaseBlock { get; }

    /// <summary>The base block as found in the file, before any recovery.</summary>
    public BaseBlock OriginalBaseBlock { get; }

    /// <summary>True when the file on disk was dirty (wrong checksum or unequal sequence numbers).</summary>
    public bool WasDirty => OriginalBaseBlock.IsDirty;

    /// <summary>What log replay did (null when the hive was clean or no logs were offered).</summary>
    public LogRecovery? Recovery { get; }

    public RegistryKey Root { get; }

    public IReadOnlyList<RegistryProblem> Problems
    {
        get { lock (_problemLock) return _problems.ToArray(); }
    }

    /// <summary>The hive bytes as read (base block first), after in-memory log recovery.</summary>
    public ReadOnlyMemory<byte> Bytes => _memory;

    public RegistryKey? OpenKey(string path) => RegistryKey.OpenFromRoot(Root, path);

    /// <summary>
    /// Opens a hive file read-only. Transaction logs beside it (NAME.LOG, NAME.LOG1, NAME.LOG2, any letter case)
    /// are read too and, when the hive is dirty, replayed in memory.
    /// </summary>
    public static RegistryHive Open(string path, bool replayLogs = true)
    {
        var data = MalformedDataException.FromFile(path, () => ReadFile(path));
        return Open(path, data, replayLogs, writable: data);
    }

    /// <summary>
    /// As <see cref="Open(string, bool)"/> over bytes of the file the caller already holds (a memory-mapped view, for
    /// a big hive read once). They must stay valid while the hive is used; log recovery works on a copy.
    /// </summary>
    public static RegistryHive Open(string path, ReadOnlyMemory<byte> contents, bool replayLogs = true) =>
        Open(path, contents, replayLogs, writable: null);

    private static RegistryHive Open(string path, ReadOnlyMemory<byte> contents, bool replayLogs, byte[]? writable)
    {
        var logs = new List<TransactionLog>();
        if (replayLogs)
            foreach (var logPath in FindLogs(path))
            {
                var bytes = MalformedDataException.FromFile(logPath, () => ReadFile(logPath));
                if (bytes.Length == 0) continue;
                logs.Add(MalformedDataException.FromFile(logPath, () => TransactionLog.Parse(bytes, Path.GetFileName(logPath))));
            }
        return MalformedDataException.FromFile(path, () => Load(contents, logs, path, writable));
    }

    /// <summary>
    /// Reads a hive from memory. The array is read in place (do not change it afterwards); log recovery works on a
    /// copy, so <paramref name="hive"/> itself is never modified.
    /// </summary>
    public static RegistryHive Load(byte[] hive, IReadOnlyList<TransactionLog>? logs = null, string source = "(memory)") =>
        Load(hive, logs ?? [], source, writable: null);

    /// <param name="writable"><paramref name="data"/>'s own array when this class read it and log replay may write into it; else null (replay works on a copy).</param>
    private static RegistryHive Load(ReadOnlyMemory<byte> data, IReadOnlyList<TransactionLog> logs, string source, byte[]? writable)
    {
        if (data.Length > MaxFileSize)
            throw new MalformedDataException(BaseBlock.Format, 0, $"{data.Length} bytes is larger than any hive ({MaxFileSize})");
        var original = BaseBlock.Parse(data.Span);
        if (original.FileType != 0)
            throw new MalformedDataException(BaseBlock.Format, 28, $"file type {original.FileType} is a transaction log, not a primary hive");
        if (data.Length < BaseBlock.Size + HiveBin.PageSize)
            throw new MalformedDataException(BaseBlock.Format, data.Length, "file ends before the first hive bin");

        var effective = original;
        LogRecovery? recovery = null;
        var problems = new List<RegistryProblem>();
        if (!original.IsChecksumValid)
            problems.Add(RegistryProblem.AtOffset(508, $"base block checksum 0x{original.Checksum:X8} does not match computed 0x{original.ComputedChecksum:X8}"));
        if (original.IsDirty && logs.Count > 0)
        {
            // Replay writes: into the array this class read itself, else into a copy (callers' memory is theirs).
            var working = writable ?? data.ToArray();
            recovery = TransactionLogReplay.Apply(ref working, original, logs);
            data = working;
            effective = BaseBlock.Parse(working);
        }
        else if (original.IsDirty)
        {
            problems.Add(RegistryProblem.AtOffset(4, $"hive is dirty (sequence numbers {original.PrimarySequenceNumber}/{original.SecondarySequenceNumber}) and no transaction log was available: recent changes may be missing"));
        }
        if (recovery is not null)
            foreach (var note in recovery.Problems) problems.Add(note);
        return new RegistryHive(data, source, effective, original, recovery, problems);
    }

    private static byte[] ReadFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > MaxFileSize)
            throw new MalformedDataException(BaseBlock.Format, 0, $"{path}: {stream.Length} bytes is larger than any hive ({MaxFileSize})");
        var data = new byte[stream.Length];
        stream.ReadExactly(data);
        return data;
    }

    /// <summary>Transaction logs of a hive file: LOG1 and LOG2 (new), LOG (old), matched case-insensitively.</summary>
    public static IReadOnlyList<string> FindLogs(string hivePath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(hivePath)) ?? ".";
        var name = Path.GetFileName(hivePath);
        var found = new List<string>();
        foreach (var suffix in new[] { ".LOG1", ".LOG2", ".LOG" })
        {
            var wanted = name + suffix;
            foreach (var file in Directory.EnumerateFiles(directory))
                if (string.Equals(Path.GetFileName(file), wanted, StringComparison.OrdinalIgnoreCase)) { found.Add(file); break; }
        }
        return found;
    }

    // ---- cells -------------------------------------------------------------------------------------------------

    private void MapBins(int pages)
    {
        Array.Fill(_pageBinStart, -1);
        var offset = 0;
        var inBadRegion = false;
        while (offset < _binsLength)
        {
            var header = Slice(BaseBlock.Size + offset, Math.Min(HiveBin.HeaderSize, _binsLength - offset));
            if (HiveBin.TryRead(header, (uint)offset, (uint)(_binsLength - offset), out var bin))
            {
                if (!bin.SignatureValid)
                    Report((uint)offset, "hive bin signature is not \"hbin\" (offset and size fields agree with its position: bin accepted)");
                var end = offset + (int)bin.Size;
                for (var page = offset / HiveBin.PageSize; page < end / HiveBin.PageSize; page++)
                {
                    _pageBinStart[page] = offset;
                    _pageBinEnd[page] = end;
                }
                offset = end;
                inBadRegion = false;
                continue;
            }
            if (!inBadRegion)
                Report((uint)offset, "no valid hive bin here; cells up to the next valid bin are unreadable");
            inBadRegion = true;
            offset += HiveBin.PageSize;
        }
        _ = pages;
    }

    /// <summary>Locates the cell at <paramref name="offset"/> (relative to the hive bins data).</summary>
    internal bool TryGetCell(uint offset, out Cell cell, out string? reason)
    {
        cell = default;
        if (offset == Cell.None) { reason = "no cell (offset 0xFFFFFFFF)"; return false; }
        if (offset >= (uint)_binsLength) { reason = $"cell {FileOffset(offset)} is beyond the hive bins (end {FileOffset((uint)_binsLength)})"; return false; }
        if ((offset & 7) != 0) { reason = $"cell {FileOffset(offset)} is not 8-byte aligned"; return false; }
        var page = (int)(offset / HiveBin.PageSize);
        var binStart = _pageBinStart[page];
        if (binStart < 0) { reason = $"cell {FileOffset(offset)} lies in a damaged region with no valid hive bin"; return false; }
        var binEnd = _pageBinEnd[page];
        if (offset < binStart + HiveBin.HeaderSize) { reason = $"cell {FileOffset(offset)} points into a hive bin header"; return false; }
        if (offset + 4 > binEnd) { reason = $"cell {FileOffset(offset)} leaves no room for a cell size"; return false; }
        var position = BaseBlock.Size + (int)offset;
        var size = BinaryPrimitives.ReadInt32LittleEndian(Slice(position, 4));
        var allocated = size < 0;
        if (size == int.MinValue) { reason = "cell size is invalid"; return false; }
        var length = Math.Abs(size);
        if (length < Cell.MinimumSize) { reason = $"cell size {length} is smaller than any cell"; return false; }
        if (offset + (uint)length > (uint)binEnd) { reason = $"cell of {length} bytes runs past its hive bin (which ends at {FileOffset((uint)binEnd)})"; return false; }
        if (!allocated) Report(offset, "reference to an unallocated (free) cell; read anyway");
        cell = new Cell(offset, position + 4, length - 4, allocated);
        reason = null;
        return true;
    }

    internal ReadOnlySpan<byte> Span(Cell cell) => Slice(cell.Start, cell.Length);

    internal ReadOnlyMemory<byte> Memory(int start, int length) => _memory.Slice(start, length);

    private ReadOnlySpan<byte> Slice(int start, int length) =>
        _array is not null ? _array.AsSpan(_arrayOffset + start, length) : _memory.Span.Slice(start, length);

    /// <summary>Records a problem at a hive-bins-relative offset (deduplicated).</summary>
    internal void Report(uint offset, string reason) => Report(offset, reason, absolute: false);

    private void Report(long offset, string reason, bool absolute) =>
        Add(RegistryProblem.AtOffset(absolute ? offset : BaseBlock.Size + offset, reason));

    private void Add(RegistryProblem problem)
    {
        lock (_problemLock)
            if (_seen.Add((problem.Offset ?? -1, problem.Reason))) _problems.Add(problem);
    }

    internal uint MinorVersion => BaseBlock.MinorVersion;

    /// <summary>A hive-bins-relative offset as the file offset every message uses ("0x1234").</summary>
    internal static string FileOffset(uint relative) => $"0x{BaseBlock.Size + (long)relative:X}";
}
