using System.Security.AccessControl;
using System.Security.Principal;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>Writes files that hold private keys so only the current user can read them.</summary>
public static class OwnerOnlyFile
{
    /// <summary>Creates <paramref name="path"/> (never overwriting) with mode 0600, or an ACL for the current user only on Windows.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        using (var stream = new FileStream(path, Options(FileMode.CreateNew, FileShare.None)))
        {
            if (OperatingSystem.IsWindows()) RestrictToCurrentUser(stream);
            stream.Write(content);
        }
    }

    /// <summary>Write options whose new file gets mode 0600 (elsewhere than Windows, where the folder's ACL applies).</summary>
    public static FileStreamOptions Options(FileMode mode, FileShare share = FileShare.Read)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = share };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    /// <summary>Creates a folder (and its parents) only the current user can enter: mode 0700, or an inherited current-user ACL on Windows.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) CreateDirectoryForCurrentUser(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static void CreateDirectoryForCurrentUser(string path)
    {
        var security = new DirectorySecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        security.AddAccessRule(new FileSystemAccessRule(CurrentUser(), FileSystemRights.FullControl,
            InheritanceFlags.ContainerInherit | InheritanceFlags.ObjectInherit, PropagationFlags.None, AccessControlType.Allow));
        new DirectoryInfo(path).Create(security);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static SecurityIdentifier CurrentUser() => WindowsIdentity.GetCurrent().User ?? throw new InvalidOperationException("no current user SID");

    /// <summary>Gives an open file a protected DACL for the current user only (Windows).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    public static void RestrictToCurrentUser(FileStream stream)
    {
        var user = CurrentUser();
        var security = new FileSecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        security.AddAccessRule(new FileSystemAccessRule(user, FileSystemRights.FullControl, AccessControlType.Allow));
        stream.SetAccessControl(security);
    }
}
