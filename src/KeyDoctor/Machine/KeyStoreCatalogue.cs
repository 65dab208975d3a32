using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine;

/// <summary>Whose keys a key store holds.</summary>
public enum KeyStoreOwner
{
    /// <summary>The machine key set (CRYPT_MACHINE_KEYSET / NCRYPT_MACHINE_KEY_FLAG): MachineKeys, Crypto\Keys.</summary>
    Machine,

    /// <summary>LocalSystem's own key set (RSA\S-1-5-18, SystemKeys): what a key link without the machine flag opens in a SYSTEM service.</summary>
    LocalSystem,

    LocalService,
    NetworkService,

    /// <summary>A person's (or a service account's) profile.</summary>
    User,
}

/// <summary>One folder of key files, whose keys it holds and, for a user or service store, the account and profile.</summary>
public sealed record KeyStoreLocation(string Path, KeyProviderKind Kind, KeyStoreOwner Owner, string? Sid = null, string? Profile = null)
{
    public bool IsMachine => Owner == KeyStoreOwner.Machine;

    /// <summary>The store as a sentence part: "the machine store", "LocalService's store (S-1-5-19)", "the user store of S-1-5-21-… (Users\alice)".</summary>
    public string Describe() => Owner switch
    {
        KeyStoreOwner.Machine => "the machine store",
        KeyStoreOwner.User => $"the user store of {Sid ?? "an unknown SID"}" + (Profile is null ? "" : $" ({Profile})"),
        _ => $"{Owner}'s own store ({Sid})",
    };
}

/// <summary>A folder of DPAPI master keys, the account whose blobs they open and, for a profile's folder, the profile.</summary>
public sealed record MasterKeyFolder(string Path, KeyStoreOwner Owner, string Sid, string? Profile = null);

/// <summary>
/// A user profile: from the registry's ProfileList (SID and path, even when the folder is gone), or found as a folder
/// under the profiles folder (its SIDs from the key and master-key folders inside).
/// </summary>
public sealed record UserProfileLocation(string Path, string? Sid, bool Present, bool InProfileList)
{
    public string UserName => WindowsPaths.FileName(Path);
}

/// <summary>An entry of HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList.</summary>
public sealed record ProfileListEntry(string Sid, string ProfileImagePath);

/// <summary>
/// Every key-store folder of one machine in one place, for its <see cref="WindowsLayout"/>: the machine stores
/// (CryptoAPI MachineKeys, CNG Keys), LocalSystem's (RSA\S-1-5-18, SystemKeys), LocalService's and NetworkService's
/// profiles, and each user profile's CryptoAPI (RSA\&lt;SID&gt;) and CNG stores, with the DPAPI master-key folders that
/// open them. <c>scan</c> reads the folders from here, so a Server 2003 disk and a Server 2022 bundle are searched
/// alike. Folders that do not exist are listed too (a caller asks the source); the order is fixed: machine,
/// LocalSystem, services, users by path.
/// </summary>
public sealed class KeyStoreCatalogue
{
    private KeyStoreCatalogue(WindowsLayout layout, List<KeyStoreLocation> stores, List<MasterKeyFolder> masterKeys,
                              List<UserProfileLocation> profiles)
    {
        Layout = layout;
        Stores = stores;
        MasterKeyFolders = masterKeys;
        Profiles = profiles;
    }

    public WindowsLayout Layout { get; }

    /// <summary>Every key store: machine, LocalSystem, LocalService, NetworkService, then users.</summary>
    public IReadOnlyList<KeyStoreLocation> Stores { get; }

    /// <summary>Every DPAPI master-key folder: LocalSystem's (S-1-5-18 and S-1-5-18\User), the services', the users'.</summary>
    public IReadOnlyList<MasterKeyFolder> MasterKeyFolders { get; }

    /// <summary>User profiles (not service accounts), present or named by ProfileList only.</summary>
    public IReadOnlyList<UserProfileLocation> Profiles { get; }

    public IEnumerable<KeyStoreLocation> MachineStores => Stores.Where(s => s.IsMachine);

    /// <summary>CryptoAPI MachineKeys of this layout.</summary>
    public KeyStoreLocation MachineCapi => Stores.First(s => s is { IsMachine: true, Kind: KeyProviderKind.Capi });

    /// <summary>CNG Crypto\Keys of this layout.</summary>
    public KeyStoreLocation MachineCng => Stores.First(s => s is { IsMachine: true, Kind: KeyProviderKind.Cng });

    /// <summary>The machine-level stores a scan inventories in full: the machine's and LocalSystem's.</summary>
    public IEnumerable<KeyStoreLocation> SystemStores => Stores.Where(s => s.Owner is KeyStoreOwner.Machine or KeyStoreOwner.LocalSystem);

    /// <summary>The store <paramref name="path"/> (a key file or a folder) is in, or null.</summary>
    public KeyStoreLocation? StoreOf(string path)
    {
        var normalized = WindowsPaths.Normalize(path);
        return Stores.Where(s => normalized.Equals(s.Path, StringComparison.OrdinalIgnoreCase)
                                 || normalized.StartsWith(s.Path + "\\", StringComparison.OrdinalIgnoreCase))
            .MaxBy(s => s.Path.Length);
    }

