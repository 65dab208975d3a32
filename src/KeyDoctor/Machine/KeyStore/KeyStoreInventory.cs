using KeyDoctor.Formats;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// What `keys list` reads: the key folders under a path (one folder, or MachineKeys, Keys and SystemKeys of an image
/// root, in that order), each listed by name, and the MachineGuid to check file-name suffixes against. Reports come
/// folder by folder, sorted by file name: the same bytes every run, on every OS.
/// </summary>
public sealed class KeyStoreInventory
{
    private KeyStoreInventory(IReadOnlyList<KeyStoreListing> folders, Guid? machineGuid, IReadOnlyList<string> notes,
        FolderMachineSource? collected)
    {
        Folders = folders;
        MachineGuid = machineGuid;
        Notes = notes;
        _collected = collected;
    }

    private readonly FolderMachineSource? _collected;

    public IReadOnlyList<KeyStoreListing> Folders { get; }

    /// <summary>The MachineGuid suffixes are checked against: the one given, else the image's own; null when neither.</summary>
    public Guid? MachineGuid { get; }

    /// <summary>Where the MachineGuid came from, or why it could not be read (for stderr).</summary>
    public IReadOnlyList<string> Notes { get; }

    public long FileCount => Folders.Sum(f => (long)f.FileCount);

    /// <summary>Stores found but not listable (each has a note): the listing is incomplete.</summary>
    public int Unlisted { get; private init; }

    /// <param name="collected">
    /// The bundle <paramref name="path"/> lies in (extracted, or its folder kept with the manifest): its files were
    /// extracted or copied after collection, so their times are the ones its manifest recorded.
    /// </param>
    /// <exception cref="IOException">The path is a file or does not exist.</exception>
    public static KeyStoreInventory Open(string path, Guid? machineGuid, FolderMachineSource? collected = null,
        CancellationToken cancellationToken = default)
    {
        var folders = KeyStoreFolder.Locate(path);
        var notes = new List<string>();
        machineGuid ??= MachineGuidOfImage(path, notes, collected is null ? "the image's" : "the bundle's");
        var listings = ReadListings(folders, notes, cancellationToken);
        return new KeyStoreInventory(listings, machineGuid, notes, collected) { Unlisted = folders.Count - listings.Count };
    }

    /// <summary>
    /// Every store found, listed by name. Of several stores, one that cannot be listed (SystemKeys is SYSTEM's on a
    /// live server) is a note and the others are still read; a single store that cannot be listed is the error.
    /// </summary>
    private static List<KeyStoreListing> ReadListings(IReadOnlyList<KeyStoreFolder> folders, List<string> notes, CancellationToken cancellationToken)
    {
        var listings = new List<KeyStoreListing>();
        foreach (var folder in folders)
        {
            try
            {
                listings.Add(KeyStoreListing.Read(folder, cancellationToken));
            }
            catch (Exception ex) when (folders.Count > 1 && ex is UnauthorizedAccessException or IOException)
            {
                notes.Add($"keydoctor: {folder.Path} could not be listed ({ex.Message.TrimEnd('.')}); its key files are not shown. " +
                          "Run elevated (SystemKeys is readable by SYSTEM only on some servers).");
            }
        }
        return listings;
    }

    /// <summary>Every file's report, folder by folder, each sorted by file name; read on all cores.</summary>
    public IEnumerable<KeyFileReport> Reports(int workers = 0, CancellationToken cancellationToken = default)
    {
        var options = new KeyStoreScanOptions { MachineGuid = MachineGuid, Workers = workers <= 0 ? Environment.ProcessorCount : workers };
        var reports = Folders.SelectMany(f => f.Scan(options, cancellationToken));
        return _collected is null ? reports : reports.Select(r => AsCollected(r, _collected));
    }

    /// <summary>
    /// A report of a file read from a bundle, with the times the manifest recorded on the server (extracting gave the
    /// file new ones).
    /// </summary>
    public static KeyFileReport AsCollected(KeyFileReport report, FolderMachineSource bundle)
    {
        var recorded = bundle.GetFile(WindowsPaths.Normalize(Path.GetRelativePath(bundle.Root, report.Path)));
        return report with
        {
            CreatedUtc = recorded?.Created?.UtcDateTime ?? report.CreatedUtc,
            ModifiedUtc = recorded?.LastWritten?.UtcDateTime ?? report.ModifiedUtc,
        };
    }

    /// <summary>
    /// An image root carries its own MachineGuid in SOFTWARE (hive or registry\*.reg): use it, so GUID suffixes are
    /// checked without the admin having to look it up. A damaged hive only loses that check.
    /// </summary>
    private static Guid? MachineGuidOfImage(string path, List<string> notes, string whose)
    {
        if (!Directory.Exists(path) || KeyStoreFolder.KindFromName(path) is not null) return null;
        try
        {
            var text = WindowsRegistry.OpenImage(path).MachineGuid;
            if (text is null) return null;
            if (Guid.TryParse(text, out var guid))
            {
                notes.Add($"MachineGuid {guid:D} (from {whose} SOFTWARE registry)");
                return guid;
            }
            notes.Add($"keydoctor: {whose} MachineGuid '{text}' is not a GUID; suffixes are not checked");
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException)
        {
            notes.Add($"keydoctor: MachineGuid not read from {whose} registry ({ex.Message}); suffixes are not checked");
        }
        return null;
    }
}
