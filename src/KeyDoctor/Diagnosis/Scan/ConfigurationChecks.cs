using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD3001: protected-configuration providers whose key container has no key file for this MachineGuid; KD3010: the Central Certificate Store's settings.</summary>
internal static class ConfigurationChecks
{
    public static IEnumerable<Finding> ProtectedConfigurationKeys(MachineState state)
    {
        if (state.ApplicationHost is not { } config || state.MachineGuid is null) yield break;
        foreach (var provider in config.Providers)
        {
            if (provider.ExpectedKeyFilePrefix is not { } prefix || provider.KeyContainerName is not { } container) continue;
            if (provider.UseMachineContainer == false) continue; // a user container lives in a profile, not in MachineKeys
            var folder = provider.KeyStore == KeyStoreKind.Cng ? state.Catalogue.MachineCng.Path : state.Catalogue.MachineCapi.Path;
            var expected = $"{prefix}_{state.MachineGuid.ToLowerInvariant()}";
            var present = state.KeyFiles.Any(f => f.Folder == folder && f.Report.FileName.Equals(expected, StringComparison.OrdinalIgnoreCase));
            if (present) continue;
            var used = config.EncryptedAttributes.Count(a => a.Value is { } v && string.Equals(v.Provider, provider.Name, StringComparison.OrdinalIgnoreCase));
            var elsewhere = state.KeyFiles.Where(f => f.Folder == folder && f.Report.FileName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(f => f.Report.FileName).ToList();
            yield return IisConfigFindings.ProtectedConfigKeyMissing(provider, expected, state.MachineGuid, used, elsewhere, WindowsPaths.ApplicationHostConfig)
                with { Properties = new Dictionary<string, string> { ["keyFile"] = WindowsPaths.Combine(folder, expected) } };
        }
    }

    private const string CentralCertProviderKey = @"Microsoft\IIS\CentralCertProvider";

    /// <summary>
    /// KD3010: when a binding uses the Central Certificate Store, its provider must be enabled, name a share and an
    /// account with a password, and its secrets must be RSA ciphertexts of this server's iisWasKey (as long as its
    /// modulus): a registry restored from another server, or an iisWasKey re-created, leaves secrets nothing opens.
    /// </summary>
    public static IEnumerable<Finding> CentralCertificateStore(MachineState state)
    {
        if (state.Registry?.Software is not { } software) yield break;
        var users = state.HttpSysBindings.Where(b => b.Kind == Formats.Registry.HttpSysBindingKind.CentralCertificateStore).Select(b => $"HTTP.sys ccs {b.Endpoint}")
            .Concat((state.ApplicationHost?.Sites ?? []).SelectMany(site => site.Bindings
                .Where(b => b.IsHttps && b.SslFlags is { } flags && flags.HasFlag(SslFlags.CentralCertStore))
                .Select(b => $"site {site.Name} ({b.BindingInformation})")))
            .Distinct().ToList();
        if (users.Count == 0) yield break;

        var registryPath = $@"HKLM\SOFTWARE\{CentralCertProviderKey}";
        var settings = software.OpenKey(CentralCertProviderKey);
        var problems = new List<string>();
        var evidence = new List<Evidence>(users.Take(10).Select(u => Evidence.ForValue("uses the Central Certificate Store", u)));
        if (settings is null) problems.Add($"the provider is not configured ({registryPath} is missing)");
        else
        {
            var enabled = settings.GetValue("Enabled")?.AsNumber();
            evidence.Add(Evidence.ForRegistry(registryPath, "Enabled", enabled?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(missing)"));
            if (enabled != 1) problems.Add("the provider is disabled");
            var location = settings.GetValue("CertStoreLocation")?.AsString();
            evidence.Add(Evidence.ForRegistry(registryPath, "CertStoreLocation", location ?? "(missing)"));
            if (string.IsNullOrWhiteSpace(location)) problems.Add("it names no certificate share (CertStoreLocation)");
            var user = settings.GetValue("UserName")?.AsString();
            evidence.Add(Evidence.ForRegistry(registryPath, "UserName", user ?? "(missing)"));
            if (string.IsNullOrWhiteSpace(user)) problems.Add("it names no account to read the share (UserName)");
            var wasKey = state.KeyFiles.FirstOrDefault(f => f.InMachineCapi && f.Report.WellKnown?.Name == "iisWasKey"
                && ContainerName.TrySplitFileName(f.Report.FileName, out _, out var guid)
                && string.Equals(guid?.ToString("D"), state.MachineGuid, StringComparison.OrdinalIgnoreCase));
            foreach (var name in new[] { "Password", "PrivateKeyPassword" })
            {
                var value = settings.GetValue(name);
                var length = value?.Data.Length ?? 0;
                evidence.Add(Evidence.ForRegistry(registryPath, name, value is null ? "(missing)" : $"{length} bytes (encrypted; not shown)"));
                if (value is null || length == 0)
                {
                    if (name == "Password") problems.Add("it holds no password for the account (Password)");
                    continue;
                }
                if (wasKey is null)
                    problems.Add($"its {name} is encrypted with iisWasKey, which has no intact key file for MachineGuid {state.MachineGuid ?? "?"}");
                else if (MachineState.IsDamaged(wasKey.Report.Status))
                    problems.Add($"its {name} is encrypted with iisWasKey, whose key file is damaged ({wasKey.WindowsPath})");
                else if (wasKey.Report.KeyBits is { } bits && value.Type == Formats.Registry.RegistryValueType.Binary && length * 8 != bits)
                    problems.Add($"its {name} ({length * 8}-bit ciphertext) was not encrypted with this server's {bits}-bit iisWasKey: the settings came from another server or iisWasKey was re-created");
            }
            if (wasKey is not null) evidence.Add(Evidence.ForFile(wasKey.WindowsPath, "iisWasKey", value: $"{KeyFileStatusNames.Of(wasKey.Report.Status)}, {wasKey.Report.KeyBits} bits"));
        }
        if (problems.Count == 0) yield break;
        yield return new Finding(FindingCatalog.CentralCertificateStoreBroken, "Central Certificate Store",
            $"{users.Count} binding(s) use the Central Certificate Store, but {string.Join("; ", problems)}")
        {
            Evidence = evidence,
            Properties = new Dictionary<string, string> { ["registryKey"] = registryPath },
            Fix = CentralCertificateStoreFix(),
        };
    }

    /// <summary>
    /// KD3010: the settings entered again (IIS encrypts the secrets with this server's iisWasKey); both passwords are
    /// read at the console, never put on a command line.
    /// </summary>
    private static Fix CentralCertificateStoreFix() => new("Enter the Central Certificate Store settings again on this server (IIS Manager, Centralized Certificates, Edit Feature Settings, or the commands here): the share, the account, and both passwords, which IIS encrypts with this server's iisWasKey.")
    {
        Commands =
        [
            ShellCommand.Run("reg", "query", @"HKLM\SOFTWARE\" + CentralCertProviderKey),
            IisConfigFindings.PowerShellWithSecret("Password of the account that reads the certificate share",
                "Import-Module WebAdministration; Set-WebCentralCertProvider -Password $secret"),
            IisConfigFindings.PowerShellWithSecret("Password of the PFX files in the certificate share",
                "Import-Module WebAdministration; Set-WebCentralCertProvider -PrivateKeyPassword $secret"),
            ShellCommand.Run("reg", "add", @"HKLM\SOFTWARE\" + CentralCertProviderKey, "/v", "Enabled", "/t", "REG_DWORD", "/d", "1", "/f"),
        ],
        Risk = "Needs the account's password and the PFX files' password; both are read at the console. A share or account that is missing is set in IIS Manager first. The change applies to new TLS connections; no restart.",
        NeedsDecision = true,
    };
}
