using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Findings about what applicationHost.config says that `scan` and `iis` both detect. Built here once so that the
/// two commands report the same condition with the same ID, subject, message, evidence and fix.
/// </summary>
internal static class IisConfigFindings
{
    /// <summary>The AppId netsh needs when the binding's own is unknown: IIS's W3SVC application id.</summary>
    public const string DefaultAppId = "{4dc3e181-e14b-4a21-b022-59fc669b0914}";

    /// <summary>KD2006: an IIS https binding with no HTTP.sys SSL binding for its endpoint.</summary>
    /// <param name="configPath">The applicationHost.config the binding was read from, as the report names it.</param>
    public static Finding MissingHttpSysBinding(IisSite site, IisBinding binding, HttpSysBindingKey key, string configPath) =>
        new(FindingCatalog.BindingMismatch, $"{site.Name} {binding.BindingInformation}",
            $"Site '{site.Name}' binds https {binding.BindingInformation} but HTTP.sys has no SSL binding for {key.Key}")
        {
            Evidence = [Evidence.ForConfiguration(configPath, $"binding on line {binding.Line}", binding.BindingInformation)],
            Fix = new Fix("Re-create the SSL binding (IIS Manager, Edit Bindings, select the certificate) or with netsh: which certificate is a person's choice.")
            {
                NeedsDecision = true,
                PowerShell = $"netsh http add sslcert {NetshEndpoint(key.Kind, key.Key)} certhash=<thumbprint> appid='{DefaultAppId}' certstorename=MY",
                Cmd = $"netsh http add sslcert {NetshEndpoint(key.Kind, key.Key)} certhash=<thumbprint> appid={DefaultAppId} certstorename=MY",
            },
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
            Fix = new Fix($"Import the {container} key set from the server this configuration came from, or re-encrypt the configuration for this server's keys.")
            {
                PowerShell = $"keydoctor keys import C:\\kd\\{container}.xml --container {container}\niisreset",
                Cmd = $"%windir%\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_regiis -pi {container} C:\\kd\\{container}.xml\niisreset",
                Risk = "Importing a different key than the one that encrypted the configuration makes decryption fail; verify with 'keydoctor config verify' first.",
                NeedsIisRestart = true,
            },
        };
    }

    /// <summary>The subject of KD2005 and KD2010: one customMetadata key's 5506 property, whichever command saw it.</summary>
    public static string LegacyHashSubject(string keyPath) => $"{keyPath} 5506";

    public static Fix RemoveLegacySslProperties(string keyPath) => new("Remove the legacy 5506/5511 properties after backing up the configuration.")
    {
        PowerShell = $"& $env:windir\\system32\\inetsrv\\appcmd.exe add backup \"before-kd2005\"\n& $env:windir\\system32\\inetsrv\\appcmd.exe clear config -section:system.applicationHost/customMetadata \"/[path='{keyPath}']\" /commit:apphost",
        Cmd = $"%windir%\\system32\\inetsrv\\appcmd add backup \"before-kd2005\"\n%windir%\\system32\\inetsrv\\appcmd clear config -section:system.applicationHost/customMetadata \"/[path='{keyPath}']\" /commit:apphost",
        NeedsIisRestart = true,
    };

    /// <summary>netsh's name for an HTTP.sys entry: the same kind picks the same table whether IIS needs it or the registry has it.</summary>
    public static string NetshEndpoint(HttpSysBindingKind kind, string endpoint) => kind switch
    {
        HttpSysBindingKind.Sni => $"hostnameport={endpoint}",
        HttpSysBindingKind.CentralCertificateStore => $"ccs={HttpSysBindingReader.SplitEndpoint(endpoint).Port}",
        _ => $"ipport={endpoint}",
    };
}
