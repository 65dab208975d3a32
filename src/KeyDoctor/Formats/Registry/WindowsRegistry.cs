using System.Globalization;
using KeyDoctor.Formats.Certificates;

namespace KeyDoctor.Formats.Registry;

/// <summary>The four class names the boot key is built from (SYSTEM\&lt;current control set&gt;\Control\Lsa).</summary>
public sealed record LsaClassNames(string? JD, string? Skew1, string? GBG, string? Data);

/// <summary>
/// The registry paths the diagnosis needs, over a machine's SOFTWARE and SYSTEM hives (and a user's NTUSER.DAT),
/// whichever source they come from: hive files or a .reg export.
/// </summary>
public sealed class WindowsRegistry
{
    public WindowsRegistry(IRegistryHive? software, IRegistryHive? system, IRegistryHive? ntUser = null)
    {
        Software = software;
        System = system;
        NtUser = ntUser;
    }

    public IRegistryHive? Software { get; }
    public IRegistryHive? System { get; }
    public IRegistryHive? NtUser { get; }

    /// <summary>HKEY_LOCAL_MACHINE\SOFTWARE, \SYSTEM and HKEY_CURRENT_USER of a .reg export, as hives.</summary>
    public static WindowsRegistry FromExport(RegExportFile export) => new(
        export.Subtree(@"HKEY_LOCAL_MACHINE\SOFTWARE"),
        export.Subtree(@"HKEY_LOCAL_MACHINE\SYSTEM"),
        export.Subtree("HKEY_CURRENT_USER"));

