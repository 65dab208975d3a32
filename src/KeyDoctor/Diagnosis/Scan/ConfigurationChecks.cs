using KeyDoctor.Formats.Iis;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD3001: protected-configuration providers whose key container has no key file for this MachineGuid.</summary>
internal static class ConfigurationChecks
{
    public static IEnumerable<Finding> ProtectedConfigurationKeys(MachineState state)
    {
        if (state.ApplicationHost is not { } config || state.MachineGuid is null) yield break;
        foreach (var provider in config.Providers)
        {
            if (provider.ExpectedKeyFilePrefix is not { } prefix || provider.KeyContainerName is not { } container) continue;
            if (provider.UseMachineContainer == false) continue; // a user container lives in a profile, not in MachineKeys
            var folder = provider.KeyStore == KeyStoreKind.Cng ? WindowsPaths.CngMachineKeys : WindowsPaths.MachineKeys;
            var expected = $"{prefix}_{state.MachineGuid.ToLowerInvariant()}";
            var present = state.KeyFiles.Any(f => f.Folder == folder && f.Report.FileName.Equals(expected, StringComparison.OrdinalIgnoreCase));
            if (present) continue;
            var used = config.EncryptedAttributes.Count(a => a.Value is { } v && string.Equals(v.Provider, provider.Name, StringComparison.OrdinalIgnoreCase));
            var elsewhere = state.KeyFiles.Where(f => f.Folder == folder && f.Report.FileName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(f => f.Report.FileName).ToList();
            yield return new Finding(FindingCatalog.ProtectedConfigKeyMissing, provider.Name,
                FindingCatalog.ProtectedConfigKeyMissing.FormatMessage(provider.Name, container, expected, state.MachineGuid, used))
            {
                // A provider nothing uses is a latent problem; one with encrypted values breaks application pools now.
                Severity = used > 0 ? Severity.Error : Severity.Warning,
                Evidence =
                [
                    Evidence.ForConfiguration(WindowsPaths.ApplicationHostConfig,
                        $"provider {provider.Name} ({provider.Type}) on line {provider.Line}", container),
                    Evidence.ForValue("files with this container's prefix", string.Join(", ", elsewhere.DefaultIfEmpty("none"))),
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
    }
}
