namespace KeyDoctor.Formats.Registry;

public enum RegExportVersion
{
    /// <summary>"REGEDIT4": ANSI text; hex(2)/hex(7) strings are single-byte.</summary>
    Regedit4,

    /// <summary>"Windows Registry Editor Version 5.00": UTF-16LE with a BOM.</summary>
    Regedit5,
}

/// <summary>
/// The tree a .reg export describes, behind the same interface as a hive. Its root is unnamed; its children are the
/// root keys named in the file (HKEY_LOCAL_MACHINE, ...). <see cref="Subtree"/> gives the hive-shaped view of one
/// key, e.g. <c>HKEY_LOCAL_MACHINE\SOFTWARE</c> answers what the SOFTWARE hive would.
/// </summary>
public sealed class RegExportFile : IRegistryHive
{
    private readonly MemoryKey _root;

    internal RegExportFile(string source, RegExportVersion version, MemoryKey root, IReadOnlyList<RegistryProblem> problems,
        IReadOnlyList<string> deletedKeys)
    {
        Source = source;
        Version = version;
        _root = root;
        Problems = problems;
        DeletedKeys = deletedKeys;
    }

    public string Source { get; }
    public RegExportVersion Version { get; }
    public RegistryKey Root => _root;
    public IReadOnlyList<RegistryProblem> Problems { get; }

    /// <summary>Keys the file deletes ("[-HKEY_...]" lines), full paths as written.</summary>
    public IReadOnlyList<string> DeletedKeys { get; }

    /// <summary>A key by full path; HKLM, HKCU, HKCR, HKU and HKCC are accepted for the root names.</summary>
    public RegistryKey? OpenKey(string path) => _root.OpenKey(RegExportReader.ExpandRootName(path.Trim().Trim('\\')));

    /// <summary>A hive-shaped view rooted at <paramref name="path"/>, or null when the file has no such key.</summary>
    public IRegistryHive? Subtree(string path) =>
        OpenKey(path) is { } key ? new SubtreeHive($"{Source} [{key.Path}]", key, Problems) : null;
}
