using System.IO.Enumeration;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Machine.KeyStore;

public sealed record KeyStoreScanOptions
{
    /// <summary>The machine's MachineGuid; when set, every file-name suffix is checked against it.</summary>
    public Guid? MachineGuid { get; init; }

    /// <summary>Parallel readers; defaults to one per core.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Reports read ahead of the consumer at most: what caps memory, whatever the folder size.</summary>
    public int QueueCapacity { get; init; } = 1024;
}

/// <summary>
/// A key folder's file names, read in one pass without opening any file: sorted by name (the order every listing and
/// check uses, on every OS), with the prefix tally that flags a container found under several MachineGuids.
/// </summary>
public sealed class KeyStoreListing
{
    private readonly FileNameList _names;

    private KeyStoreListing(KeyStoreFolder folder, FileNameList names, PrefixTally tally)
    {
        Folder = folder;
        _names = names;
        Tally = tally;
    }

    public KeyStoreFolder Folder { get; }
    public PrefixTally Tally { get; }
    public int FileCount => _names.Count;

    public static KeyStoreListing Read(KeyStoreFolder folder, CancellationToken cancellationToken = default)
    {
        var names = new FileNameList();
        var tally = new PrefixTally();
        tally.AddFolder(folder.Path, names, cancellationToken);
        names.Sort();
        return new KeyStoreListing(folder, names, tally);
    }

    /// <summary>
    /// Every file's report, in name order. Files are read and classified on <see cref="KeyStoreScanOptions.Workers"/>
    /// threads, each with one reused buffer; at most <see cref="KeyStoreScanOptions.QueueCapacity"/> reports wait.
    /// </summary>
    public IEnumerable<KeyFileReport> Scan(KeyStoreScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KeyStoreScanOptions();
        var folder = Folder;
        var names = _names;
        var tally = Tally;
        var indexes = new IndexList(names.Count);
        return OrderedParallel.Map(indexes,
            () => new byte[KeyFileInspector.MaxKeyFileLength],
            (index, buffer) => KeyStoreScanner.ReadOne(System.IO.Path.Join(folder.Path, names[index]), buffer, folder.Kind,
                options.MachineGuid, tally),
            options.Workers, options.QueueCapacity, cancellationToken);
    }

    /// <summary>0, 1, ..., count - 1 without an array.</summary>
    private sealed class IndexList(int count) : IReadOnlyList<int>
    {
        public int this[int index] => index;
        public int Count => count;
        public IEnumerator<int> GetEnumerator() => Enumerable.Range(0, count).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>
/// Reads a key folder: one name pass (<see cref="KeyStoreListing"/>), then every file on all cores, reports in name
/// order. Memory stays flat from 10 to 5 million files: packed names, a bounded window of reports, a buffer per worker.
/// </summary>
public static class KeyStoreScanner
{
    internal static readonly EnumerationOptions EnumerationOptions = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        // Windows marks some key files System/Hidden; they are still key files.
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <summary>Every file's report, sorted by file name.</summary>
    public static IEnumerable<KeyFileReport> Scan(KeyStoreFolder folder, KeyStoreScanOptions? options = null,
        CancellationToken cancellationToken = default) =>
        KeyStoreListing.Read(folder, cancellationToken).Scan(options, cancellationToken);

