namespace KeyDoctor.Machine;

/// <summary>
/// Where Windows keeps what KeyDoctor reads, relative to the system drive root, with backslashes.
/// Lookups through <see cref="IMachineSource"/> are case-insensitive, as on Windows.
/// </summary>
public static class WindowsPaths
{
    public const string MachineKeys = @"ProgramData\Microsoft\Crypto\RSA\MachineKeys";
    public const string CngMachineKeys = @"ProgramData\Microsoft\Crypto\Keys";
    public const string CngSystemKeys = @"ProgramData\Microsoft\Crypto\SystemKeys";
    public const string SystemRsaKeys = @"ProgramData\Microsoft\Crypto\RSA\S-1-5-18";
    public const string ConfigHives = @"Windows\System32\config";
    public const string SoftwareHive = @"Windows\System32\config\SOFTWARE";
    public const string SystemHive = @"Windows\System32\config\SYSTEM";
    public const string SecurityHive = @"Windows\System32\config\SECURITY";
    public const string EventLogs = @"Windows\System32\winevt\Logs";
    public const string InetsrvConfig = @"Windows\System32\inetsrv\config";
    public const string ApplicationHostConfig = @"Windows\System32\inetsrv\config\applicationHost.config";
    public const string AdministrationConfig = @"Windows\System32\inetsrv\config\administration.config";
    public const string RedirectionConfig = @"Windows\System32\inetsrv\config\redirection.config";
    public const string Metabase = @"Windows\System32\inetsrv\MetaBase.xml";
    public const string MetabaseHistory = @"Windows\System32\inetsrv\History";
    public const string MetabaseBackups = @"Windows\System32\inetsrv\MetaBack";
    public const string SystemMasterKeys = @"Windows\System32\Microsoft\Protect\S-1-5-18";
    public const string Users = "Users";

    /// <summary>Folder of .reg exports that stand in for missing hives in an image (REGEDIT4 or REGEDIT5).</summary>
    public const string RegistryExports = "registry";

    /// <summary>A user's CryptoAPI key folder: Users\&lt;name&gt;\AppData\Roaming\Microsoft\Crypto\RSA\&lt;SID&gt;.</summary>
    public static string UserRsaKeys(string userName, string sid) =>
        $@"Users\{userName}\AppData\Roaming\Microsoft\Crypto\RSA\{sid}";

    public static string UserHive(string userName) => $@"Users\{userName}\NTUSER.DAT";

    /// <summary>Normalises separators to backslashes and trims leading ones: "a/b\\c/" → "a\b\c".</summary>
    public static string Normalize(string path) =>
        path.Replace('/', '\\').Trim('\\');

    public static string Combine(string directory, string name) =>
        directory.Length == 0 ? Normalize(name) : Normalize(directory) + "\\" + Normalize(name);

    /// <summary>
    /// The part of <paramref name="path"/> below <paramref name="directory"/> (Windows rules, case-insensitive, on
    /// every OS); throws when it is not below it.
    /// </summary>
    public static string Relative(string directory, string path)
    {
        var prefix = Normalize(directory) + "\\";
        var normalized = Normalize(path);
        if (!normalized.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || normalized.Length == prefix.Length)
            throw new ArgumentException($"{path} is not below {directory}", nameof(path));
        return normalized[prefix.Length..];
    }

    public static string FileName(string path)
    {
        var normalized = Normalize(path);
        var slash = normalized.LastIndexOf('\\');
        return slash < 0 ? normalized : normalized[(slash + 1)..];
    }
}
