namespace KeyDoctor.Machine.Collection;

public enum CollectionStepKind
{
    /// <summary>Copy the files of a folder (optionally its sub-folders), recording attributes and ACLs.</summary>
    CopyFolder,

    /// <summary>Copy one file, recording attributes and ACL.</summary>
    CopyFile,

    /// <summary>Save a loaded registry hive with <c>reg save</c> (consistent even while in use).</summary>
    SaveRegistryHive,

    /// <summary>Export an event log with <c>wevtutil epl</c>, optionally filtered by time.</summary>
    ExportEventLog,
}

/// <summary>
/// One thing to collect: where it is on the live machine, where it goes in the bundle (a drive-relative Windows
/// path, so the bundle reads like an image), and the command an administrator would type to do it by hand.
/// </summary>
public sealed record CollectionStep(CollectionStepKind Kind, string Source, string BundlePath, string Description)
{
    /// <summary>The equivalent manual command (reg save, wevtutil epl, robocopy), for the plan and the transcript.</summary>
    public string? Command { get; init; }

    public bool Recursive { get; init; }

    /// <summary>For event logs: export only events at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>
    /// Core evidence: without it a scan cannot tell a healthy server from a broken one (the SYSTEM and SOFTWARE hives,
    /// the MachineKeys folder). When a core step fails the collection fails (exit 2) and the bundle is marked partial.
    /// </summary>
    public bool Core { get; init; }

    /// <summary>
    /// The bundle path of another step that stands in for this one when it fails: an offline image's registry as .reg
    /// exports (its "registry" folder) instead of hive files.
    /// </summary>
    public string? Alternative { get; init; }

    /// <summary>True when the step holds private-key material or secrets (the bundle is then owner-only).</summary>
    public bool HoldsSecrets { get; init; }
}

/// <summary>
/// A user profile of ProfileList whose key containers (Crypto) and DPAPI master keys (Protect) are collected, and
/// whose registry hive is saved too when it is loaded (HKU\&lt;SID&gt;). Every profile counts, not only the loaded
/// ones: a certificate dragged from a user's store keeps its key in that user's profile, logged on or not.
/// </summary>
public sealed record UserProfile(string UserName, string Sid, string ProfilePath, bool HiveLoaded = true);

public sealed record CollectionOptions
{
    /// <summary>Snapshots leave out the event logs so they stay small enough to keep before every patch.</summary>
    public bool IncludeEventLogs { get; init; } = true;

    /// <summary>Only events at or after this time are exported (wevtutil /q filter).</summary>
    public DateTimeOffset? EventsSince { get; init; }

    public IReadOnlyList<string> EventLogs { get; init; } = ["System", "Application", "Security"];
    public string SystemDrive { get; init; } = "C:";
    public IReadOnlyList<UserProfile> Users { get; init; } = [];
}

