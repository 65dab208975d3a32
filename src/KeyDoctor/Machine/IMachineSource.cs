namespace KeyDoctor.Machine;

public enum MachineSourceKind
{
    /// <summary>A folder laid out like a system drive (a mounted or copied disk).</summary>
    Image,

    /// <summary>A zip written by <c>keydoctor collect</c> or <c>keydoctor snapshot</c>, with a manifest.</summary>
    Bundle,

    /// <summary>The Windows machine KeyDoctor runs on.</summary>
    Live,
}

/// <summary>
/// One read-only view of a Windows machine's files. Paths are Windows paths relative to the system drive root
/// (<see cref="WindowsPaths"/>), looked up case-insensitively. No member writes to the source.
/// </summary>
public interface IMachineSource : IDisposable
{
    MachineSourceKind Kind { get; }

    /// <summary>What the user pointed at, for reports ("image /mnt/server", "bundle web01.zip").</summary>
    string Description { get; }

    /// <summary>Facts about the machine recorded at collection time; empty for a plain image.</summary>
    MachineInfo Info { get; }

    /// <summary>True when files carry NTFS attributes and ACLs (bundles); false for plain images.</summary>
    bool HasSecurityMetadata { get; }

    /// <summary>Files the collector could not read (locked, access denied), as recorded in the manifest.</summary>
    IReadOnlyList<CollectionProblem> CollectionProblems { get; }

    MachineFile? GetFile(string path);

    bool DirectoryExists(string path);

    /// <summary>Streams the files of a folder (not recursive); empty when the folder does not exist.</summary>
    IEnumerable<MachineFile> EnumerateFiles(string directory);

    /// <summary>Names of the sub-folders of a folder; empty when it does not exist.</summary>
    IEnumerable<string> EnumerateDirectories(string directory);

    /// <summary>Opens a file for reading only. Throws <see cref="FileNotFoundException"/> when missing.</summary>
    Stream OpenRead(string path);

    /// <summary>
    /// The path of the file on the local file system, for readers that need random access (hives, event logs);
    /// null when it does not exist.
    /// </summary>
    string? GetLocalPath(string path);

    /// <summary>The local path of a folder, for readers that stream a whole folder (key stores); null when missing.</summary>
    string? GetLocalDirectory(string path);
}

/// <summary>Facts about the collected machine, from the bundle manifest.</summary>
public sealed record MachineInfo
{
    public string? HostName { get; init; }
    public string? OsVersion { get; init; }
    public DateTimeOffset? CollectedUtc { get; init; }
    public string? ToolVersion { get; init; }
    public static MachineInfo Unknown { get; } = new();
}

/// <summary>A file the collector saw but could not copy, and why.</summary>
public sealed record CollectionProblem(string Path, string Reason);
