namespace KeyDoctor.Machine;

/// <summary>An event log file and the channel Event Viewer shows it as.</summary>
/// <param name="Legacy">A .Evt file (NT 4 to Server 2003), read with the legacy reader; else EVTX.</param>
public sealed record EventLogFile(string Channel, string Path, bool Legacy);

/// <summary>
/// Where one generation of Windows keeps what KeyDoctor reads, relative to the system drive's root: the machine key
/// stores, the user profiles and their application data, the service accounts' profiles and the event logs.
/// Server 2003 and XP (NT 5) keep machine keys under <c>Documents and Settings\All Users\Application Data</c>,
/// profiles under <c>Documents and Settings</c> with <c>Application Data</c>, and .Evt logs in
/// <c>system32\config</c>; Vista and later (NT 6+) use <c>ProgramData</c>, <c>Users</c> with
/// <c>AppData\Roaming</c>, <c>ServiceProfiles</c> and EVTX logs in <c>winevt\Logs</c>. What does not move
/// (hives, the system's DPAPI master keys, IIS) stays in <see cref="WindowsPaths"/>.
/// Which one a machine is: <see cref="Detect(IMachineSource)"/>. Every key-store folder of a machine, by owner:
/// <see cref="KeyStoreCatalogue"/>.
/// </summary>
public sealed record WindowsLayout
{
    /// <summary>Windows Vista, Server 2008 and later.</summary>
    public static WindowsLayout Modern { get; } = new()
    {
        Name = "Windows Vista / Server 2008 or later",
        IsLegacy = false,
        ProgramData = "ProgramData",
        Profiles = WindowsPaths.Users,
        RoamingAppData = @"AppData\Roaming",
        ServiceProfiles = @"Windows\ServiceProfiles",
    };

    /// <summary>Windows XP and Server 2003 (also Windows 2000).</summary>
    public static WindowsLayout Legacy { get; } = new()
    {
        Name = "Windows Server 2003 / XP",
        IsLegacy = true,
        ProgramData = @"Documents and Settings\All Users\Application Data",
        Profiles = "Documents and Settings",
        RoamingAppData = "Application Data",
        ServiceProfiles = "Documents and Settings",
    };

    public required string Name { get; init; }

    /// <summary>True for the NT 5 layout (Documents and Settings, .Evt logs, no CNG).</summary>
    public required bool IsLegacy { get; init; }

    /// <summary>The all-users application data folder: ProgramData, or All Users\Application Data.</summary>
    public required string ProgramData { get; init; }

    /// <summary>The folder holding every user profile.</summary>
    public required string Profiles { get; init; }

    /// <summary>A profile's roaming application data, relative to the profile folder.</summary>
    public required string RoamingAppData { get; init; }

    /// <summary>The folder holding the LocalService and NetworkService profiles.</summary>
    public required string ServiceProfiles { get; init; }

    public string Crypto => $@"{ProgramData}\Microsoft\Crypto";

    /// <summary>CryptoAPI machine key containers.</summary>
    public string MachineKeys => $@"{Crypto}\RSA\MachineKeys";

    /// <summary>CNG machine keys (Vista and later only).</summary>
    public string CngMachineKeys => $@"{Crypto}\Keys";

    /// <summary>CNG keys of LocalSystem (Vista and later only).</summary>
    public string CngSystemKeys => $@"{Crypto}\SystemKeys";

    /// <summary>CryptoAPI key containers of LocalSystem's own (user) key set: RSA\S-1-5-18.</summary>
    public string SystemRsaKeys => $@"{Crypto}\RSA\{WellKnownSids.LocalSystem}";

    /// <summary>The profile folder of LocalService or NetworkService (<paramref name="account"/> is the folder name).</summary>
    public string ServiceProfile(string account) => $@"{ServiceProfiles}\{account}";

    /// <summary>A profile's roaming Microsoft folder (Crypto and Protect are under it).</summary>
    public string RoamingMicrosoft(string profile) => $@"{WindowsPaths.Normalize(profile)}\{RoamingAppData}\Microsoft";

    /// <summary>A profile's CryptoAPI key containers for <paramref name="sid"/>: ...\Microsoft\Crypto\RSA\&lt;SID&gt;.</summary>
    public string UserRsaKeys(string profile, string sid) => $@"{RoamingMicrosoft(profile)}\Crypto\RSA\{sid}";

    /// <summary>A profile's CNG keys: ...\Microsoft\Crypto\Keys.</summary>
    public string UserCngKeys(string profile) => $@"{RoamingMicrosoft(profile)}\Crypto\Keys";

