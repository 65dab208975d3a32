namespace KeyDoctor.Machine;

/// <summary>
/// A machine laid out as a folder: an image (a mounted or copied system drive), or an extracted bundle whose
/// manifest adds NTFS metadata. Files are only ever opened for reading.
/// </summary>
public sealed class FolderMachineSource : IMachineSource
{
    private readonly CaseInsensitivePathResolver _resolver;
    private readonly Dictionary<string, BundleEntry>? _metadata;
    private readonly Action? _onDispose;

    public FolderMachineSource(string root, MachineSourceKind kind, string description,
                               BundleManifest? manifest = null, Action? onDispose = null)
    {
        if (!Directory.Exists(root)) throw new InputPathException($"there is no folder {root}: check the path.");
        _resolver = new CaseInsensitivePathResolver(root);
        Kind = kind;
        Description = description;
        _onDispose = onDispose;
        Manifest = manifest;
        if (manifest is not null)
        {
            _metadata = new Dictionary<string, BundleEntry>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in manifest.Files.Concat(manifest.Directories))
                _metadata[WindowsPaths.Normalize(entry.Path)] = entry;
            Info = new MachineInfo
            {
                HostName = manifest.HostName,
                OsVersion = manifest.OsVersion,
                CollectedUtc = manifest.CreatedUtc,
                ToolVersion = manifest.ToolVersion,
            };
        }
    }

    public MachineSourceKind Kind { get; }
    public string Description { get; }
    public MachineInfo Info { get; } = MachineInfo.Unknown;
    public BundleManifest? Manifest { get; }
    public bool HasSecurityMetadata => _metadata is not null;
    public IReadOnlyList<CollectionProblem> CollectionProblems => Manifest?.Problems ?? [];
    public string Root => _resolver.Root;

    public MachineFile? GetFile(string path)
    {
        var local = _resolver.Resolve(path);
        if (local is null || !File.Exists(local)) return null;
        return Describe(RelativePath(local), new FileInfo(local));
    }

    public bool DirectoryExists(string path)
    {
        var local = _resolver.Resolve(path);
        return local is not null && Directory.Exists(local);
    }

    public IEnumerable<MachineFile> EnumerateFiles(string directory)
    {
        var local = _resolver.Resolve(directory);
        if (local is null || !Directory.Exists(local)) yield break;
        var relative = RelativePath(local);
        // Sorted by name: checks, diffs and reports see files in the same order on every run and OS. Only the names
        // are held; each file's metadata is read as it is reached.
        foreach (var file in Directory.EnumerateFiles(local).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            if (!info.Exists) continue; // deleted since it was listed
            yield return Describe(WindowsPaths.Combine(relative, info.Name), info);
        }
    }

    public IEnumerable<string> EnumerateDirectories(string directory)
    {
        var local = _resolver.Resolve(directory);
        if (local is null || !Directory.Exists(local)) return [];
        return Directory.EnumerateDirectories(local).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
    }

    public Stream OpenRead(string path)
    {
        var local = GetLocalPath(path) ?? throw new FileNotFoundException($"not in {Description}: {path}", path);
        return new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
    }

    public string? GetLocalPath(string path)
    {
        var local = _resolver.Resolve(path);
        return local is not null && File.Exists(local) ? local : null;
    }

    public string? GetLocalDirectory(string path)
    {
        var local = _resolver.Resolve(path);
        return local is not null && Directory.Exists(local) ? local : null;
    }

    /// <summary>Metadata recorded for a folder (bundles only).</summary>
    public MachineFile? GetDirectoryMetadata(string path)
    {
        if (_metadata is null || !_metadata.TryGetValue(WindowsPaths.Normalize(path), out var entry)) return null;
        return new MachineFile(entry.Path, 0)
        {
            IsDirectory = true, Attributes = entry.Attributes, Sddl = entry.Sddl,
            Created = entry.Created, LastWritten = entry.LastWritten,
        };
    }

    public void Dispose() => _onDispose?.Invoke();

    private string RelativePath(string local) =>
        WindowsPaths.Normalize(Path.GetRelativePath(_resolver.Root, local));

    private MachineFile Describe(string windowsPath, FileInfo info)
    {
        BundleEntry? entry = null;
        _metadata?.TryGetValue(windowsPath, out entry);
        return new MachineFile(windowsPath, info.Length)
        {
            Created = entry?.Created ?? info.CreationTimeUtc,
            LastWritten = entry?.LastWritten ?? info.LastWriteTimeUtc,
            Attributes = entry?.Attributes,
            Sddl = entry?.Sddl,
            Sha256 = entry?.Sha256,
        };
    }
}