    /// <summary>
    /// Opens the hives of a Windows image or collected folder: Windows\System32\config\SOFTWARE and SYSTEM (any
    /// letter case, logs replayed in memory), or, failing that, .reg exports in a "registry" folder.
    /// </summary>
    public static WindowsRegistry OpenImage(string root)
    {
        var config = FindPath(root, "Windows", "System32", "config");
        var softwarePath = config is null ? null : FindPath(config, "SOFTWARE");
        var systemPath = config is null ? null : FindPath(config, "SYSTEM");
        IRegistryHive? software = softwarePath is not null && File.Exists(softwarePath) ? RegistryHive.Open(softwarePath) : null;
        IRegistryHive? system = systemPath is not null && File.Exists(systemPath) ? RegistryHive.Open(systemPath) : null;
        if (software is not null || system is not null) return new WindowsRegistry(software, system);
        var registryFolder = FindPath(root, "registry");
        if (registryFolder is not null && Directory.Exists(registryFolder))
            foreach (var file in Directory.EnumerateFiles(registryFolder).Where(f => f.EndsWith(".reg", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
            {
                var export = RegExportReader.Read(file);
                var view = FromExport(export);
                software ??= view.Software;
                system ??= view.System;
            }
        return new WindowsRegistry(software, system);
    }

    /// <summary>SOFTWARE\Microsoft\Cryptography\MachineGuid, the suffix of every machine key file name.</summary>
    public string? MachineGuid => Software?.OpenKey(@"Microsoft\Cryptography")?.GetValue("MachineGuid")?.AsString();

    /// <summary>"ControlSet001" from Select\Current; "CurrentControlSet" for an export of a live registry.</summary>
    public string? CurrentControlSetName
    {
        get
        {
            if (System is null) return null;
            if (System.OpenKey("Select")?.GetValue("Current")?.AsNumber() is { } current and > 0 and < 1000)
                return "ControlSet" + current.ToString("000", CultureInfo.InvariantCulture);
            if (System.OpenKey("CurrentControlSet") is not null) return "CurrentControlSet";
            return null;
        }
    }

    public RegistryKey? CurrentControlSet => CurrentControlSetName is { } name ? System?.OpenKey(name) : null;

    /// <summary>
    /// The computer's NetBIOS name as Windows starts with it: SYSTEM\&lt;current control set&gt;\Control\ComputerName\ComputerName
    /// (ActiveComputerName is volatile and never on disk).
    /// </summary>
    public string? ComputerName =>
        CurrentControlSet?.OpenKey(@"Control\ComputerName\ComputerName")?.GetValue("ComputerName")?.AsString()?.Trim() is { Length: > 0 } name ? name : null;

    public IReadOnlyList<HttpSysBinding> HttpSysBindings =>
        CurrentControlSet?.OpenKey(@"Services\HTTP\Parameters") is { } parameters ? HttpSysBindingReader.Read(parameters) : [];

    public LsaClassNames? LsaClassNames
    {
        get
        {
            if (CurrentControlSet?.OpenKey(@"Control\Lsa") is not { } lsa) return null;
            return new LsaClassNames(lsa.OpenSubkey("JD")?.ClassName, lsa.OpenSubkey("Skew1")?.ClassName,
                lsa.OpenSubkey("GBG")?.ClassName, lsa.OpenSubkey("Data")?.ClassName);
        }
    }

    /// <summary>
    /// Certificates of the machine stores (SOFTWARE\Microsoft\SystemCertificates and the group-policy stores under
    /// SOFTWARE\Policies\Microsoft\SystemCertificates) and of the user's stores (NTUSER.DAT).
    /// </summary>
    public IReadOnlyList<StoredCertificate> Certificates(string? store = null)
    {
        var result = new List<StoredCertificate>();
        if (Software?.OpenKey(@"Microsoft\SystemCertificates") is { } machine)
            result.AddRange(CertificateStoreReader.ReadAll(machine, "LocalMachine", store));
        if (Software?.OpenKey(@"Policies\Microsoft\SystemCertificates") is { } policy)
            result.AddRange(CertificateStoreReader.ReadAll(policy, "LocalMachine (policy)", store));
        if (NtUser?.OpenKey(@"Software\Microsoft\SystemCertificates") is { } user)
            result.AddRange(CertificateStoreReader.ReadAll(user, "CurrentUser", store));
        return result;
    }

    /// <summary>
    /// SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList: each profile's SID and ProfileImagePath as written
    /// (environment variables unexpanded), in SID order. Profiles whose folder was deleted stay listed here.
    /// </summary>
    public IReadOnlyList<(string Sid, string ProfileImagePath)> ProfileList =>
        Software?.OpenKey(@"Microsoft\Windows NT\CurrentVersion\ProfileList") is { } list
            ? list.Subkeys.Select(k => (k.Name, k.GetValue("ProfileImagePath")?.AsString()))
                .Where(e => e.Item2 is { Length: > 0 }).Select(e => (e.Name, e.Item2!))
                .OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase).ToList()
            : [];

    /// <summary>
    /// The display name (DisplayName, unexpanded) of each service of the current control set, by service key name:
    /// what event 7024 names a service by, in the server's language.
    /// </summary>
    public IReadOnlyDictionary<string, string> ServiceDisplayNames =>
        CurrentControlSet?.OpenKey("Services") is { } services
            ? services.Subkeys.Select(k => (k.Name, Display: k.GetValue("DisplayName")?.AsString()))
                .Where(e => e.Display is { Length: > 0 })
                .GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.First().Display!, StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>();

    /// <summary>Problems of every hive in use.</summary>
    public IEnumerable<RegistryProblem> Problems =>
        new[] { Software, System, NtUser }.Where(h => h is not null).SelectMany(h => h!.Problems);

    /// <summary>Finds root\a\b\c matching each component case-insensitively (images copied from NTFS keep any case).</summary>
    public static string? FindPath(string root, params string[] components)
    {
        var current = root;
        foreach (var component in components)
        {
            if (!Directory.Exists(current)) return null;
            var match = Directory.EnumerateFileSystemEntries(current)
                .FirstOrDefault(e => string.Equals(Path.GetFileName(e), component, StringComparison.OrdinalIgnoreCase));
            if (match is null) return null;
            current = match;
        }
        return current;
    }
}
