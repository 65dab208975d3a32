using System.Xml.Linq;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Reads the IIS configuration of an image (or one configuration file), joins it to the machine through an
/// <see cref="IIisMachineLookup"/>, and turns what it sees into an <see cref="IisReport"/> with findings.
/// An unreadable file is a finding, never an exception.
/// </summary>
public static class IisInspector
{
    public const string ApplicationHostKind = "applicationHost.config";
    public const string AdministrationKind = "administration.config";
    public const string RedirectionKind = "redirection.config";
    public const string MetabaseKind = "MetaBase.xml";

    /// <summary>The CryptoAPI container that holds the IIS 6 metabase keys.</summary>
    public const string MetabaseKeyContainer = "Microsoft Internet Information Server";

    /// <summary>Inspects the IIS files of an image: a folder holding a copy of the system drive.</summary>
    /// <param name="lookup">Machine data for the SSL chain; by default the image's key folders only.</param>
    public static IisReport InspectImage(string imageRoot, IIisMachineLookup? lookup = null)
    {
        var files = IisConfigLocator.FindImageFiles(imageRoot);
        var run = new Run(imageRoot, "image", lookup ?? new ImageKeyFolderLookup(files.CapiMachineKeysDirectory, files.CngMachineKeysDirectory));

        string? applicationHost = files.ApplicationHostConfig;
        string? administration = files.AdministrationConfig;
        if (files.RedirectionConfig is { } redirectionPath
            && run.ReadRedirection(redirectionPath, imageRoot) is { ApplicationHostConfig: not null } target)
        {
            // Shared configuration on: IIS reads the files at the target, not the local copies.
            applicationHost = target.ApplicationHostConfig;
            administration = target.AdministrationConfig ?? administration;
        }

        if (applicationHost is not null) run.ReadApplicationHost(applicationHost);
        else run.Missing(ApplicationHostKind, Path.Combine(files.ConfigDirectory ?? Path.Combine(imageRoot, "Windows", "System32", "inetsrv", "config"), "applicationHost.config"));
        if (administration is not null) run.ReadAdministration(administration);
        if (files.MetabaseXml is not null) run.ReadMetabase(files.MetabaseXml, files.HistoryDirectory, files.MetaBackDirectory);
        return run.Finish();
    }

