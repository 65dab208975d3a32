using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Machine;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Findings about what applicationHost.config says that `scan` and `iis` both detect. Built here once so that the
/// two commands report the same condition with the same ID, subject, message, evidence and fix.
/// </summary>
internal static class IisConfigFindings
{
    /// <summary>The AppId netsh needs when the binding's own is unknown: IIS's W3SVC application id.</summary>
    public const string DefaultAppId = FixCommands.DefaultAppId;

    /// <summary>KD2006: an IIS https binding with no HTTP.sys SSL binding for its endpoint.</summary>
    /// <param name="configPath">The applicationHost.config the binding was read from, as the report names it.</param>
    public static Finding MissingHttpSysBinding(IisSite site, IisBinding binding, HttpSysBindingKey key, string configPath) =>
        new(FindingCatalog.BindingMismatch, $"{site.Name} {binding.BindingInformation}",
            $"Site '{site.Name}' binds https {binding.BindingInformation} but HTTP.sys has no SSL binding for {key.Key}")
        {
            Evidence = [Evidence.ForConfiguration(configPath, $"binding on line {binding.Line}", binding.BindingInformation)],
            Fix = MissingHttpSysBindingFix(site, binding, key),
        };

    /// <summary>KD2005: customMetadata 5506 names a certificate that is not in its store.</summary>
    public static Finding LegacyCertificateNotInStore(CustomMetadataKey key, string thumbprint, string store, string configPath) =>
        Finding.Create(FindingCatalog.StaleMetabaseCertificateHash, LegacyHashSubject(key.Path), key.Path, thumbprint, store) with
        {
            Evidence = [Evidence.ForConfiguration(configPath, $"<customMetadata><key path=\"{key.Path}\"> property 5506 (line {key.Line})", thumbprint)],
            Properties = new Dictionary<string, string> { ["keyPath"] = key.Path, ["thumbprint"] = thumbprint, ["store"] = store },
            Fix = RemoveLegacySslProperties(key.Path),
        };

    /// <summary>KD3001: a protected-configuration provider's key container has no key file for this MachineGuid.</summary>
    /// <param name="encryptedValues">How many values name the provider: none makes it a latent problem, not a broken pool.</param>
    /// <param name="filesWithPrefix">Key files with the container's prefix under other GUIDs, as evidence.</param>
    public static Finding ProtectedConfigKeyMissing(ProtectedConfigProvider provider, string expectedFileName, string machineGuid,
        int encryptedValues, IReadOnlyList<string> filesWithPrefix, string configPath)
    {
        var container = provider.KeyContainerName!;
        return Finding.Create(FindingCatalog.ProtectedConfigKeyMissing, provider.Name,
            provider.Name, container, expectedFileName, machineGuid, encryptedValues) with
        {
            Severity = encryptedValues > 0 ? Severity.Error : Severity.Warning,
            Evidence =
            [
                Evidence.ForConfiguration(configPath, $"provider {provider.Name} ({provider.Type}) on line {provider.Line}", container),
                Evidence.ForValue("files with this container's prefix", string.Join(", ", filesWithPrefix.DefaultIfEmpty("none"))),
            ],
            Fix = ImportConfigurationKeyFix(container),
        };
    }

    /// <summary>The subject of KD2005 and KD2010: one customMetadata key's 5506 property, whichever command saw it.</summary>
    public static string LegacyHashSubject(string keyPath) => $"{keyPath} 5506";

    /// <summary>KD2005 and KD2010: only the legacy 5506/5511 properties go; every other property of the key stays.</summary>
    public static Fix RemoveLegacySslProperties(string keyPath) => new("Remove the legacy 5506/5511 properties (and nothing else) from applicationHost.config; the repair plan copies the file aside first.")
    {
        Commands = [FixCommands.RemoveCustomMetadata(WindowsPaths.ApplicationHostConfig, keyPath, LegacySslPropertyIds)],
        NeedsIisRestart = true,
    };

    /// <summary>SSLCertHash and SSLStoreName: what an ABO client writes back to HTTP.sys.</summary>
    public static readonly IReadOnlyList<uint> LegacySslPropertyIds = [MetabasePropertyIds.SslCertHash, MetabasePropertyIds.SslStoreName];

