using System.IO.Enumeration;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// How many GUID suffixes each container prefix has in one folder, built from file names alone (no file is
/// opened). A container present under several GUIDs is what a clone, a sysprep without generalise, or a
/// MachineGuid change leaves behind. Memory is one small entry per distinct prefix (about 50 bytes), plus the
/// GUID list of the few prefixes that repeat.
/// </summary>
public sealed class PrefixTally
{
    /// <summary>At most this many GUIDs are remembered per repeated prefix (the count stays exact).</summary>
    public const int MaxGuidsKept = 8;

    private readonly Dictionary<UInt128, (Guid First, int Count)> _prefixes = [];
    private readonly Dictionary<UInt128, List<Guid>> _repeated = [];

    /// <summary>Files in the folder (all of them, including names without a prefix).</summary>
    public long FileCount { get; private set; }

    /// <summary>Distinct prefixes with a GUID suffix.</summary>
    public int PrefixCount => _prefixes.Count;

    /// <summary>Prefixes that appear under more than one GUID.</summary>
    public int RepeatedPrefixCount => _repeated.Count;

    public static PrefixTally Build(string folder, CancellationToken cancellationToken = default)
    {
        var tally = new PrefixTally();
        tally.AddFolder(folder, null, cancellationToken);
        return tally;
    }

    /// <summary>Tallies the names in <paramref name="folder"/>; every file name also goes to <paramref name="names"/>.</summary>
    internal void AddFolder(string folder, FileNameList? names, CancellationToken cancellationToken)
    {
        var tally = this;
        var entries = new FileSystemEnumerable<(bool Valid, UInt128 Prefix, Guid Guid)>(folder,
            (ref FileSystemEntry entry) =>
            {
                names?.Add(entry.FileName);
                return ContainerName.TrySplitFileName(entry.FileName, out var prefix, out var guid) && guid is { } g
                    ? (true, prefix, g) : (false, default, default);
            },
            KeyStoreScanner.EnumerationOptions)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        foreach (var (valid, prefix, guid) in entries)
        {
            if ((tally.FileCount & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            tally.FileCount++;
            if (valid) tally.Add(prefix, guid);
        }
    }

    public void Add(UInt128 prefix, Guid guid)
    {
        if (!_prefixes.TryGetValue(prefix, out var entry))
        {
            _prefixes[prefix] = (guid, 1);
            return;
        }
        _prefixes[prefix] = (entry.First, entry.Count + 1);
        if (!_repeated.TryGetValue(prefix, out var guids)) _repeated[prefix] = guids = [entry.First];
        // Keep the lowest GUIDs in text order, so which ones are named never depends on directory order.
        var at = guids.BinarySearch(guid, GuidTextOrder.Instance);
        if (at >= 0) return;
        guids.Insert(~at, guid);
        if (guids.Count > MaxGuidsKept) guids.RemoveAt(guids.Count - 1);
    }

    /// <summary>How many GUID suffixes this prefix has (0 when unknown).</summary>
    public int CountOf(UInt128 prefix) => _prefixes.TryGetValue(prefix, out var entry) ? entry.Count : 0;

    /// <summary>The other GUIDs this prefix appears under (up to <see cref="MaxGuidsKept"/>, lowest first in text order).</summary>
    public IReadOnlyList<Guid> OtherGuids(UInt128 prefix, Guid own) =>
        _repeated.TryGetValue(prefix, out var guids) ? guids.Where(g => g != own).ToArray() : [];
}

/// <summary>GUIDs in the order of their "D" text (what a sorted listing shows), not <see cref="Guid.CompareTo(Guid)"/>'s.</summary>
internal sealed class GuidTextOrder : IComparer<Guid>
{
    public static readonly GuidTextOrder Instance = new();

    public int Compare(Guid x, Guid y)
    {
        Span<byte> a = stackalloc byte[16], b = stackalloc byte[16];
        x.TryWriteBytes(a, bigEndian: true, out _);
        y.TryWriteBytes(b, bigEndian: true, out _);
        return a.SequenceCompareTo(b);
    }
}