    /// <summary>Inspects one file: applicationHost.config, administration.config, redirection.config or MetaBase.xml.</summary>
    public static IisReport InspectFile(string path, IIisMachineLookup? lookup = null)
    {
        var imageRoot = InferImageRoot(path);
        var defaultLookup = imageRoot is null
            ? (IIisMachineLookup)NoMachineLookup.Instance
            : LookupFor(IisConfigLocator.FindImageFiles(imageRoot));
        var run = new Run(path, "file", lookup ?? defaultLookup);
        byte[] data;
        try
        {
            data = SafeXml.ReadFile(path, "IIS configuration");
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
        {
            run.Unreadable("unknown", path, ex.Message);
            return run.Finish();
        }

        var kind = DetectKind(path, data, out var detectProblem);
        switch (kind)
        {
            case ApplicationHostKind: run.ReadApplicationHost(path, data); break;
            case AdministrationKind: run.ReadAdministration(path, data); break;
            case RedirectionKind: run.ReadRedirection(path, imageRoot, data); break;
            case MetabaseKind:
                var inetsrv = Path.GetDirectoryName(Path.GetFullPath(path))!;
                var isLive = string.Equals(Path.GetFileName(path), "MetaBase.xml", StringComparison.OrdinalIgnoreCase);
                run.ReadMetabase(path,
                    isLive ? IisConfigLocator.FindDirectory(inetsrv, "History") : null,
                    isLive ? IisConfigLocator.FindDirectory(inetsrv, "MetaBack") : null, data);
                break;
            default: run.Unreadable("unknown", path, detectProblem ?? "not an IIS configuration file"); break;
        }
        return run.Finish();
    }

    /// <summary>Which IIS file this is: by its name first, then by its root element.</summary>
    public static string? DetectKind(string path, ReadOnlyMemory<byte> data, out string? problem)
    {
        problem = null;
        var name = Path.GetFileName(path).ToLowerInvariant();
        if (name == "applicationhost.config") return ApplicationHostKind;
        if (name == "administration.config") return AdministrationKind;
        if (name == "redirection.config") return RedirectionKind;
        if (name == "metabase.xml" || (name.StartsWith("metabase_", StringComparison.Ordinal) && name.EndsWith(".xml", StringComparison.Ordinal)))
            return MetabaseKind;
        XElement root;
        try
        {
            root = SafeXml.Load(data, "IIS configuration").Root!;
        }
        catch (MalformedDataException ex)
        {
            problem = ex.Message;
            return null;
        }
        if (root.Name.NamespaceName.StartsWith("urn:microsoft-catalog:XML_Metabase", StringComparison.OrdinalIgnoreCase))
            return MetabaseKind;
        if (root.Name.LocalName != "configuration")
        {
            problem = $"root element <{root.Name.LocalName}> is not an IIS configuration";
            return null;
        }
        if (root.Element("configurationRedirection") is not null) return RedirectionKind;
        if (root.Element("system.applicationHost") is not null) return ApplicationHostKind;
        if (root.Element("moduleProviders") is not null || root.Element("system.webServer")?.Element("management") is not null)
            return AdministrationKind;
        problem = "a <configuration> file with neither sites, shared configuration, IIS Manager settings nor a metabase";
        return null;
    }

    /// <summary>The HTTP.sys entry an https binding needs: CCS by port, SNI by host:port, else IP:port.</summary>
    public static HttpSysBindingKey? HttpSysKeyOf(IisBinding binding)
    {
        if (binding.Endpoint is not { } endpoint) return null;
        var flags = binding.SslFlags ?? SslFlags.None;
        if (flags.HasFlag(SslFlags.CentralCertStore))
            return new HttpSysBindingKey(HttpSysBindingKind.CentralCertificateStore, $"0.0.0.0:{endpoint.Port}");
        if (flags.HasFlag(SslFlags.Sni))
            return new HttpSysBindingKey(HttpSysBindingKind.Sni, $"{endpoint.Host}:{endpoint.Port}");
        var address = endpoint.Ip switch
        {
            null => "0.0.0.0",
            { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ip => $"[{ip}]",
            var ip => ip.ToString(),
        };
        return new HttpSysBindingKey(HttpSysBindingKind.IpPort, $"{address}:{endpoint.Port}");
    }

    /// <summary>The image root of a file at …\Windows\System32\inetsrv[\config]\name, else null.</summary>
    internal static string? InferImageRoot(string path)
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (directory.Name.Equals("config", StringComparison.OrdinalIgnoreCase)) directory = directory.Parent;
        string[] expected = ["inetsrv", "System32", "Windows"];
        foreach (var name in expected)
        {
            if (directory is null || !directory.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return null;
            directory = directory.Parent;
        }
        return directory?.FullName;
    }

    private static ImageKeyFolderLookup LookupFor(IisImageFiles files) =>
        new(files.CapiMachineKeysDirectory, files.CngMachineKeysDirectory);

    /// <summary>One inspection: accumulates what each file says, then builds the joined report.</summary>
    private sealed class Run(string input, string inputKind, IIisMachineLookup lookup)
    {
        private readonly List<IisFileView> _files = [];
        private readonly List<IisFinding> _findings = [];
        private readonly List<IisSiteView> _sites = [];
        private readonly List<IisMetadataView> _metadata = [];
        private readonly List<(ProtectedConfigProvider Provider, string Source)> _providers = [];
        private readonly List<(EncryptedAttribute Attribute, string Source)> _encrypted = [];
        private IisSharedConfigurationView? _shared;
        private IisMetabaseView? _metabase;

        public void Missing(string kind, string path) => _files.Add(new IisFileView(kind, path, "missing", null));

        public void Unreadable(string kind, string path, string problem)
        {
            _files.Add(new IisFileView(kind, path, "unreadable", problem));
            Add(IisFindingIds.ConfigUnreadable, IisSeverity.Error, $"{kind} cannot be read: {problem}", path);
        }

        private T? Read<T>(string kind, string path, ReadOnlyMemory<byte>? data, Func<ReadOnlyMemory<byte>, T> parse) where T : class
        {
            try
            {
                var result = parse(data ?? SafeXml.ReadFile(path, kind));
                _files.Add(new IisFileView(kind, path, "read", null));
                return result;
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
            {
                Unreadable(kind, path, ex.Message);
                return null;
            }
        }

        public void ReadApplicationHost(string path, ReadOnlyMemory<byte>? data = null)
        {
            if (Read(ApplicationHostKind, path, data, ApplicationHostConfig.Parse) is not { } config) return;
            AddProblems(path, config.Problems);
            _providers.AddRange(config.Providers.Select(p => (p, path)));
            _encrypted.AddRange(config.EncryptedAttributes.Select(a => (a, path)));

            foreach (var key in config.CustomMetadata)
                foreach (var property in key.Properties.Where(p => MetabasePropertyIds.IsSsl(p.Id)))
                    _metadata.Add(MetadataView(config, key, property, path));

            foreach (var site in config.Sites)
            {
                var legacy = site.Id is { } id ? config.SslMetadataFor(id).ToList() : [];
                var legacyHash = legacy.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslCertHash)?.CertificateThumbprint;
                var legacyStore = legacy.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslStoreName)?.Value;
                var bindings = site.Bindings.Select(b => BindingView(site, b, legacyHash, legacyStore, path)).ToList();
                _sites.Add(new IisSiteView(site.Id, site.Name, path, site.Line, bindings));
            }
        }

        public void ReadAdministration(string path, ReadOnlyMemory<byte>? data = null)
        {
            if (Read(AdministrationKind, path, data, AdministrationConfig.Parse) is not { } config) return;
            AddProblems(path, config.Problems);
            _providers.AddRange(config.Providers.Select(p => (p, path)));
            _encrypted.AddRange(config.EncryptedAttributes.Select(a => (a, path)));
        }

        public SharedConfigurationTarget? ReadRedirection(string path, string? imageRoot, ReadOnlyMemory<byte>? data = null)
        {
            if (Read(RedirectionKind, path, data, RedirectionConfig.Parse) is not { } config) return null;
            AddProblems(path, config.Problems);
            _providers.AddRange(config.Providers.Select(p => (p, path)));
            _encrypted.AddRange(config.EncryptedAttributes.Select(a => (a, path)));
            var target = config.Enabled ? IisConfigLocator.ResolveRedirection(config, imageRoot) : null;
            _shared = new IisSharedConfigurationView(path, config.Enabled, config.Path, config.UserName,
                config.PasswordKind switch
                {
                    RedirectionPasswordKind.Encrypted => "encrypted",
                    RedirectionPasswordKind.Plaintext => "plaintext",
                    _ => "none",
                },
                config.Password?.Provider, target?.LocalDirectory, target?.Problem);
            if (config.PasswordKind == RedirectionPasswordKind.Plaintext)
                Add(IisFindingIds.SharedConfigPlaintextPassword, IisSeverity.Warning,
                    $"the shared-configuration password of '{config.UserName}' is stored in clear text (not shown)", path);
            if (target?.Problem is { } problem)
                Add(IisFindingIds.SharedConfigUnreachable, IisSeverity.Warning,
                    $"shared configuration is on, but {problem}; the local applicationHost.config is shown instead", path);
            return target;
        }

        public void ReadMetabase(string path, string? historyDirectory, string? metaBackDirectory, ReadOnlyMemory<byte>? data = null)
        {
            if (Read(MetabaseKind, path, data, MetabaseXml.Parse) is not { } metabase) return;
            AddProblems(path, metabase.Problems);

            var sessionKey = metabase.SessionKey;
            var sessionView = new IisMetabaseSessionKeyView(sessionKey.Status, sessionKey.Problem, sessionKey.Offset,
                sessionKey.Blob?.SimpleBlob.KeyAlgorithmName, sessionKey.Blob?.SimpleBlob.WrappingKeyBits,
                sessionKey.Blob?.SignedHashLength, sessionKey.Blob is { Warnings.Count: > 0 } b ? b.Warnings : null);
            var where = metabase.Global is { } global ? $"{path}:{global.Line} IIS_Global" : path;
            switch (sessionKey.Status)
            {
                case MetabaseBlobStatus.Missing:
                    Add(IisFindingIds.MetabaseSessionKeyMissing, IisSeverity.Error,
                        $"the metabase has no session key ({sessionKey.Problem}): IISADMIN cannot decrypt any secure property", where);
                    break;
                case MetabaseBlobStatus.Malformed:
                    Add(IisFindingIds.MetabaseSessionKeyMalformed, IisSeverity.Error,
                        $"the metabase session key is damaged: {sessionKey.Problem}", where);
                    break;
                default:
                    if (sessionKey.Blob!.Warnings.Count > 0)
                        Add(IisFindingIds.MetabaseSessionKeyUnusual, IisSeverity.Info,
                            "the metabase session key departs from MS-IMSA: " + string.Join("; ", sessionKey.Blob.Warnings), where);
                    break;
            }

            var secure = metabase.SecureProperties.Select(p => new IisMetabaseSecureView(p.KeyType, p.Location, p.Name, p.Id,
                p.Line, p.Status, p.EncryptedDataLength, p.Problem)).ToList();
            foreach (var property in metabase.SecureProperties.Where(p => p.Status == MetabaseBlobStatus.Malformed))
                Add(IisFindingIds.MetabaseSecurePropertyMalformed, IisSeverity.Error,
                    $"secure property {property.Name} of {property.Location} is damaged: {property.Problem}",
                    $"{path}:{property.Line} {property.KeyType}[@Location='{property.Location}']");

            var sites = metabase.Keys
                .Where(k => k.ServerBindings.Count > 0 || k.SecureBindings.Count > 0 || k.SslCertHash is not null || k.SslStoreName is not null)
                .Select(k => new IisMetabaseSiteView(k.KeyType, k.Location, k.SiteId, k.ServerComment, k.ServerBindings,
                    k.SecureBindings, k.SslCertHash, k.SslStoreName,
                    k.SslCertHash is null ? null : LookupCertificate(k.SslCertHash, k.SslStoreName, $"{path}:{k.Line} SSLCertHash of {k.Location}")))
                .ToList();

            KeyFileStatus? keyFile = null;
            if (lookup.CanFindKeyFiles)
            {
                keyFile = lookup.FindKeyFile(KeyStoreKind.CryptoApi, MetabaseKeyContainer);
                ReportKeyFile(keyFile, $"metabase container '{MetabaseKeyContainer}'", IisSeverity.Error, path);
            }

            _metabase = new IisMetabaseView(path, metabase.Namespace, metabase.Global?.ChangeNumber,
                metabase.Global?.HistoryMajorVersion, sessionView, MetabaseKeyContainer,
                KeyDoctor.Formats.KeyFiles.ContainerName.CapiPrefix(MetabaseKeyContainer), keyFile, sites, secure,
                historyDirectory is null ? null : HistoryView(historyDirectory),
                metaBackDirectory is null ? null : SafeScan(() => MetabaseHistory.ScanBackups(metaBackDirectory)));
        }

        private IisMetabaseHistoryView? HistoryView(string directory)
        {
            var entries = SafeScan(() => MetabaseHistory.Scan(directory));
            if (entries is null) return null;
            var choice = MetabaseHistory.PickLastGood(entries);
            if (entries.Count > 0 && choice.Chosen is null)
                Add(IisFindingIds.MetabaseHistoryNoGoodCopy, IisSeverity.Warning,
                    $"none of the {entries.Count} metabase history copies can be restored", directory);
            return new IisMetabaseHistoryView(directory, entries.Count, choice.Chosen?.MetabasePath,
                choice.Chosen?.MajorVersion, choice.Chosen?.MinorVersion,
                choice.Rejected.Select(r => $"{Path.GetFileName(r.Entry.MetabasePath)}: {r.Reason}").ToList());
        }

        private static T? SafeScan<T>(Func<T> scan) where T : class
        {
            try
            {
                return scan();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        private IisMetadataView MetadataView(ApplicationHostConfig config, CustomMetadataKey key, CustomMetadataProperty property, string path)
        {
            var where = $"{path}:{property.Line} customMetadata/key[@path='{key.Path}']/property[@id='{property.Id}']";
            var value = property.IsSecure ? null : property.CertificateThumbprint ?? property.Value;
            CertificateInfo? certificate = null;
            if (property.CertificateThumbprint is { } thumbprint)
            {
                var site = key.SiteId is { } id ? config.Sites.FirstOrDefault(s => s.Id == id) : null;
                var store = key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslStoreName)?.Value;
                Add(IisFindingIds.LegacySslCertHash, IisSeverity.Warning,
                    $"customMetadata keeps the IIS 6 SSL certificate hash {thumbprint} for {key.Path}" +
                    (site is null ? "" : $" (site '{site.Name}')") +
                    "; IIS 6 compatibility clients (IIS 6 Manager, adsutil.vbs, ABO scripts) re-create the HTTP.sys binding from it",
                    where);
                if (lookup.CanFindCertificates)
                {
                    certificate = lookup.FindCertificate(thumbprint, store);
                    if (certificate is null)
                        Add(IisFindingIds.LegacySslCertMissing, IisSeverity.Error,
                            $"the legacy SSL certificate hash {thumbprint} of {key.Path} names a certificate that is not in the {store ?? "MY"} store",
                            where);
                }
            }
            return new IisMetadataView(key.Path, key.SiteId, property.Id, property.Name, property.DataType, value,
                property.IsSecure, property.Line, certificate);
        }

        private IisBindingView BindingView(IisSite site, IisBinding binding, string? legacyHash, string? legacyStore, string path)
        {
            var where = $"{path}:{binding.Line} site[@name='{site.Name}']/bindings/binding[@bindingInformation='{binding.BindingInformation}']";
            IisSslChainView? chain = null;
            if (binding.IsHttps && HttpSysKeyOf(binding) is { } key)
                chain = SslChain(site, key, legacyHash, legacyStore, where);
            var flags = binding.SslFlags;
            return new IisBindingView(binding.Protocol, binding.BindingInformation, binding.Endpoint?.Address,
                binding.Endpoint?.Port, binding.Endpoint?.Host, flags is null ? null : (int)flags.Value,
                flags is null ? null : FlagNames(flags.Value), binding.Line, chain);
        }

        private IisSslChainView SslChain(IisSite site, HttpSysBindingKey key, string? legacyHash, string? legacyStore, string where)
        {
            HttpSysSslBinding? httpSys = null;
            CertificateInfo? certificate = null;
            KeyFileStatus? keyFile = null;
            if (lookup.CanFindHttpSysBindings)
            {
                httpSys = lookup.FindHttpSysBinding(key);
                if (httpSys is null)
                    Add(IisFindingIds.HttpSysBindingMissing, IisSeverity.Error,
                        $"site '{site.Name}' has an https binding but HTTP.sys has no {key.Kind} SSL binding for {key.Key}", where);
            }
            if (httpSys?.CertificateThumbprint is { } thumbprint)
            {
                certificate = LookupCertificate(thumbprint, httpSys.CertificateStoreName, where);
                if (legacyHash is not null && !legacyHash.Equals(thumbprint, StringComparison.OrdinalIgnoreCase))
                    Add(IisFindingIds.LegacySslCertStale, IisSeverity.Error,
                        $"site '{site.Name}': HTTP.sys uses certificate {thumbprint}, but customMetadata 5506 still names {legacyHash}; " +
                        "the next IIS 6 compatibility client will switch the binding back", where);
            }
            if (certificate is not null)
            {
                if (!certificate.HasKeyLink)
                    Add(IisFindingIds.CertificateNoKeyLink, IisSeverity.Error,
                        $"certificate {certificate.Thumbprint} ({certificate.Subject}) of site '{site.Name}' has no private-key link", where);
                else if (lookup.CanFindKeyFiles && certificate.KeyStore is { } store && certificate.KeyContainerName is { } container)
                {
                    keyFile = lookup.FindKeyFile(store, container);
                    ReportKeyFile(keyFile, $"the private key of certificate {certificate.Thumbprint} (container '{container}')", IisSeverity.Error, where);
                }
            }
            return new IisSslChainView(key.Kind, key.Key, httpSys, certificate, keyFile, legacyHash, legacyStore);
        }

        private CertificateInfo? LookupCertificate(string thumbprint, string? store, string where)
        {
            if (!lookup.CanFindCertificates) return null;
            var certificate = lookup.FindCertificate(thumbprint, store);
            if (certificate is null)
                Add(IisFindingIds.CertificateMissing, IisSeverity.Error,
                    $"certificate {thumbprint} is not in the {store ?? "MY"} store", where);
            return certificate;
        }

        private void ReportKeyFile(KeyFileStatus status, string what, IisSeverity severity, string where)
        {
            var store = status.Store == KeyStoreKind.CryptoApi ? "RSA\\MachineKeys" : "Crypto\\Keys";
            if (status.Problem is not null && status.MatchingFiles.Count == 0)
                Add(IisFindingIds.KeyFileMissing, severity, $"{what}: no key file {status.Prefix}_* ({status.Problem})", where);
            else if (status.MatchingFiles.Count == 0)
                Add(IisFindingIds.KeyFileMissing, severity, $"{what}: no key file {status.Prefix}_* in {store}", where);
            else if (status.Exists == false)
                Add(IisFindingIds.KeyFileWrongMachineGuid, severity,
                    $"{what}: {store} has {string.Join(", ", status.MatchingFiles)} but this machine's file would be {status.ExpectedFileName} (MachineGuid changed?)",
                    where);
        }

        private void AddProblems(string path, IReadOnlyList<IisConfigProblem> problems)
        {
            foreach (var problem in problems)
                Add(IisFindingIds.ConfigProblem, IisSeverity.Warning, problem.Message, $"{path}:{problem.Line} {problem.Where}");
        }

        private void Add(string id, IisSeverity severity, string message, string? where) =>
            _findings.Add(new IisFinding(id, severity, message, where));

        public IisReport Finish()
        {
            var known = _providers.Select(p => p.Provider.Name).ToHashSet(StringComparer.Ordinal);
            var values = new List<IisEncryptedValueView>();
            foreach (var (attribute, source) in _encrypted)
            {
                var where = $"{source}:{attribute.Line} {attribute.ElementPath}/@{attribute.AttributeName}";
                if (attribute.Problem is not null)
                    Add(IisFindingIds.EncryptedValueMalformed, IisSeverity.Error, $"encrypted value is malformed: {attribute.Problem}", where);
                else if (!known.Contains(attribute.Provider!))
                    Add(IisFindingIds.EncryptedValueUnknownProvider, IisSeverity.Error,
                        $"encrypted with provider '{attribute.Provider}', which no configProtectedData section defines", where);
                values.Add(new IisEncryptedValueView(source, attribute.ElementPath, attribute.AttributeName, attribute.Line,
                    attribute.Provider, attribute.Value?.CiphertextLength, attribute.Problem));
            }

            var providers = new List<IisProviderView>();
            foreach (var (provider, source) in _providers)
            {
                var where = $"{source}:{provider.Line} configProtectedData/providers/add[@name='{provider.Name}']";
                var uses = _encrypted.Count(e => e.Attribute.Provider == provider.Name);
                if (provider.SessionKeyProblem is not null)
                    Add(IisFindingIds.SessionKeyMalformed, IisSeverity.Error,
                        $"provider '{provider.Name}' has a sessionKey that is not a SIMPLEBLOB: {provider.SessionKeyProblem}", where);
                else if (provider.Kind == ProviderKind.Aes && !provider.HasSessionKeyAttribute)
                    Add(IisFindingIds.SessionKeyMissing, IisSeverity.Warning,
                        $"AES provider '{provider.Name}' has no sessionKey; values it encrypted cannot be decrypted", where);

                KeyFileStatus? keyFile = null;
                if (lookup.CanFindKeyFiles && provider.KeyStore is { } store && provider.KeyContainerName is { Length: > 0 } container
                    && provider.UseMachineContainer != false)
                {
                    keyFile = lookup.FindKeyFile(store, container);
                    ReportKeyFile(keyFile, $"provider '{provider.Name}' (container '{container}', used by {uses} encrypted value(s))",
                        uses > 0 ? IisSeverity.Error : IisSeverity.Warning, where);
                }
                providers.Add(new IisProviderView(provider.Name, provider.Type, provider.Kind, source, provider.Line,
                    provider.KeyContainerName, provider.UseMachineContainer, provider.KeyStore, provider.ExpectedKeyFilePrefix,
                    provider.SessionKey is { } key
                        ? new IisSessionKeyView(key.KeyAlgorithmName, key.WrapAlgorithmName, key.WrappingKeyBits, key.EncryptedKeyLength)
                        : null,
                    provider.SessionKeyProblem, uses, keyFile));
            }

            return new IisReport(input, inputKind, lookup.Description, lookup.CanFindHttpSysBindings,
                lookup.CanFindCertificates, lookup.CanFindKeyFiles, lookup.MachineGuid, _files, _shared, _sites, _metadata,
                providers, values, _metabase, _findings);
        }

        private static IReadOnlyList<string> FlagNames(SslFlags flags) => flags == SslFlags.None
            ? ["None"]
            : Enum.GetValues<SslFlags>().Where(f => f != SslFlags.None && flags.HasFlag(f)).Select(f => f.ToString())
                .Concat((flags & ~(SslFlags)127) != 0 ? [$"0x{(int)(flags & ~(SslFlags)127):X}"] : [])
                .ToList();
    }
}