    /// <summary>Reads and classifies one file with a caller-owned buffer; IO failures become a report.</summary>
    public static KeyFileReport ReadOne(string path, byte[] buffer, KeyProviderKind? kind, Guid? machineGuid, PrefixTally? tally)
    {
        long length;
        DateTime created, modified;
        int read;
        try
        {
            var info = new FileInfo(path); // one lstat gives length and both times
            length = info.Length;
            created = info.CreationTimeUtc;
            modified = info.LastWriteTimeUtc;
            read = 0;
            if (length > 0 && length <= buffer.Length)
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var wanted = (int)length;
                while (read < wanted)
                {
                    var n = RandomAccess.Read(handle, buffer.AsSpan(read, wanted - read), read);
                    if (n == 0) break; // shrank since the lstat: classify what is there
                    read += n;
                }
                length = read < wanted ? read : length;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new KeyFileReport
            {
                Path = path,
                Kind = kind,
                Problems = [new KeyFileProblem(KeyFileStatus.Unreadable, ex.Message)],
            };
        }

        var report = KeyFileInspector.Inspect(path, buffer.AsMemory(0, read), length, kind, machineGuid).Report;
        report = report with { CreatedUtc = created, ModifiedUtc = modified };
        if (tally is not null && ContainerName.TrySplitFileName(Path.GetFileName(path.AsSpan()), out var prefix, out var guid)
            && guid is { } own && tally.CountOf(prefix) > 1)
        {
            var others = tally.OtherGuids(prefix, own);
            var evidence = $"prefix {ContainerName.Format(prefix)} exists under {tally.CountOf(prefix)} GUIDs; also under "
                           + string.Join(", ", others.Select(g => g.ToString("D")))
                           + (tally.CountOf(prefix) - 1 > others.Count ? ", ..." : "");
            report = report with { Problems = [.. report.Problems, new KeyFileProblem(KeyFileStatus.DuplicateContainer, evidence)] };
        }
        return report;
    }
}

/// <summary>
/// A key folder's file names (packed, sorted by name, no file opened), and a parallel map over its files in that
/// order: for readers that want less than a full report of each file (<c>keys clean</c> reads only headers).
/// </summary>
public sealed class KeyFolderNames
{
    private readonly FileNameList _names;

    private KeyFolderNames(string folder, FileNameList names)
    {
        Folder = folder;
        _names = names;
    }

    public string Folder { get; }
    public int Count => _names.Count;

    /// <summary>The name of the file at <paramref name="index"/> in name order.</summary>
    public string this[int index] => _names[index];

    public static KeyFolderNames Read(string folder, CancellationToken cancellationToken = default)
    {
        // A first pass only counts (no name is copied), so the packed array is allocated once at its size: at
        // millions of files, growing it would hold the old and the new array at once.
        var count = 0;
        var counting = new FileSystemEnumerable<bool>(folder, (ref FileSystemEntry _) => true, KeyStoreScanner.EnumerationOptions)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        foreach (var _ in counting)
            if ((++count & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
        var names = new FileNameList(count + count / 64);
        var entries = new FileSystemEnumerable<bool>(folder, (ref FileSystemEntry entry) =>
            {
                names.Add(entry.FileName);
                return true;
            },
            KeyStoreScanner.EnumerationOptions)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        long seen = 0;
        foreach (var _ in entries)
            if ((++seen & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
        names.Sort();
        return new KeyFolderNames(folder, names);
    }

    /// <summary>
    /// <paramref name="map"/> of every file (its full path and the file name, with a per-worker buffer of
    /// <paramref name="bufferSize"/> bytes), in name order, on <paramref name="workers"/> threads.
    /// </summary>
    public IEnumerable<T> Map<T>(Func<string, string, byte[], T> map, int bufferSize, int workers = 0, int window = 1024,
        CancellationToken cancellationToken = default)
    {
        var folder = Folder;
        var names = _names;
        return OrderedParallel.Map(new Indexes(names.Count), () => new byte[bufferSize],
            (index, buffer) =>
            {
                var name = names[index];
                return map(System.IO.Path.Join(folder, name), name, buffer);
            }, workers, window, cancellationToken);
    }

    /// <summary>
    /// The names at <paramref name="positions"/> (ascending indexes into this folder's name order), made one by one when
    /// read: a plan's list of millions of files without a second copy of the names.
    /// </summary>
    public IReadOnlyList<string> Subset(IReadOnlyList<int> positions) => new NameSubset(_names, positions);

    private sealed class NameSubset(FileNameList names, IReadOnlyList<int> positions) : IReadOnlyList<string>
    {
        public string this[int index] => names[positions[index]];
        public int Count => positions.Count;

        public IEnumerator<string> GetEnumerator()
        {
            for (var i = 0; i < positions.Count; i++) yield return names[positions[i]];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class Indexes(int count) : IReadOnlyList<int>
    {
        public int this[int index] => index;
        public int Count => count;
        public IEnumerator<int> GetEnumerator() => Enumerable.Range(0, count).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
