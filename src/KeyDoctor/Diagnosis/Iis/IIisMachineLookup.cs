using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// The HTTP.sys SSL binding entry an IIS https binding needs: the table (<see cref="HttpSysBindingKind"/>, the
/// registry reader's) and the key IIS would write there ("IP:port", "host:port", or "0.0.0.0:port" for CCS).
/// </summary>
public sealed record HttpSysBindingKey(HttpSysBindingKind Kind, string Key);

/// <summary>An HTTP.sys SSL binding as the registry reader finds it (SYSTEM\…\HTTP\Parameters\Ssl*BindingInfo).</summary>
public sealed record HttpSysSslBinding(
    HttpSysBindingKind Kind,
    string Key,
    string? CertificateThumbprint,
    string? CertificateStoreName,
    Guid? AppId);

/// <summary>A certificate from a machine store, with the key link (CERT_KEY_PROV_INFO) it carries.</summary>
public sealed record CertificateInfo(
    string Thumbprint,
    string StoreName,
    string Subject,
    DateTimeOffset NotAfter,
    bool HasKeyLink,
    string? KeyContainerName,
    string? KeyProviderName,
    KeyStoreKind? KeyStore);

/// <summary>What the key store holds for one container name.</summary>
/// <param name="Prefix">MD5-derived file-name prefix of the container.</param>
/// <param name="MatchingFiles">File names in the store that start with the prefix, whatever their MachineGuid suffix.</param>
/// <param name="ExpectedFileName">prefix_MachineGuid, when the MachineGuid is known.</param>
/// <param name="Exists">Whether <paramref name="ExpectedFileName"/> exists; null when the MachineGuid is unknown.</param>
public sealed record KeyFileStatus(
    KeyStoreKind Store,
    string Prefix,
    string? Folder,
    IReadOnlyList<string> MatchingFiles,
    string? ExpectedFileName,
    bool? Exists,
    string? Problem);

/// <summary>
/// The machine-side half of the IIS SSL chain: IIS binding → HTTP.sys binding → certificate → key link → key file.
/// The IIS readers only see configuration files; an implementation of this interface joins them to the registry
/// (HTTP.sys bindings, certificate stores, MachineGuid) and the key stores. Each <c>Can…</c> property says whether
/// the matching lookup is available: when it is not, the report leaves that link out instead of calling it missing.
/// </summary>
public interface IIisMachineLookup
{
    /// <summary>Short name shown in reports, e.g. "none", "image key folders".</summary>
    string Description { get; }

    /// <summary>HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid, or null when unknown.</summary>
    string? MachineGuid { get; }

    bool CanFindHttpSysBindings { get; }
    bool CanFindCertificates { get; }
    bool CanFindKeyFiles { get; }

    /// <summary>The HTTP.sys entry for <paramref name="key"/>, or null when there is none.</summary>
    HttpSysSslBinding? FindHttpSysBinding(HttpSysBindingKey key);

    /// <summary>The certificate with this thumbprint (upper-case hex) in the named store ("MY" when null), or null.</summary>
    CertificateInfo? FindCertificate(string thumbprint, string? storeName);

    /// <summary>The key files for a machine key container or CNG key name.</summary>
    KeyFileStatus FindKeyFile(KeyStoreKind store, string containerName);
}

/// <summary>No machine data: the report shows what the configuration files alone say.</summary>
public sealed class NoMachineLookup : IIisMachineLookup
{
    public static readonly NoMachineLookup Instance = new();

    public string Description => "none";
    public string? MachineGuid => null;
    public bool CanFindHttpSysBindings => false;
    public bool CanFindCertificates => false;
    public bool CanFindKeyFiles => false;
    public HttpSysSslBinding? FindHttpSysBinding(HttpSysBindingKey key) => null;
    public CertificateInfo? FindCertificate(string thumbprint, string? storeName) => null;

    public KeyFileStatus FindKeyFile(KeyStoreKind store, string containerName) =>
        throw new NotSupportedException("no key store to look in");
}

/// <summary>
/// Looks for key files by name in an image's MachineKeys (CryptoAPI) and Crypto\Keys (CNG) folders. It does not
/// know the MachineGuid (that lives in the SOFTWARE hive), so it reports every file with the container's prefix.
/// </summary>
public sealed class ImageKeyFolderLookup(string? capiMachineKeys, string? cngMachineKeys, string? machineGuid = null)
    : IIisMachineLookup
{
    private const int MaxFilesPerFolder = 1_000_000;

    public string Description => "image key folders";
    public string? MachineGuid => machineGuid;
    public bool CanFindHttpSysBindings => false;
    public bool CanFindCertificates => false;
    public bool CanFindKeyFiles => capiMachineKeys is not null || cngMachineKeys is not null;
    public HttpSysSslBinding? FindHttpSysBinding(HttpSysBindingKey key) => null;
    public CertificateInfo? FindCertificate(string thumbprint, string? storeName) => null;

    public KeyFileStatus FindKeyFile(KeyStoreKind store, string containerName)
    {
        var folder = store == KeyStoreKind.CryptoApi ? capiMachineKeys : cngMachineKeys;
        var prefix = store == KeyStoreKind.CryptoApi
            ? KeyDoctor.Formats.KeyFiles.ContainerName.CapiPrefix(containerName)
            : KeyDoctor.Formats.KeyFiles.ContainerName.CngPrefix(containerName);
        var expected = machineGuid is null ? null : $"{prefix}_{machineGuid}";
        if (folder is null)
            return new KeyFileStatus(store, prefix, null, [], expected, null,
                store == KeyStoreKind.CryptoApi ? "no RSA\\MachineKeys folder in the image" : "no Crypto\\Keys folder in the image");
        List<string> matching;
        try
        {
            // Copies of Windows folders keep Windows' case-insensitive names: match the prefix the same way.
            var options = new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive, IgnoreInaccessible = true };
            matching = Directory.EnumerateFiles(folder, prefix + "_*", options).Take(MaxFilesPerFolder)
                .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new KeyFileStatus(store, prefix, folder, [], expected, null, ex.Message);
        }
        bool? exists = expected is null ? null : matching.Contains(expected, StringComparer.OrdinalIgnoreCase);
        return new KeyFileStatus(store, prefix, folder, matching, expected, exists, null);
    }
}
