using System.Runtime.Versioning;
using KeyDoctor.Machine.Collection;

namespace KeyDoctor.Cli;

/// <summary>Users whose registry hive is loaded now (HKEY_USERS\S-1-5-21-...), whose key folders collect gathers.</summary>
internal static class LoadedUserProfiles
{
    [SupportedOSPlatform("windows")]
    public static IReadOnlyList<UserProfile> Read()
    {
        var profiles = new List<UserProfile>();
        using var users = Microsoft.Win32.Registry.Users;
        using var profileList = Microsoft.Win32.Registry.LocalMachine.OpenSubKey(@"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList");
        foreach (var sid in users.GetSubKeyNames())
        {
            if (!sid.StartsWith("S-1-5-21-", StringComparison.Ordinal) || sid.EndsWith("_Classes", StringComparison.Ordinal)) continue;
            using var profile = profileList?.OpenSubKey(sid);
            if (profile?.GetValue("ProfileImagePath") is not string path) continue;
            var expanded = Environment.ExpandEnvironmentVariables(path);
            profiles.Add(new UserProfile(Path.GetFileName(expanded), sid, expanded));
        }
        return profiles;
    }
}
