using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// The whole SSL chain for an image: HTTP.sys bindings and certificate stores from the registry (hives or .reg
/// exports), the MachineGuid from SOFTWARE, and key files from the image's key folders.
/// </summary>
public sealed class RegistryMachineLookup : IIisMachineLookup
{
    private readonly WindowsRegistry _registry;
    private readonly ImageKeyFolderLookup _keyFolders;
    private readonly Lazy<IReadOnlyList<HttpSysBinding>> _bindings;
    private readonly Lazy<ILookup<string, StoredCertificate>> _certificates;

    public RegistryMachineLookup(WindowsRegistry registry, string? capiMachineKeys, string? cngMachineKeys)
    {
        _registry = registry;
        MachineGuid = registry.MachineGuid?.Trim().ToLowerInvariant();
        _keyFolders = new ImageKeyFolderLookup(capiMachineKeys, cngMachineKeys, MachineGuid);
        _bindings = new(() => registry.HttpSysBindings);
        _certificates = new(() => registry.Certificates()
            .Where(c => c.Location.StartsWith("LocalMachine", StringComparison.Ordinal))
            .ToLookup(c => c.Thumbprint, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The lookup for an image root, or null when the image has neither SOFTWARE nor SYSTEM (hive or .reg).</summary>
    public static RegistryMachineLookup? ForImage(string imageRoot)
    {
        var registry = WindowsRegistry.OpenImage(imageRoot);
        if (registry.Software is null && registry.System is null) return null;
        var files = IisConfigLocator.FindImageFiles(imageRoot);
        return new RegistryMachineLookup(registry, files.CapiMachineKeysDirectory, files.CngMachineKeysDirectory);
    }

    public string Description => "registry and key folders";
    public string? MachineGuid { get; }
    public bool CanFindHttpSysBindings => _registry.System is not null;
    public bool CanFindCertificates => _registry.Software is not null;
    public bool CanFindKeyFiles => _keyFolders.CanFindKeyFiles;

    public HttpSysSslBinding? FindHttpSysBinding(HttpSysBindingKey key)
    {
        // HTTP.sys's precedence: an IP binding without its own entry is served by the 0.0.0.0 (or [::]) wildcard.
        return HttpSysPrecedence.Serving(_bindings.Value, key) is { } binding
            ? new HttpSysSslBinding(key.Kind, binding.Endpoint, binding.CertificateHash, binding.EffectiveStoreName, binding.AppId)
            : null;
    }

    public CertificateInfo? FindCertificate(string thumbprint, string? storeName)
    {
        var store = string.IsNullOrEmpty(storeName) ? "MY" : storeName;
        var found = _certificates.Value[thumbprint].FirstOrDefault(c => string.Equals(c.Store, store, StringComparison.OrdinalIgnoreCase));
        if (found?.Entry is not { } entry) return null;
        var certificate = entry.Certificate;
        var link = entry.KeyProviderInfo;
        return new CertificateInfo(found.Thumbprint, found.Store, certificate?.Subject ?? "(unreadable certificate)",
            certificate is null ? DateTimeOffset.MinValue : new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            link is not null, link?.ContainerName, link?.ProviderName,
            link is null ? null : link.IsCng ? KeyStoreKind.Cng : KeyStoreKind.CryptoApi);
    }

    public KeyFileStatus FindKeyFile(KeyStoreKind store, string containerName) => _keyFolders.FindKeyFile(store, containerName);

    // IIS keys: "0.0.0.0:443" / "[::]:443" (IP), "host:443" (SNI), "0.0.0.0:443" (CCS); the registry keeps the
    // endpoint as HTTP.sys writes it. Compare case-insensitively, and CCS by port alone.
    internal static bool Matches(HttpSysBinding binding, HttpSysBindingKey key) =>
        binding.Kind == key.Kind && (key.Kind == HttpSysBindingKind.CentralCertificateStore
            ? binding.Port is { } port && key.Key.EndsWith(":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            : string.Equals(binding.Endpoint, key.Key, StringComparison.OrdinalIgnoreCase));
}