    /// <summary>KD2006: which certificate a site without an HTTP.sys binding gets is a person's choice.</summary>
    private static Fix MissingHttpSysBindingFix(IisSite site, IisBinding binding, HttpSysBindingKey key)
    {
        var chosen = FixCommands.ThumbprintInput($"{site.Name} {binding.BindingInformation}", $"thumbprint of the certificate for site {site.Name} {binding.BindingInformation}");
        return new Fix("Re-create the SSL binding (IIS Manager, Edit Bindings, select the certificate) or with netsh: which certificate is a person's choice.")
        {
            Commands = [FixCommands.NetshAdd(key.Kind, key.Key, CommandArg.Input(chosen.Name))],
            Inputs = [chosen],
            NeedsDecision = true,
        };
    }

    /// <summary>KD3001: the key set is checked against applicationHost.config before it is imported, into a new container only.</summary>
    private static Fix ImportConfigurationKeyFix(string container)
    {
        var keySet = FixCommands.KeySetInput(container);
        return new Fix($"Import the {container} key set from the server this configuration came from (checked against applicationHost.config first), or re-encrypt the configuration for this server's keys.")
        {
            Commands = [FixCommands.VerifyConfigKey(keySet), FixCommands.ImportKeySet(keySet, container)],
            Inputs = [keySet],
            Risk = "A key that does not open the configuration fails the check and is not imported; an existing container is never replaced.",
            NeedsIisRestart = true,
        };
    }

    /// <summary>
    /// KD3009: a metabase backup encrypted with a password (IIsComputer.BackupWithPassword, what iisback /e does), so
    /// it restores even without the machine key that may be the broken part; the password is asked for, never put on
    /// a command line.
    /// </summary>
    public static Fix MetabaseHistoryBackup(string name = "before-kd3009") => new("Take a password-encrypted MetaBack backup now, while the live metabase is still good: it restores without this server's key container.")
    {
        Commands = [BackupMetabaseWithPassword(name)],
        Risk = "Keep the password: without it the backup's secure properties cannot be restored.",
    };

    private static ShellCommand BackupMetabaseWithPassword(string name) => PowerShellWithSecret("Password for the metabase backup",
        $"([ADSI]'IIS://localhost').BackupWithPassword('{name}', -1, 2, $secret)");

    /// <summary>
    /// A PowerShell script that reads one secret at the console (never echoed, never an argument: the process list and
    /// event 4688 keep command lines), exposes it as <c>$secret</c> to <paramref name="use"/>, and wipes it after.
    /// The script holds no double quote and no percent sign, so PowerShell and cmd hand powershell.exe the same text.
    /// </summary>
    public static ShellCommand PowerShellWithSecret(string prompt, string use) =>
        ShellCommand.Run("powershell", "-NoProfile", "-Command",
            $"$p = Read-Host -AsSecureString '{PsQuote(prompt)}'; " +
            "$b = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($p); " +
            $"try {{ $secret = [Runtime.InteropServices.Marshal]::PtrToStringBSTR($b); {use} }} " +
            "finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($b) }") with { AsksForPassword = true };

    /// <summary>Text inside a PowerShell single-quoted literal: quotes doubled.</summary>
    public static string PsQuote(string text) => text.Replace("'", "''", StringComparison.Ordinal);

    /// <summary>
    /// KD3003 and KD3004: the value set again through IIS's configuration API, which encrypts it with the section's
    /// provider. The new value is read at the console: never an appcmd argument.
    /// </summary>
    public static Fix SetEncryptedValueAgain(string elementPath, string attribute, string configPath, bool listProviders = false)
    {
        var (psPath, location, filter) = ConfigurationAddress(elementPath, configPath);
        var target = $"-PSPath '{PsQuote(psPath)}'" + (location is null ? "" : $" -Location '{PsQuote(location)}'") +
                     $" -Filter '{PsQuote(filter)}' -Name '{PsQuote(attribute)}'";
        var set = PowerShellWithSecret($"New value of {attribute} in {filter}",
            $"Import-Module WebAdministration; Set-WebConfigurationProperty {target} -Value $secret");
        var commands = new List<ShellCommand>();
        if (listProviders) commands.Add(ShellCommand.Run(Appcmd, "list", "config", "-section:configProtectedData"));
        commands.Add(set);
        return new Fix(listProviders
            ? "Set the value again so IIS encrypts it with a provider this server defines (or add the provider, with its key, from the server the value came from: KD3001)."
            : "Set the value again (for an application pool, its identity's password): IIS encrypts it with the section's provider.")
        {
            Commands = commands,
            Risk = "Needs the plain value (the password); it is read at the console, never on a command line. Other servers sharing this configuration need the same provider key.",
            NeedsDecision = true,
        };
    }