    /// <summary>The master-key folders that open blobs of a key in <paramref name="store"/>.</summary>
    public IEnumerable<MasterKeyFolder> MasterKeyFoldersFor(KeyStoreLocation store) => store.Owner switch
    {
        // Machine keys and LocalSystem's keys are both protected by the system's master keys (machine or user half).
        KeyStoreOwner.Machine or KeyStoreOwner.LocalSystem => MasterKeyFolders.Where(f => f.Owner == KeyStoreOwner.LocalSystem),
        _ => MasterKeyFolders.Where(f => string.Equals(f.Sid, store.Sid, StringComparison.OrdinalIgnoreCase)),
    };

    /// <summary>The catalogue of <paramref name="source"/>, with the profiles its registry's ProfileList names.</summary>
    public static KeyStoreCatalogue Of(IMachineSource source, IEnumerable<ProfileListEntry>? profileList = null) =>
        Of(source, WindowsLayout.Detect(source), profileList);

    public static KeyStoreCatalogue Of(IMachineSource source, WindowsLayout layout, IEnumerable<ProfileListEntry>? profileList = null)
    {
        var stores = new List<KeyStoreLocation>
        {
            new(layout.MachineKeys, KeyProviderKind.Capi, KeyStoreOwner.Machine),
            new(layout.CngMachineKeys, KeyProviderKind.Cng, KeyStoreOwner.Machine),
            new(layout.SystemRsaKeys, KeyProviderKind.Capi, KeyStoreOwner.LocalSystem, WellKnownSids.LocalSystem),
            new(layout.CngSystemKeys, KeyProviderKind.Cng, KeyStoreOwner.LocalSystem, WellKnownSids.LocalSystem),
        };
        var masterKeys = new List<MasterKeyFolder>
        {
            new(WindowsPaths.SystemMasterKeys, KeyStoreOwner.LocalSystem, WellKnownSids.LocalSystem),
            new(WindowsPaths.SystemMasterKeys + @"\User", KeyStoreOwner.LocalSystem, WellKnownSids.LocalSystem),
        };
        var listed = (profileList ?? []).Select(e => (e.Sid, Path: WindowsLayout.ProfilePathOnSystemDrive(e.ProfileImagePath)))
            .Where(e => e.Path is not null).ToList();

        foreach (var (owner, sid, folder) in new[]
                 {
                     (KeyStoreOwner.LocalService, WellKnownSids.LocalService, "LocalService"),
                     (KeyStoreOwner.NetworkService, WellKnownSids.NetworkService, "NetworkService"),
                 })
        {
            // ProfileList knows where the service profile is; the layout's place otherwise.
            var profile = listed.FirstOrDefault(e => e.Sid.Equals(sid, StringComparison.OrdinalIgnoreCase)).Path ?? layout.ServiceProfile(folder);
            stores.Add(new(layout.UserRsaKeys(profile, sid), KeyProviderKind.Capi, owner, sid, profile));
            stores.Add(new(layout.UserCngKeys(profile), KeyProviderKind.Cng, owner, sid, profile));
            masterKeys.Add(new(layout.UserMasterKeys(profile, sid), owner, sid, profile));
        }

        var profiles = new List<UserProfileLocation>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (sid, path) in listed.Where(e => !IsServiceSid(e.Sid)).OrderBy(e => e.Path, StringComparer.OrdinalIgnoreCase))
        {
            if (!seen.Add(path!)) continue;
            profiles.Add(new UserProfileLocation(path!, sid, source.DirectoryExists(path!), InProfileList: true));
        }
        foreach (var name in source.EnumerateDirectories(layout.Profiles).Where(n => !WindowsLayout.NotUserProfiles.Contains(n)))
        {
            var path = layout.Profile(name);
            if (seen.Add(path)) profiles.Add(new UserProfileLocation(path, null, Present: true, InProfileList: false));
        }
        profiles = profiles.OrderBy(p => p.Path, StringComparer.OrdinalIgnoreCase).ToList();

        foreach (var profile in profiles)
        {
            var microsoft = layout.RoamingMicrosoft(profile.Path);
            var sids = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
            if (profile.Sid is not null) sids.Add(profile.Sid);
            if (profile.Present)
            {
                foreach (var folder in source.EnumerateDirectories($@"{microsoft}\Crypto\RSA").Where(WellKnownSids.IsSid)) sids.Add(folder);
                foreach (var folder in source.EnumerateDirectories($@"{microsoft}\Protect").Where(WellKnownSids.IsSid)) sids.Add(folder);
            }
            foreach (var sid in sids)
            {
                stores.Add(new(layout.UserRsaKeys(profile.Path, sid), KeyProviderKind.Capi, KeyStoreOwner.User, sid, profile.Path));
                masterKeys.Add(new(layout.UserMasterKeys(profile.Path, sid), KeyStoreOwner.User, sid, profile.Path));
            }
            stores.Add(new(layout.UserCngKeys(profile.Path), KeyProviderKind.Cng, KeyStoreOwner.User, sids.Count == 1 ? sids.Min : profile.Sid, profile.Path));
        }
        return new KeyStoreCatalogue(layout, stores, masterKeys, profiles);
    }

    /// <summary>A profile's registry hive (NTUSER.DAT): its CurrentUser certificate stores.</summary>
    public static string UserHive(UserProfileLocation profile) => $@"{profile.Path}\NTUSER.DAT";

    private static bool IsServiceSid(string sid) =>
        sid.Equals(WellKnownSids.LocalSystem, StringComparison.OrdinalIgnoreCase)
        || sid.Equals(WellKnownSids.LocalService, StringComparison.OrdinalIgnoreCase)
        || sid.Equals(WellKnownSids.NetworkService, StringComparison.OrdinalIgnoreCase);
}
