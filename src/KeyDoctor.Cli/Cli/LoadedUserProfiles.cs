using System.Runtime.Versioning;
using KeyDoctor.Machine.Collection;

namespace KeyDoctor.Cli;

/// <summary>
/// Every user profile of ProfileList (S-1-5-21-...), whose key and master-key folders collect gathers, and whether
/// its registry hive is loaded now (HKEY_USERS\SID), which reg save then takes too.
/// </summary>
internal static class LoadedUserProfiles
{
    [SupportedOSPlatform("windows")]
    public static IReadOnlyList<UserProfile> Read()
    {
        var profiles = new List<UserProfile>();
        using var users = Microsoft.Win32.Registry.Users;
        var loaded = users.GetSubKeyNames().ToHashSet(StringComparer.OrdinalIgnoreCase);
        using var profileList = Microsoft.Win32.Registry.LocalMachine.OpenSubKey(@"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList");
        foreach (var sid in (profileList?.GetSubKeyNames() ?? []).Order(StringComparer.OrdinalIgnoreCase))
        {
            if (!sid.StartsWith("S-1-5-21-", StringComparison.Ordinal)) continue;
            using var profile = profileList!.OpenSubKey(sid);
            if (profile?.GetValue("ProfileImagePath") is not string path) continue;
            var expanded = Environment.ExpandEnvironmentVariables(path);
            profiles.Add(new UserProfile(Path.GetFileName(expanded), sid, expanded, HiveLoaded: loaded.Contains(sid)));
        }
        return profiles;
    }
}
