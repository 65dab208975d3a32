using System.Runtime.Versioning;
using System.Security.AccessControl;
using System.Security.Principal;
using KeyDoctor.Machine.Tools;

namespace KeyDoctor.Machine.Collection;

/// <summary>The live Windows machine, for <c>keydoctor collect</c> and <c>keydoctor snapshot</c>.</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsCollectionHost(IProcessRunner? runner = null) : ICollectionHost
{
    private readonly WindowsTools _tools = new(runner ?? SystemProcessRunner.Instance);

    public bool IsElevated
    {
        get
        {
            using var identity = WindowsIdentity.GetCurrent();
            return new WindowsPrincipal(identity).IsInRole(WindowsBuiltInRole.Administrator);
        }
    }

    public string HostName => Environment.MachineName;
    public string OsVersion => Environment.OSVersion.VersionString;

    public bool DirectoryExists(string path) => Directory.Exists(path);
    public bool FileExists(string path) => File.Exists(path);

    public IEnumerable<string> EnumerateFiles(string directory, bool recursive) =>
        Directory.EnumerateFiles(directory, "*", new EnumerationOptions
        {
            RecurseSubdirectories = recursive,
            AttributesToSkip = 0, // Key files are often hidden or system: collect them all.
            IgnoreInaccessible = false,
        });

    public Stream OpenRead(string path) =>
        new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    public CollectedMetadata Describe(string path)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        return new CollectedMetadata((NtfsAttributes)(int)info.Attributes, ReadSddl(info),
            info.CreationTimeUtc, info.LastWriteTimeUtc);
    }

    public void SaveRegistryHive(string key, string destinationFile) => _tools.SaveRegistryHive(key, destinationFile);

    public void ExportEventLog(string log, string destinationFile, DateTimeOffset? since) =>
        _tools.ExportEventLog(log, destinationFile, since);

    // The SACL needs SeSecurityPrivilege; without it, record owner, group and DACL, which is what KD1004 checks.
    private static string? ReadSddl(FileSystemInfo info)
    {
        try
        {
            FileSystemSecurity security = info is DirectoryInfo d
                ? d.GetAccessControl(AccessControlSections.Access | AccessControlSections.Owner | AccessControlSections.Group)
                : ((FileInfo)info).GetAccessControl(AccessControlSections.Access | AccessControlSections.Owner | AccessControlSections.Group);
            return security.GetSecurityDescriptorSddlForm(AccessControlSections.Access | AccessControlSections.Owner | AccessControlSections.Group);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or PrivilegeNotHeldException or IOException)
        {
            return null;
        }
    }
}
