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
        private readonly List<Finding> _findings = [];
        private readonly List<IisSiteView> _sites = [];
        private readonly List<IisMetadataView> _metadata = [];
        private readonly List<(ProtectedConfigProvider Provider, string Source)> _providers = [];
        private readonly List<(EncryptedAttribute Attribute, string Source)> _encrypted = [];
        private IisSharedConfigurationView? _shared;
        private IisMetabaseView? _metabase;

        /// <summary>The IIS 6 certificate hash (5506) customMetadata keeps for a site, and the key that holds it.</summary>
        private sealed record LegacySsl(string KeyPath, string Hash, string? Store);

        public void Missing(string kind, string path) => _files.Add(new IisFileView(kind, path, "missing", null));

        public void Unreadable(string kind, string path, string problem)
        {
            _files.Add(new IisFileView(kind, path, "unreadable", problem));
            _findings.Add(Finding.Create(FindingCatalog.EvidenceUnavailable, path, kind, problem) with
            {
                // A scan lists an unreadable file as info, one gap among many; here it is the file the user asked about.
                Severity = Severity.Error,
                Evidence = [Evidence.ForFile(path, kind)],
            });
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
                var legacy = site.Id is { } id ? LegacySslOf(config, id) : null;
                var bindings = site.Bindings.Select(b => BindingView(site, b, legacy, path)).ToList();
                _sites.Add(new IisSiteView(site.Id, site.Name, path, site.Line, bindings));
            }
        }

        private static LegacySsl? LegacySslOf(ApplicationHostConfig config, long siteId)
        {
            foreach (var key in config.CustomMetadata.Where(k => k.SiteId == siteId))
                if (key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslCertHash)?.CertificateThumbprint is { } hash)
                    return new LegacySsl(key.Path, hash, key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslStoreName)?.Value);
            return null;
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
                _findings.Add(Finding.Create(FindingCatalog.SharedConfigurationPlaintextPassword, $"{path} password",
                    $"'{config.UserName}'") with
                {
                    Evidence = [Evidence.ForConfiguration(path, "configurationRedirection/@password", "clear text")],
                });
            if (target?.Problem is { } problem)
                _findings.Add(Finding.Create(FindingCatalog.SharedConfigurationUnreachable, config.Path ?? path,
                    path, problem) with
                {
                    Evidence = [Evidence.ForConfiguration(path, "configurationRedirection/@path", config.Path)],
                });
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
            const string sessionKeySubject = "IIS_Global SessionKey";
            var sessionKeyAt = metabase.Global is { } global
                ? At(path, global.Line, "IIS_Global/@SessionKey")
                : Evidence.ForConfiguration(path, "IIS_Global/@SessionKey");
            switch (sessionKey.Status)
            {
                case MetabaseBlobStatus.Missing:
                    _findings.Add(Finding.Create(FindingCatalog.MetabaseSessionKeyUnusable, sessionKeySubject,
                        $"is missing ({sessionKey.Problem})") with { Evidence = [sessionKeyAt] });
                    break;
                case MetabaseBlobStatus.Malformed:
                    _findings.Add(Finding.Create(FindingCatalog.MetabaseSessionKeyUnusable, sessionKeySubject,
                        $"is damaged: {sessionKey.Problem}") with { Evidence = [sessionKeyAt] });
                    break;
                default:
                    if (sessionKey.Blob!.Warnings.Count > 0)
                        _findings.Add(Finding.Create(FindingCatalog.MetabaseSessionKeyUnusual, sessionKeySubject,
                            string.Join("; ", sessionKey.Blob.Warnings)) with { Evidence = [sessionKeyAt] });
                    break;
            }

            var secure = metabase.SecureProperties.Select(p => new IisMetabaseSecureView(p.KeyType, p.Location, p.Name, p.Id,
                p.Line, p.Status, p.EncryptedDataLength, p.Problem)).ToList();
            foreach (var property in metabase.SecureProperties.Where(p => p.Status == MetabaseBlobStatus.Malformed))
                _findings.Add(Finding.Create(FindingCatalog.MetabaseSecurePropertyDamaged, $"{property.Location} {property.Name}",
                    property.Name, property.Location, property.Problem) with
                {
                    Evidence = [At(path, property.Line, $"{property.KeyType}[@Location='{property.Location}']/@{property.Name}")],
                });

            var sites = metabase.Keys
                .Where(k => k.ServerBindings.Count > 0 || k.SecureBindings.Count > 0 || k.SslCertHash is not null || k.SslStoreName is not null)
                .Select(k => new IisMetabaseSiteView(k.KeyType, k.Location, k.SiteId, k.ServerComment, k.ServerBindings,
                    k.SecureBindings, k.SslCertHash, k.SslStoreName, MetabaseSiteCertificate(k, path)))
                .ToList();

            KeyFileStatus? keyFile = null;
            if (lookup.CanFindKeyFiles)
            {
                keyFile = lookup.FindKeyFile(KeyStoreKind.CryptoApi, MetabaseKeyContainer);
                // As in the scan (KD1002): the container matters only while there is a SessionKey for it to open.
                if (IsKeyFileMissing(keyFile) && sessionKey.Status != MetabaseBlobStatus.Missing)
                    _findings.Add(Finding.Create(FindingCatalog.Iis6ContainerBroken, MetabaseKeyContainer,
                        keyFile.Prefix, keyFile.MatchingFiles.Count == 0
                            ? "has no key file at all"
                            : $"exists only under another MachineGuid ({string.Join(", ", keyFile.MatchingFiles.Select(GuidSuffixOf))})") with
                    {
                        Evidence = [KeyFileEvidence(keyFile), Evidence.ForConfiguration(path, $"IIS_Global SessionKey is {sessionKey.Status}")],
                    });
            }

            _metabase = new IisMetabaseView(path, metabase.Namespace, metabase.Global?.ChangeNumber,
                metabase.Global?.HistoryMajorVersion, sessionView, MetabaseKeyContainer,
                KeyDoctor.Formats.KeyFiles.ContainerName.CapiPrefix(MetabaseKeyContainer), keyFile, sites, secure,
                historyDirectory is null ? null : HistoryView(historyDirectory),
                metaBackDirectory is null ? null : SafeScan(() => MetabaseHistory.ScanBackups(metaBackDirectory)));
        }

        private CertificateInfo? MetabaseSiteCertificate(MetabaseKey key, string path)
        {
            if (key.SslCertHash is not { } thumbprint || !lookup.CanFindCertificates) return null;
            var certificate = lookup.FindCertificate(thumbprint, key.SslStoreName);
            if (certificate is null)
                _findings.Add(Finding.Create(FindingCatalog.MetabaseCertificateMissing, $"{key.Location} SSLCertHash",
                    key.Location, thumbprint, key.SslStoreName ?? "MY") with
                {
                    Evidence = [At(path, key.Line, $"{key.KeyType}[@Location='{key.Location}']/@SSLCertHash", thumbprint)],
                });
            return certificate;
        }

        private IisMetabaseHistoryView? HistoryView(string directory)
        {
            var entries = SafeScan(() => MetabaseHistory.Scan(directory));
            if (entries is null) return null;
            var choice = MetabaseHistory.PickLastGood(entries);
            var rejected = choice.Rejected.Select(r => $"{Path.GetFileName(r.Entry.MetabasePath)}: {r.Reason}").ToList();
            if (entries.Count > 0 && choice.Chosen is null)
                _findings.Add(Finding.Create(FindingCatalog.MetabaseHistoryNotRestorable, directory,
                    entries.Count, directory) with
                {
                    Evidence = rejected.Select(r => Evidence.ForValue("rejected", r)).ToList(),
                });
            return new IisMetabaseHistoryView(directory, entries.Count, choice.Chosen?.MetabasePath,
                choice.Chosen?.MajorVersion, choice.Chosen?.MinorVersion, rejected);
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
            var value = property.IsSecure ? null : property.CertificateThumbprint ?? property.Value;
            CertificateInfo? certificate = null;
            if (property.CertificateThumbprint is { } thumbprint)
            {
                var site = key.SiteId is { } id ? config.Sites.FirstOrDefault(s => s.Id == id) : null;
                var store = key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslStoreName)?.Value;
                if (lookup.CanFindCertificates) certificate = lookup.FindCertificate(thumbprint, store);
                // A hash naming a certificate that is gone is KD2005 (stale); only a live one is the KD2010 notice.
                if (lookup.CanFindCertificates && certificate is null)
                    _findings.Add(IisConfigFindings.LegacyCertificateNotInStore(key, thumbprint, store ?? "MY", path));
                else
                    _findings.Add(Finding.Create(FindingCatalog.LegacySslCertificateHash, IisConfigFindings.LegacyHashSubject(key.Path),
                        key.Path, thumbprint, site is null ? "" : $" (site '{site.Name}')") with
                    {
                        Evidence = [At(path, property.Line, $"customMetadata/key[@path='{key.Path}']/property[@id='{property.Id}']", thumbprint)],
                        Fix = IisConfigFindings.RemoveLegacySslProperties(key.Path),
                    });
            }
            return new IisMetadataView(key.Path, key.SiteId, property.Id, property.Name, property.DataType, value,
                property.IsSecure, property.Line, certificate);
        }

        private IisBindingView BindingView(IisSite site, IisBinding binding, LegacySsl? legacy, string path)
        {
            IisSslChainView? chain = null;
            if (binding.IsHttps && HttpSysKeyOf(binding) is { } key)
                chain = SslChain(site, binding, key, legacy, path);
            var flags = binding.SslFlags;
            return new IisBindingView(binding.Protocol, binding.BindingInformation, binding.Endpoint?.Address,
                binding.Endpoint?.Port, binding.Endpoint?.Host, flags is null ? null : (int)flags.Value,
                flags is null ? null : FlagNames(flags.Value), binding.Line, chain);
        }

        private IisSslChainView SslChain(IisSite site, IisBinding binding, HttpSysBindingKey key, LegacySsl? legacy, string path)
        {
            var where = At(path, binding.Line, $"site[@name='{site.Name}']/bindings/binding[@bindingInformation='{binding.BindingInformation}']");
            HttpSysSslBinding? httpSys = null;
            CertificateInfo? certificate = null;
            KeyFileStatus? keyFile = null;
            if (lookup.CanFindHttpSysBindings)
            {
                httpSys = lookup.FindHttpSysBinding(key);
                if (httpSys is null) _findings.Add(IisConfigFindings.MissingHttpSysBinding(site, binding, key, path));
            }
            if (httpSys?.CertificateThumbprint is { } thumbprint)
            {
                if (lookup.CanFindCertificates)
                {
                    var store = httpSys.CertificateStoreName ?? "MY";
                    certificate = lookup.FindCertificate(thumbprint, store);
                    if (certificate is null)
                        _findings.Add(Finding.Create(FindingCatalog.HttpSysBindingCertificateMissing, httpSys.Key,
                            httpSys.Key, thumbprint, store) with
                        {
                            Evidence = [where, Evidence.ForValue("HTTP.sys SslCertHash", thumbprint)],
                        });
                }
                if (legacy is not null && !legacy.Hash.Equals(thumbprint, StringComparison.OrdinalIgnoreCase))
                    AddLegacyHashDiffers(site, legacy, thumbprint, where);
            }
            if (certificate is not null)
            {
                var bound = $"HTTP.sys {httpSys!.Key}";
                if (!certificate.HasKeyLink)
                    _findings.Add(Finding.Create(FindingCatalog.CertificateWithoutKeyLink, certificate.Thumbprint,
                        certificate.Thumbprint, certificate.Subject, bound) with
                    {
                        Evidence = [where, Evidence.ForCertificate(certificate.Thumbprint, $"{certificate.Subject}, store {certificate.StoreName}")],
                    });
                else if (lookup.CanFindKeyFiles && certificate.KeyStore is { } store && certificate.KeyContainerName is { } container)
                {
                    keyFile = lookup.FindKeyFile(store, container);
                    if (IsKeyFileMissing(keyFile))
                        _findings.Add(Finding.Create(FindingCatalog.CertificateKeyFileMissing, certificate.Thumbprint,
                            certificate.Thumbprint, container, ExpectedFileName(keyFile)) with
                        {
                            Evidence = [where, KeyFileEvidence(keyFile)],
                        });
                }
            }
            return new IisSslChainView(key.Kind, key.Key, httpSys, certificate, keyFile, legacy?.Hash, legacy?.Store);
        }

        /// <summary>
        /// KD2005 seen from HTTP.sys: the 5506 hash is not the certificate HTTP.sys serves, so the next IIS 6
        /// compatibility client switches the binding back. Once per customMetadata key, as the hash is per site.
        /// </summary>
        private void AddLegacyHashDiffers(IisSite site, LegacySsl legacy, string serving, Evidence where)
        {
            var subject = IisConfigFindings.LegacyHashSubject(legacy.KeyPath);
            if (_findings.Any(f => f.Descriptor == FindingCatalog.StaleMetabaseCertificateHash && f.Subject == subject)) return;
            _findings.Add(new Finding(FindingCatalog.StaleMetabaseCertificateHash, subject,
                $"customMetadata {legacy.KeyPath} property 5506 holds certificate hash {legacy.Hash}, but HTTP.sys serves {serving} " +
                $"for site '{site.Name}'; the next IIS 6 compatibility client will switch the binding back")
            {
                Evidence = [where, Evidence.ForValue("HTTP.sys SslCertHash", serving)],
                Fix = IisConfigFindings.RemoveLegacySslProperties(legacy.KeyPath),
            });
        }

        private static string GuidSuffixOf(string keyFileName) =>
            KeyDoctor.Formats.KeyFiles.ContainerName.TrySplitFileName(keyFileName, out _, out var guid) && guid is { } g ? g.ToString("D") : "?";

        /// <summary>Whether the store lacks this machine's file for a container (any file with the prefix counts while the MachineGuid is unknown).</summary>
        private static bool IsKeyFileMissing(KeyFileStatus status) => status.MatchingFiles.Count == 0 || status.Exists == false;

        private static string ExpectedFileName(KeyFileStatus status) => status.ExpectedFileName ?? $"{status.Prefix}_<MachineGuid>";

        private static Evidence KeyFileEvidence(KeyFileStatus status) => Evidence.ForValue(
            $"files with this container's prefix in {(status.Store == KeyStoreKind.CryptoApi ? "RSA\\MachineKeys" : "Crypto\\Keys")}" +
            (status.Problem is null ? "" : $" ({status.Problem})"),
            string.Join(", ", status.MatchingFiles.DefaultIfEmpty("none")));

        /// <summary>Where in a configuration file a finding comes from: the file, the element and its line.</summary>
        private static Evidence At(string path, int line, string element, string? value = null) =>
            Evidence.ForConfiguration(path, $"{element} (line {line})", value);

        private void AddProblems(string path, IReadOnlyList<IisConfigProblem> problems)
        {
            foreach (var problem in problems)
                _findings.Add(Finding.Create(FindingCatalog.ConfigurationValueInvalid, $"{path}:{problem.Line} {problem.Where}",
                    path, problem.Line, problem.Message) with
                {
                    Evidence = [At(path, problem.Line, problem.Where)],
                });
        }

        public IisReport Finish()
        {
            var known = _providers.Select(p => p.Provider.Name).ToHashSet(StringComparer.Ordinal);
            var values = new List<IisEncryptedValueView>();
            foreach (var (attribute, source) in _encrypted)
            {
                var name = $"{attribute.ElementPath}/@{attribute.AttributeName}";
                if (attribute.Problem is not null)
                    _findings.Add(Finding.Create(FindingCatalog.EncryptedValueMalformed, name,
                        name, attribute.Problem) with
                    {
                        Evidence = [At(source, attribute.Line, name)],
                    });
                else if (!known.Contains(attribute.Provider!))
                    _findings.Add(Finding.Create(FindingCatalog.EncryptedValueUnknownProvider, name,
                        name, attribute.Provider) with
                    {
                        Evidence = [At(source, attribute.Line, name), Evidence.ForValue("providers defined", string.Join(", ", known.Order(StringComparer.Ordinal).DefaultIfEmpty("none")))],
                    });
                values.Add(new IisEncryptedValueView(source, attribute.ElementPath, attribute.AttributeName, attribute.Line,
                    attribute.Provider, attribute.Value?.CiphertextLength, attribute.Problem));
            }

            var providers = new List<IisProviderView>();
            foreach (var (provider, source) in _providers)
            {
                var where = At(source, provider.Line, $"configProtectedData/providers/add[@name='{provider.Name}']");
                var uses = _encrypted.Count(e => e.Attribute.Provider == provider.Name);
                if (provider.SessionKeyProblem is not null)
                    _findings.Add(Finding.Create(FindingCatalog.SessionKeyUnusable, provider.Name,
                        provider.Name, $"has a sessionKey that is not a SIMPLEBLOB: {provider.SessionKeyProblem}") with
                    {
                        Evidence = [where],
                    });
                else if (provider.Kind == ProviderKind.Aes && !provider.HasSessionKeyAttribute)
                    _findings.Add(Finding.Create(FindingCatalog.SessionKeyUnusable, provider.Name,
                        provider.Name, "is an AES provider without a sessionKey") with
                    {
                        // No key to misread, only one to miss: nothing fails until a value encrypted elsewhere arrives.
                        Severity = Severity.Warning,
                        Evidence = [where],
                    });

                KeyFileStatus? keyFile = null;
                if (lookup.CanFindKeyFiles && provider.KeyStore is { } store && provider.KeyContainerName is { Length: > 0 } container
                    && provider.UseMachineContainer != false)
                {
                    keyFile = lookup.FindKeyFile(store, container);
                    if (IsKeyFileMissing(keyFile))
                        _findings.Add(IisConfigFindings.ProtectedConfigKeyMissing(provider, ExpectedFileName(keyFile),
                            lookup.MachineGuid ?? "(unknown)", uses, keyFile.MatchingFiles, source));
                }
                providers.Add(new IisProviderView(provider.Name, provider.Type, provider.Kind, source, provider.Line,
                    provider.KeyContainerName, provider.UseMachineContainer, provider.KeyStore, provider.ExpectedKeyFilePrefix,
                    provider.SessionKey is { } key
                        ? new IisSessionKeyView(key.KeyAlgorithmName, key.WrapAlgorithmName, key.WrappingKeyBits, key.EncryptedKeyLength)
                        : null,
                    provider.SessionKeyProblem, uses, keyFile));
            }

            // Worst first, in the scan's order, so both commands list the same findings the same way.
            var findings = _findings.OrderByDescending(f => f.Severity).ThenBy(f => f.Id, StringComparer.Ordinal)
                .ThenBy(f => f.Subject, StringComparer.Ordinal).ToList();
            return new IisReport(input, inputKind, lookup.Description, lookup.CanFindHttpSysBindings,
                lookup.CanFindCertificates, lookup.CanFindKeyFiles, lookup.MachineGuid, _files, _shared, _sites, _metadata,
                providers, values, _metabase, findings);
        }

        private static IReadOnlyList<string> FlagNames(SslFlags flags) => flags == SslFlags.None
            ? ["None"]
            : Enum.GetValues<SslFlags>().Where(f => f != SslFlags.None && flags.HasFlag(f)).Select(f => f.ToString())
                .Concat((flags & ~(SslFlags)127) != 0 ? [$"0x{(int)(flags & ~(SslFlags)127):X}"] : [])
                .ToList();
    }
}
