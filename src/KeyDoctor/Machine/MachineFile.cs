namespace KeyDoctor.Machine;

/// <summary>NTFS attributes that matter to key access, as recorded by <c>keydoctor collect</c>.</summary>
[Flags]
public enum NtfsAttributes
{
    None = 0,
    ReadOnly = 0x1,
    Hidden = 0x2,
    System = 0x4,
    Archive = 0x20,
    Compressed = 0x800,
    Offline = 0x1000,
    Encrypted = 0x4000,
}

/// <summary>
/// A file or folder of the machine. <see cref="Attributes"/> and <see cref="Sddl"/> are null when the source does
/// not know them (an image folder copied to Linux carries no NTFS metadata; a bundle does).
/// </summary>
public sealed record MachineFile(string Path, long Length)
{
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset? LastWritten { get; init; }
    public NtfsAttributes? Attributes { get; init; }

    /// <summary>The security descriptor (owner, DACL, and SACL when collected) in SDDL.</summary>
    public string? Sddl { get; init; }

    /// <summary>SHA-256 recorded at collection time, lower-case hex.</summary>
    public string? Sha256 { get; init; }

    public bool IsDirectory { get; init; }

    public string Name => WindowsPaths.FileName(Path);
}
