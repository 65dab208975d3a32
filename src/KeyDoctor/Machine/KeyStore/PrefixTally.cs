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
        var names = new FileSystemEnumerable<(bool Valid, UInt128 Prefix, Guid Guid)>(folder,
            (ref FileSystemEntry entry) =>
                ContainerName.TrySplitFileName(entry.FileName, out var prefix, out var guid) && guid is { } g
                    ? (true, prefix, g) : (false, default, default),
            KeyStoreScanner.EnumerationOptions)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        foreach (var (valid, prefix, guid) in names)
        {
            if ((tally.FileCount & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            tally.FileCount++;
            if (valid) tally.Add(prefix, guid);
        }
        return tally;
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
        if (guids.Count < MaxGuidsKept) guids.Add(guid);
    }

    /// <summary>How many GUID suffixes this prefix has (0 when unknown).</summary>
    public int CountOf(UInt128 prefix) => _prefixes.TryGetValue(prefix, out var entry) ? entry.Count : 0;

    /// <summary>The other GUIDs this prefix appears under (up to <see cref="MaxGuidsKept"/>).</summary>
    public IReadOnlyList<Guid> OtherGuids(UInt128 prefix, Guid own) =>
        _repeated.TryGetValue(prefix, out var guids) ? guids.Where(g => g != own).ToArray() : [];
}
