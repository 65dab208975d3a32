using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Diagnosis.Farm;

/// <summary>
/// One server of a farm as the comparison sees it: the facts that must agree across nodes (MachineGuid, key
/// containers with public-key fingerprints, certificates with their key links, HTTP.sys bindings, protected-configuration
/// providers, encrypted values, customMetadata) and the node's own scan findings. Built from a scan
/// (<see cref="From"/>) or read back from a scan store: either way the same values, so the comparison gives the same
/// findings. Nothing secret: fingerprints and hashes, never key material or decrypted values.
/// </summary>
public sealed record FarmNode
{
    /// <summary>The image folder or bundle as the user gave it: what identifies the node in the output.</summary>
    public required string Source { get; init; }

    /// <summary>The computer name from the SYSTEM hive (else the bundle manifest's); null when neither is known.</summary>
    public string? ComputerName { get; init; }

    public string? MachineGuid { get; init; }

    /// <summary>When the bundle was collected; null for an image folder.</summary>
    public DateTimeOffset? CollectedUtc { get; init; }

    public long KeyFileCount { get; init; }

    /// <summary>The SOFTWARE and SYSTEM hives were read: certificates and bindings are known (else they are not compared).</summary>
    public bool RegistryRead { get; init; }

    /// <summary>applicationHost.config was read: providers, encrypted values and customMetadata are known.</summary>
    public bool ConfigurationRead { get; init; }

    public IReadOnlyList<NodeKey> Keys { get; init; } = [];
    public IReadOnlyList<NodeCertificate> Certificates { get; init; } = [];
    public IReadOnlyList<NodeBinding> Bindings { get; init; } = [];
    public IReadOnlyList<NodeProvider> Providers { get; init; } = [];
    public IReadOnlyList<NodeEncryptedValue> EncryptedValues { get; init; } = [];
    public IReadOnlyList<NodeMetadata> CustomMetadata { get; init; } = [];

    /// <summary>The node's own scan findings, worst first, as <c>scan</c> reports them.</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];

    /// <summary>What people call the node: its computer name, else its source.</summary>
    public string Name => ComputerName ?? Source;

    /// <summary>"WEB01 (bundles/web01.zip)", for messages that name nodes.</summary>
    public string Label => ComputerName is null ? Source : $"{ComputerName} ({Source})";

    /// <summary>Stores whose certificates the farm compares: where server certificates live, plus any store a binding names.</summary>
    public static readonly IReadOnlyList<string> ServerCertificateStores = ["MY", "WebHosting"];