    /// <summary>A profile's DPAPI master keys for <paramref name="sid"/>: ...\Microsoft\Protect\&lt;SID&gt;.</summary>
    public string UserMasterKeys(string profile, string sid) => $@"{RoamingMicrosoft(profile)}\Protect\{sid}";

    /// <summary>A profile folder by user name.</summary>
    public string Profile(string userName) => $@"{Profiles}\{userName}";

    /// <summary>The folder of this generation's event logs.</summary>
    public string EventLogFolder => IsLegacy ? WindowsPaths.ConfigHives : WindowsPaths.EventLogs;

    /// <summary>
    /// The System, Security and Application logs: this generation's files first, then the other's (a server upgraded
    /// in place keeps its old .Evt files beside the new EVTX).
    /// </summary>
    public IReadOnlyList<EventLogFile> EventLogFiles => IsLegacy ? [.. LegacyLogs, .. ModernLogs] : [.. ModernLogs, .. LegacyLogs];

    private static readonly EventLogFile[] ModernLogs =
    [
        new("System", $@"{WindowsPaths.EventLogs}\System.evtx", false),
        new("Security", $@"{WindowsPaths.EventLogs}\Security.evtx", false),
        new("Application", $@"{WindowsPaths.EventLogs}\Application.evtx", false),
    ];

    private static readonly EventLogFile[] LegacyLogs =
    [
        new("System", $@"{WindowsPaths.ConfigHives}\SysEvent.Evt", true),
        new("Security", $@"{WindowsPaths.ConfigHives}\SecEvent.Evt", true),
        new("Application", $@"{WindowsPaths.ConfigHives}\AppEvent.Evt", true),
    ];

    /// <summary>Profile folder names that are not a user's (templates, the all-users folder, service profiles on NT 5).</summary>
    public static readonly IReadOnlySet<string> NotUserProfiles = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "All Users", "Default", "Default User", "Public", "LocalService", "NetworkService", "defaultuser0",
    };

    /// <summary>The layout of the machine <paramref name="source"/> shows.</summary>
    public static WindowsLayout Detect(IMachineSource source) => Detect(source.DirectoryExists);

    /// <summary>
    /// Vista and later when ProgramData\Microsoft\Crypto or Users is there; Server 2003 / XP when only
    /// Documents and Settings is; Vista and later otherwise (what a bundle from <c>collect</c> looks like).
    /// </summary>
    public static WindowsLayout Detect(Func<string, bool> directoryExists)
    {
        if (directoryExists(Modern.Crypto)) return Modern;
        if (directoryExists(Legacy.Crypto)) return Legacy;
        if (directoryExists(Modern.Profiles)) return Modern;
        if (directoryExists(Legacy.Profiles)) return Legacy;
        return Modern;
    }

    /// <summary>
    /// A profile path as the registry's ProfileList gives it (<c>%SystemDrive%\Users\alice</c>,
    /// <c>C:\Documents and Settings\alice</c>, <c>%systemroot%\ServiceProfiles\LocalService</c>) relative to the system
    /// drive's root; null for a path on another drive or a network path.
    /// </summary>
    public static string? ProfilePathOnSystemDrive(string profileImagePath)
    {
        var path = profileImagePath.Trim().Replace('/', '\\');
        foreach (var (variable, replacement) in new[] { ("%SystemDrive%", ""), ("%SystemRoot%", "Windows"), ("%windir%", "Windows") })
            if (path.StartsWith(variable, StringComparison.OrdinalIgnoreCase))
                return WindowsPaths.Normalize(replacement + path[variable.Length..]);
        if (path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] == '\\') return WindowsPaths.Normalize(path[3..]);
        return null;
    }
}

/// <summary>The SIDs of the accounts whose key stores are not a person's.</summary>
public static class WellKnownSids
{
    public const string LocalSystem = "S-1-5-18";
    public const string LocalService = "S-1-5-19";
    public const string NetworkService = "S-1-5-20";
    public const string Administrators = "S-1-5-32-544";
    public const string Everyone = "S-1-1-0";

    /// <summary>True for a string of the SID form (S-1-...), as profile and key folders are named.</summary>
    public static bool IsSid(string text) =>
        text.StartsWith("S-1-", StringComparison.OrdinalIgnoreCase) && text.Length > 4
        && text.Skip(4).All(c => char.IsAsciiDigit(c) || c == '-');
}
