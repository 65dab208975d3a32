namespace KeyDoctor.Machine.Collection;

/// <summary>
/// Collects from an offline image (a mounted or copied system drive) instead of the live machine, so a
/// snapshot can be taken of a disk from a server that does not boot, on any OS. Hives and event logs are
/// copied as files; NTFS attributes and ACLs are not available and are recorded as unknown.
/// </summary>
public sealed class ImageCollectionHost(string imageRoot, string hostName = "image") : ICollectionHost
{
    private readonly CaseInsensitivePathResolver _resolver = new(imageRoot);

    public bool IsElevated => true;
    public string HostName { get; } = hostName;
    public string OsVersion => "offline image";

    public bool DirectoryExists(string path) => Local(path) is { } local && Directory.Exists(local);
    public bool FileExists(string path) => Local(path) is { } local && File.Exists(local);

    public IEnumerable<string> EnumerateFiles(string directory, bool recursive)
    {
        var local = Local(directory) ?? throw new DirectoryNotFoundException(directory);
        var prefix = directory.TrimEnd('\\');
        foreach (var file in Directory.EnumerateFiles(local, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
            yield return prefix + "\\" + Path.GetRelativePath(local, file).Replace('/', '\\');
    }

    public Stream OpenRead(string path)
    {
        var local = Local(path) ?? throw new FileNotFoundException(path);
        return new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
    }

    public CollectedMetadata Describe(string path)
    {
        var local = Local(path);
        if (local is null) return new CollectedMetadata(NtfsAttributes.None, null, null, null);
        FileSystemInfo info = Directory.Exists(local) ? new DirectoryInfo(local) : new FileInfo(local);
        return new CollectedMetadata(NtfsAttributes.None, null, info.CreationTimeUtc, info.LastWriteTimeUtc);
    }

    public void SaveRegistryHive(string key, string destinationFile)
    {
        var hive = key.StartsWith(@"HKLM\", StringComparison.OrdinalIgnoreCase)
            ? $@"{WindowsPaths.ConfigHives}\{key[5..]}"
            : throw new IOException($"{key} is not a file in an offline image");
        Copy(hive, destinationFile);
    }

    public void ExportEventLog(string log, string destinationFile, DateTimeOffset? since) =>
        Copy($@"{WindowsPaths.EventLogs}\{log.Replace('/', '%')}.evtx", destinationFile);

    private void Copy(string relative, string destination)
    {
        var local = _resolver.Resolve(relative) ?? throw new FileNotFoundException($"not in the image: {relative}");
        File.Copy(local, destination);
    }

    // Live paths look like "C:\ProgramData\..."; an image is the drive's root.
    private string? Local(string path)
    {
        var relative = path.Length >= 2 && path[1] == ':' ? path[2..] : path;
        return _resolver.Resolve(relative);
    }
}