    /// <summary>Where Set-WebConfigurationProperty finds an element: the file's PSPath, a location path, and the element's path below configuration.</summary>
    private static (string PsPath, string? Location, string Filter) ConfigurationAddress(string elementPath, string configPath)
    {
        var psPath = Path.GetFileName(configPath.Replace('\\', '/')).Equals("redirection.config", StringComparison.OrdinalIgnoreCase)
            ? "MACHINE/REDIRECTION" : "MACHINE/WEBROOT/APPHOST";
        var path = elementPath.StartsWith("configuration/", StringComparison.Ordinal) ? elementPath["configuration/".Length..] : elementPath;
        string? location = null;
        const string locationStart = "location[@path='";
        if (path.StartsWith(locationStart, StringComparison.Ordinal) && path.IndexOf("']/", StringComparison.Ordinal) is var end and > 0)
        {
            location = path[locationStart.Length..end];
            path = path[(end + 3)..];
        }
        return (psPath, location, path);
    }

    /// <summary>KD3005: the shared-configuration password set through IIS, which encrypts it with the IISRsaProvider.</summary>
    public static Fix EncryptSharedConfigurationPassword() => new("Set the password again through IIS so that it is stored encrypted, then change the account's password if the file was ever shared or backed up in clear text.")
    {
        Commands = [PowerShellWithSecret("Password of the shared-configuration account",
            "Import-Module WebAdministration; Set-WebConfigurationProperty -PSPath 'MACHINE/REDIRECTION' -Filter 'configurationRedirection' -Name 'password' -Value $secret")],
        Risk = "Every server of the farm needs the IISRsaProvider key (iisConfigurationKey) to read it. The password is read at the console, never on a command line.",
    };

    /// <summary>KD3002: a configuration backup (IIS keeps one per change in inetpub\history) restores the provider's sessionKey.</summary>
    public static Fix RestoreProtectedConfigSection(string? container)
    {
        var backup = new RequiredInput("config-backup", "name of the configuration backup to restore (from appcmd list backup)", InputKind.Name);
        var commands = new List<ShellCommand>
        {
            ShellCommand.Run(Appcmd, "list", "backup"),
            ShellCommand.Run(Appcmd, "restore", "backup", CommandArg.Input(backup.Name)),
        };
        var inputs = new List<RequiredInput> { backup };
        if (container is not null)
        {
            var keySet = FixCommands.KeySetInput(container);
            commands.Add(FixCommands.VerifyConfigKey(keySet));
            inputs.Add(keySet);
        }
        return new Fix("Restore the configuration from a backup made before the sessionKey was lost (IIS keeps one per change), then check that its values open with the provider's key.")
        {
            Commands = commands,
            Inputs = inputs,
            Risk = "Restoring a whole backup also undoes later configuration changes; copy only the provider element when you can.",
            NeedsDecision = true,
            NeedsIisRestart = true,
        };
    }

    /// <summary>appcmd, where every IIS 7+ server has it.</summary>
    public static CommandArg Appcmd => CommandArg.Path(ArgToken.WinDir, @"System32\inetsrv\appcmd.exe");

