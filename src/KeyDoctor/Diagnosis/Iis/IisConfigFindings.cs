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
        Commands =
        [
            ShellCommand.Run("powershell", "-NoProfile", "-Command",
                "$p = Read-Host -AsSecureString 'Password for the metabase backup'; " +
                "$b = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($p); " +
                $"try {{ ([ADSI]'IIS://localhost').BackupWithPassword('{name}', -1, 2, [Runtime.InteropServices.Marshal]::PtrToStringBSTR($b)) }} " +
                "finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($b) }") with { AsksForPassword = true },
        ],
        Risk = "Keep the password: without it the backup's secure properties cannot be restored.",
    };

    /// <summary>netsh's name for an HTTP.sys entry: the same kind picks the same table whether IIS needs it or the registry has it.</summary>
    public static string NetshEndpoint(HttpSysBindingKind kind, string endpoint) => FixCommands.NetshEndpoint(kind, endpoint);
}
