using System.Security.AccessControl;
using System.Security.Principal;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>Writes files that hold private keys so only the current user can read them.</summary>
public static class OwnerOnlyFile
{
    /// <summary>Creates <paramref name="path"/> (never overwriting) with mode 0600, or an ACL for the current user only on Windows.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        {
            if (OperatingSystem.IsWindows()) RestrictToCurrentUser(stream);
            stream.Write(content);
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static void RestrictToCurrentUser(FileStream stream)
    {
        var user = WindowsIdentity.GetCurrent().User ?? throw new InvalidOperationException("no current user SID");
        var security = new FileSecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        security.AddAccessRule(new FileSystemAccessRule(user, FileSystemRights.FullControl, AccessControlType.Allow));
        stream.SetAccessControl(security);
    }
}
