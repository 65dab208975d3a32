using KeyDoctor.Diagnosis.Iis;
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
}