    /// <summary>The comparison's facts of a scanned machine; <paramref name="source"/> is the path as the user gave it.</summary>
    public static FarmNode From(ScanResult scan, string source)
    {
        var state = scan.State;
        var registryRead = state.Registry?.Software is not null && state.Registry.System is not null;
        return new FarmNode
        {
            Source = source,
            ComputerName = state.ComputerName,
            MachineGuid = state.MachineGuid,
            CollectedUtc = state.Source.Info.CollectedUtc,
            KeyFileCount = state.KeyFileCount,
            RegistryRead = registryRead,
            ConfigurationRead = state.ApplicationHost is not null,
            Keys = KeysOf(state),
            Certificates = registryRead ? CertificatesOf(state) : [],
            Bindings = registryRead ? BindingsOf(state) : [],
            Providers = (state.ApplicationHost?.Providers ?? [])
                .Select(p => new NodeProvider(p.Name, p.Type, p.KeyContainerName, p.ExpectedKeyFilePrefix,
                    p.SessionKeyBlob.IsEmpty ? null : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(p.SessionKeyBlob.Span))))
                .OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase).ThenBy(p => p.Type, StringComparer.Ordinal).ToList(),
            EncryptedValues = (state.ApplicationHost?.EncryptedAttributes ?? [])
                .Select(a => new NodeEncryptedValue(a.ElementPath, a.AttributeName, a.Provider))
                .OrderBy(v => v.Element, StringComparer.Ordinal).ThenBy(v => v.Attribute, StringComparer.Ordinal).ToList(),
            CustomMetadata = (state.ApplicationHost?.CustomMetadata ?? [])
                .SelectMany(k => k.Properties.Select(p => new NodeMetadata(k.Path, p.Id,
                    p.IsSecure ? "(secure)" : p.Value ?? "")))
                .OrderBy(m => m.Path, StringComparer.OrdinalIgnoreCase).ThenBy(m => m.PropertyId).ToList(),
            Findings = scan.Findings,
        };
    }

    /// <summary>Key files of containers a farm shares: well-known ones, those a certificate links to, those a provider names.</summary>
    private static List<NodeKey> KeysOf(MachineState state)
    {
        var named = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var certificate in state.Certificates)
            if (certificate.Entry?.KeyProviderInfo is { ContainerName: not null } link) named.Add(link.KeyFilePrefix);
        foreach (var provider in state.ApplicationHost?.Providers ?? [])
            if (provider.ExpectedKeyFilePrefix is { } prefix) named.Add(prefix);
        Guid? guid = Guid.TryParse(state.MachineGuid, out var g) ? g : null;
        return state.KeyFiles
            .Where(f => f.Report.WellKnown is not null || (f.Report.FileName.Length >= 32 && named.Contains(f.Report.FileName[..32])))
            .Select(f => new NodeKey(
                f.Folder,
                f.Report.FileName,
                f.Report.Kind == KeyProviderKind.Cng ? "CNG" : "CAPI",
                f.Report.Container ?? f.Report.WellKnown?.Name,
                f.Report.PublicKeySha256,
                KeyFileStatusNames.Of(f.Report.Status),
                guid is { } current && ContainerName.TrySplitFileName(f.Report.FileName, out _, out var suffix) && suffix == current))
            .OrderBy(k => k.Folder, StringComparer.OrdinalIgnoreCase).ThenBy(k => k.FileName, StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static List<NodeCertificate> CertificatesOf(MachineState state)
    {
        var bound = state.HttpSysBindings.Where(b => b.CertificateHash is not null)
            .Select(b => (b.EffectiveStoreName, b.CertificateHash!)).ToHashSet(new StoreThumbprintComparer());
        return state.Certificates
            .Where(c => c.Location == "LocalMachine"
                        && (ServerCertificateStores.Contains(c.Store, StringComparer.OrdinalIgnoreCase) || bound.Contains((c.Store, c.Thumbprint))))
            .Select(c => CertificateOf(state, c))
            .OrderBy(c => c.Store, StringComparer.OrdinalIgnoreCase).ThenBy(c => c.Thumbprint, StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static NodeCertificate CertificateOf(MachineState state, StoredCertificate stored)
    {
        var x509 = stored.Entry?.Certificate;
        var link = stored.Entry?.KeyProviderInfo;
        var publicKey = x509 is null ? null : PublicKeyInfo.FingerprintOf(x509);
        string status;
        string? keyFile = null;
        if (x509 is null) status = "unreadable";
        else if (link?.ContainerName is null) status = "no-key-link";
        else
        {
            var linked = state.FindLinkedKeyFile(link);
            keyFile = linked.KeyFile?.WindowsPath ?? WindowsPaths.Combine(linked.Folder, linked.Expected.FileName);
            if (linked.KeyFile is not { } file)
                status = state.FindKeyOutsideMachineStore(link).Count > 0 ? "key-in-user-profile" : "key-file-missing";
            else if (MachineState.IsDamaged(file.Report.Status)) status = KeyFileStatusNames.Of(file.Report.Status);
            else if (file.Report.PublicKeySha256 is { } keyHash && !keyHash.Equals(publicKey, StringComparison.OrdinalIgnoreCase)) status = "key-mismatch";
            else status = "ok";
        }
        return new NodeCertificate(stored.Store, stored.Thumbprint, x509?.Subject,
            x509?.NotAfter.ToUniversalTime(), publicKey, link?.ContainerName, keyFile, status);
    }

    private static List<NodeBinding> BindingsOf(MachineState state)
    {
        // The IIS sites that need each HTTP.sys entry, so a row can say what a missing binding breaks.
        var sites = new Dictionary<(HttpSysBindingKind, string), SortedSet<string>>();
        foreach (var site in state.ApplicationHost?.Sites ?? [])
            foreach (var binding in site.Bindings.Where(b => b.IsHttps))
                if (IisInspector.HttpSysKeyOf(binding) is { } key)
                {
                    var match = state.HttpSysBindings.FirstOrDefault(b => RegistryMachineLookup.Matches(b, key));
                    var id = (key.Kind, match?.Endpoint ?? key.Key);
                    if (!sites.TryGetValue(id, out var names)) sites[id] = names = new SortedSet<string>(StringComparer.Ordinal);
                    names.Add(site.Name);
                }
        var rows = state.HttpSysBindings
            .Select(b => new NodeBinding(b.Endpoint, KindName(b.Kind), b.CertificateHash, b.CertificateHash is null ? null : b.EffectiveStoreName,
                sites.TryGetValue((b.Kind, b.Endpoint), out var names) ? string.Join(", ", names) : ""))
            .ToList();
        // IIS https bindings with no HTTP.sys entry on this node: the row exists, without a certificate.
        foreach (var ((kind, endpoint), names) in sites)
            if (!state.HttpSysBindings.Any(b => b.Kind == kind && b.Endpoint.Equals(endpoint, StringComparison.OrdinalIgnoreCase)))
                rows.Add(new NodeBinding(endpoint, KindName(kind), null, null, string.Join(", ", names)));
        return rows.OrderBy(b => b.Kind, StringComparer.Ordinal).ThenBy(b => b.Endpoint, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>The binding kinds' stable names: "ipPort", "sni", "ccs".</summary>
    public static string KindName(HttpSysBindingKind kind) => kind switch
    {
        HttpSysBindingKind.Sni => "sni",
        HttpSysBindingKind.CentralCertificateStore => "ccs",
        _ => "ipPort",
    };

    private sealed class StoreThumbprintComparer : IEqualityComparer<(string Store, string Thumbprint)>
    {
        public bool Equals((string Store, string Thumbprint) x, (string Store, string Thumbprint) y) =>
            StringComparer.OrdinalIgnoreCase.Equals(x.Store, y.Store) && StringComparer.OrdinalIgnoreCase.Equals(x.Thumbprint, y.Thumbprint);

        public int GetHashCode((string Store, string Thumbprint) value) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(value.Store), StringComparer.OrdinalIgnoreCase.GetHashCode(value.Thumbprint));
    }
}

/// <summary>A machine key file of a container the farm shares.</summary>
/// <param name="Folder">The Windows folder (ProgramData\Microsoft\Crypto\RSA\MachineKeys, …\Crypto\Keys, …\SystemKeys).</param>
/// <param name="Kind">"CAPI" or "CNG".</param>
/// <param name="Container">The container name stored in the file (or the well-known name of its prefix); null when unreadable.</param>
/// <param name="PublicKeySha256">SHA-256 of the public key's SubjectPublicKeyInfo: equal fingerprints, same key pair.</param>
/// <param name="Status">The key file's status name ("ok", "truncated", …).</param>
/// <param name="UnderMachineGuid">The file name ends in the node's own MachineGuid (the file Windows opens).</param>
public sealed record NodeKey(string Folder, string FileName, string Kind, string? Container, string? PublicKeySha256, string Status, bool UnderMachineGuid)
{
    /// <summary>The 32-hex container prefix of the file name (the same on every node for the same container name).</summary>
    public string Prefix => FileName.Length >= 32 ? FileName[..32].ToLowerInvariant() : FileName.ToLowerInvariant();

    public string WindowsPath => WindowsPaths.Combine(Folder, FileName);
}

/// <summary>A machine certificate (MY, WebHosting, or a store a binding names) and whether its private key is usable.</summary>
/// <param name="KeyFile">The key file its link leads to (present or not).</param>
/// <param name="KeyStatus">"ok", "no-key-link", "key-file-missing", "key-in-user-profile", "key-mismatch", "unreadable", or the damaged key file's status.</param>
public sealed record NodeCertificate(string Store, string Thumbprint, string? Subject, DateTime? NotAfter, string? PublicKeySha256,
    string? KeyContainer, string? KeyFile, string KeyStatus)
{
    public bool HasPrivateKey => KeyStatus == "ok";
}

/// <summary>An HTTP.sys SSL binding (or an IIS https binding that has none on this node: no thumbprint).</summary>
/// <param name="Kind">"ipPort", "sni" or "ccs".</param>
/// <param name="Sites">The IIS sites whose https bindings need it, comma-separated; empty when none.</param>
public sealed record NodeBinding(string Endpoint, string Kind, string? Thumbprint, string? Store, string Sites);

/// <summary>A configProtectedData provider; the sessionKey is compared by its SHA-256, never shown.</summary>
/// <param name="KeyFilePrefix">The file-name prefix of its key container (null without a container).</param>
public sealed record NodeProvider(string Name, string Type, string? KeyContainer, string? KeyFilePrefix, string? SessionKeySha256);

/// <summary>An encrypted attribute of applicationHost.config and the provider that must decrypt it (never its value).</summary>
public sealed record NodeEncryptedValue(string Element, string Attribute, string? Provider);

/// <summary>A customMetadata property; secure values are "(secure)".</summary>
public sealed record NodeMetadata(string Path, uint PropertyId, string Value);
