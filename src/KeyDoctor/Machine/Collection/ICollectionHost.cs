namespace KeyDoctor.Machine.Collection;

/// <summary>What the collector needs from the machine it runs on. Windows has the real one; tests fake it.</summary>
public interface ICollectionHost
{
    bool IsElevated { get; }
    string HostName { get; }
    string OsVersion { get; }

    bool DirectoryExists(string path);
    bool FileExists(string path);
    IEnumerable<string> EnumerateFiles(string directory, bool recursive);

    /// <summary>Opens for reading while other processes keep the file open (FileShare.ReadWrite | Delete).</summary>
    Stream OpenRead(string path);

    /// <summary>Attributes, ACL as SDDL, and times of a file or folder.</summary>
    CollectedMetadata Describe(string path);

    /// <summary>Runs <c>reg save KEY FILE /y</c>.</summary>
    void SaveRegistryHive(string key, string destinationFile);

    /// <summary>Runs <c>wevtutil epl LOG FILE [/q:filter]</c>.</summary>
    void ExportEventLog(string log, string destinationFile, DateTimeOffset? since);
}

public sealed record CollectedMetadata(NtfsAttributes Attributes, string? Sddl, DateTimeOffset? Created, DateTimeOffset? LastWritten);