    /// <summary>
    /// KD3006: MetaBase.xml replaced by the newest restorable History copy while IISADMIN is stopped (the damaged file
    /// kept beside it); without one, a MetaBack backup restored with its password (asked for, never an argument).
    /// </summary>
    public static Fix RestoreMetabase(string? historyCopy)
    {
        var live = FixCommands.MachinePath(WindowsPaths.Metabase);
        var kept = FixCommands.MachinePath(WindowsPaths.Metabase + ".keydoctor-damaged");
        if (historyCopy is not null)
            return new Fix($"Stop IISADMIN, keep the damaged MetaBase.xml beside it, put the History copy {WindowsPaths.FileName(historyCopy)} (the newest restorable one) in its place, and start W3SVC.")
            {
                Commands =
                [
                    ShellCommand.Run("net", "stop", "iisadmin", "/y"),
                    ShellCommand.Run("cmd", "/c", "copy", "/y", live, kept),
                    ShellCommand.Run("cmd", "/c", "copy", "/y", FixCommands.MachinePath(historyCopy), live),
                    ShellCommand.Run("net", "start", "w3svc"),
                ],
                Risk = "Changes made after the restored copy are lost; the damaged file stays as evidence.",
                NeedsDecision = true,
                NeedsIisRestart = true,
            };
        return new Fix("No History copy is restorable: restore a MetaBack backup made with a password (IIsComputer.RestoreWithPassword): iisback lists the backups, the name and the password are asked for.")
        {
            Commands =
            [
                ShellCommand.Run("cscript", "//nologo", CommandArg.Path(ArgToken.WinDir, @"System32\iisback.vbs"), "/list"),
                PowerShellWithSecret("Password of the metabase backup", "$name = Read-Host 'Backup name'; ([ADSI]'IIS://localhost').RestoreWithPassword($name, -2, 0, $secret)"),
            ],
            Risk = "Changes made after the backup are lost. A backup made without a password needs this server's IIS key container, which may be the broken part.",
            NeedsDecision = true,
            NeedsIisRestart = true,
        };
    }

    /// <summary>KD3008: the secure property set again through ADSI (IIS re-encrypts it with the SessionKey); the value is asked for.</summary>
    public static Fix SetMetabaseSecretAgain(string location, string property)
    {
        var adsPath = "IIS://localhost" + (location.StartsWith("/LM", StringComparison.OrdinalIgnoreCase) ? location[3..] : location);
        return new Fix($"Set {property} of {location} again (IIS 6 Manager, or ADSI as here): IIS encrypts it with the SessionKey. Or restore MetaBase.xml from a History copy where it is intact (KD3006's fix).")
        {
            Commands = [PowerShellWithSecret($"New value of {property} at {location}",
                $"$o = [ADSI]'{PsQuote(adsPath)}'; $o.Put('{PsQuote(property)}', $secret); $o.SetInfo()")],
            Risk = "Needs the plain value (a password); it is read at the console, never on a command line.",
            NeedsDecision = true,
        };
    }

    /// <summary>KD3007: nothing to change; before a re-key, a backup that restores without this server's key.</summary>
    public static Fix UnusualSessionKey() => new("Nothing to change while IISADMIN starts. Before changing keys, take a password-encrypted metabase backup (and check the key set you hold with 'keydoctor metabase verify').")
    {
        Commands = [BackupMetabaseWithPassword("before-rekey")],
        Risk = "Keep the password: without it the backup's secure properties cannot be restored.",
    };

    /// <summary>KD2011: which certificate the IIS 6 site gets is a person's choice; the store and the site's hash are shown.</summary>
    public static Fix MetabaseCertificateChoice(string location, string store)
    {
        var adsutilPath = location.StartsWith("/LM/", StringComparison.OrdinalIgnoreCase) ? location[4..] : location.TrimStart('/');
        return new Fix("Select the current certificate for the site in IIS 6 Manager (Directory Security, Server Certificate): IIS writes it to the metabase and to HTTP.sys. The store's certificates and the site's hash are listed.")
        {
            Commands =
            [
                FixCommands.ListStore(store),
                ShellCommand.Run("cscript", "//nologo", CommandArg.Path(ArgToken.SystemDrive, @"Inetpub\AdminScripts\adsutil.vbs"), "GET", $"{adsutilPath}/SSLCertHash"),
            ],
            Risk = "Clients see the new certificate; check that its names cover the site.",
            NeedsDecision = true,
        };
    }

    /// <summary>netsh's name for an HTTP.sys entry: the same kind picks the same table whether IIS needs it or the registry has it.</summary>
    public static string NetshEndpoint(HttpSysBindingKind kind, string endpoint) => FixCommands.NetshEndpoint(kind, endpoint);
}