/// <summary>
/// What <c>keydoctor collect</c> and <c>keydoctor snapshot</c> gather from a live server: everything
/// <c>keydoctor scan</c> reads. Pure: the plan is the same on every OS, so it is shown and tested on Linux.
/// </summary>
public static class CollectionPlanner
{
    public static IReadOnlyList<CollectionStep> Plan(CollectionOptions options)
    {
        var drive = options.SystemDrive.TrimEnd('\\');
        string Live(string relative) => $@"{drive}\{relative}";
        var steps = new List<CollectionStep>();

        void Folder(string relative, string description, bool recursive = false, bool secrets = false, bool core = false) =>
            steps.Add(new CollectionStep(CollectionStepKind.CopyFolder, Live(relative), relative, description)
            {
                Recursive = recursive,
                HoldsSecrets = secrets,
                Core = core,
                Command = $"robocopy \"{Live(relative)}\" \"<bundle>\\{relative}\" /B /COPY:DAT{(recursive ? " /E" : "")}",
            });

        // A profile's key containers (Crypto\RSA\<SID>, Crypto\Keys) and the master keys that open them (Protect\<SID>).
        void ProfileKeys(string livePath, string bundlePath, string owner)
        {
            foreach (var (folder, what) in new[] { ("Crypto", "key containers"), ("Protect", "DPAPI master keys") })
            {
                var relative = $@"{WindowsLayout.Modern.RoamingAppData}\Microsoft\{folder}";
                steps.Add(new CollectionStep(CollectionStepKind.CopyFolder, $@"{livePath}\{relative}", $@"{bundlePath}\{relative}", $"{what} of {owner}")
                {
                    Recursive = true, HoldsSecrets = true,
                    Command = $"robocopy \"{livePath}\\{relative}\" \"<bundle>\\{bundlePath}\\{relative}\" /B /E /COPY:DAT",
                });
            }
        }

        Folder(WindowsPaths.MachineKeys, "CryptoAPI machine key containers", secrets: true, core: true);
        Folder(WindowsPaths.CngMachineKeys, "CNG machine keys", secrets: true);
        Folder(WindowsPaths.CngSystemKeys, "CNG LocalSystem keys", secrets: true);
        Folder(WindowsPaths.SystemRsaKeys, "CryptoAPI LocalSystem key containers", secrets: true);
        Folder(WindowsPaths.SystemMasterKeys, "machine DPAPI master keys (S-1-5-18 and S-1-5-18\\User)", recursive: true, secrets: true);

        foreach (var hive in new[] { "SOFTWARE", "SYSTEM", "SECURITY" })
            steps.Add(new CollectionStep(CollectionStepKind.SaveRegistryHive, $@"HKLM\{hive}",
                $@"{WindowsPaths.ConfigHives}\{hive}", $"registry hive HKLM\\{hive}")
            {
                HoldsSecrets = hive == "SECURITY",
                Core = hive != "SECURITY",
                Alternative = hive != "SECURITY" ? WindowsPaths.RegistryExports : null,
                Command = $@"reg save HKLM\{hive} ""<bundle>\{WindowsPaths.ConfigHives}\{hive}"" /y",
            });

        // An offline image may carry its registry as .reg exports instead of hive files (never there on a live server).
        Folder(WindowsPaths.RegistryExports, "registry exports (.reg) of an offline image without hive files");

        // LocalService's and NetworkService's key sets (a service running as them keeps its keys there).
        foreach (var account in new[] { "LocalService", "NetworkService" })
        {
            var profile = $@"{WindowsLayout.Modern.ServiceProfiles}\{account}";
            ProfileKeys(Live(profile), profile, account);
        }
        foreach (var user in options.Users)
        {
            var profile = $@"{WindowsPaths.Users}\{user.UserName}";
            if (user.HiveLoaded)
                steps.Add(new CollectionStep(CollectionStepKind.SaveRegistryHive, $@"HKU\{user.Sid}",
                    WindowsPaths.UserHive(user.UserName), $"registry hive of {user.UserName} ({user.Sid})")
                {
                    Command = $@"reg save HKU\{user.Sid} ""<bundle>\{WindowsPaths.UserHive(user.UserName)}"" /y",
                });
            ProfileKeys(user.ProfilePath, profile, user.UserName);
        }

        if (options.IncludeEventLogs)
        {
            var filter = options.EventsSince is { } since
                ? $" /q:\"*[System[TimeCreated[@SystemTime>='{since.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}']]]\""
                : "";
            foreach (var log in options.EventLogs)
            {
                var file = log.Replace('/', '%') + ".evtx";
                steps.Add(new CollectionStep(CollectionStepKind.ExportEventLog, log,
                    $@"{WindowsPaths.EventLogs}\{file}", $"event log {log}")
                {
                    Since = options.EventsSince,
                    Command = $"wevtutil epl \"{log}\" \"<bundle>\\{WindowsPaths.EventLogs}\\{file}\"{filter}",
                });
            }
        }

        Folder(WindowsPaths.InetsrvConfig, "IIS 7+ configuration (applicationHost, administration, redirection)", recursive: true);
        steps.Add(new CollectionStep(CollectionStepKind.CopyFile, Live(WindowsPaths.Metabase), WindowsPaths.Metabase, "IIS 6 metabase")
        {
            Command = $"copy \"{Live(WindowsPaths.Metabase)}\" \"<bundle>\\{WindowsPaths.Metabase}\"",
        });
        Folder(WindowsPaths.MetabaseHistory, "IIS 6 metabase history versions");
        Folder(WindowsPaths.MetabaseBackups, "IIS 6 metabase backups");
        return steps;
    }
}
