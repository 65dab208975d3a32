using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Sites and their bindings; for each https binding the SSL chain IIS needs at run time: HTTP.sys binding →
/// certificate → key link → key file, each link looked up on the machine when the lookup can, and the 5506 hash
/// customMetadata keeps compared with what HTTP.sys serves.
/// </summary>
internal sealed class SiteBindingInspector(IisInspection run)
{
    private readonly List<IisSiteView> _sites = [];

    public IReadOnlyList<IisSiteView> Sites => _sites;

    public void Add(ApplicationHostConfig config, string path)
    {
        foreach (var site in config.Sites)
        {
            var legacy = site.Id is { } id ? CustomMetadataInspector.LegacySslOf(config, id) : null;
            var bindings = site.Bindings.Select(b => BindingView(site, b, legacy, path)).ToList();
            _sites.Add(new IisSiteView(site.Id, site.Name, path, site.Line, bindings));
        }
    }

    private IisBindingView BindingView(IisSite site, IisBinding binding, LegacySsl? legacy, string path)
    {
        IisSslChainView? chain = null;
        if (binding.IsHttps && IisInspector.HttpSysKeyOf(binding) is { } key)
            chain = SslChain(site, binding, key, legacy, path);
        var flags = binding.SslFlags;
        return new IisBindingView(binding.Protocol, binding.BindingInformation, binding.Endpoint?.Address,
            binding.Endpoint?.Port, binding.Endpoint?.Host, flags is null ? null : (int)flags.Value,
            flags is null ? null : FlagNames(flags.Value), binding.Line, chain);
    }

    private IisSslChainView SslChain(IisSite site, IisBinding binding, HttpSysBindingKey key, LegacySsl? legacy, string path)
    {
        var lookup = run.Lookup;
        var where = IisInspection.At(path, binding.Line, $"site[@name='{site.Name}']/bindings/binding[@bindingInformation='{binding.BindingInformation}']");
        HttpSysSslBinding? httpSys = null;
        CertificateInfo? certificate = null;
        KeyFileStatus? keyFile = null;
        if (lookup.CanFindHttpSysBindings)
        {
            httpSys = lookup.FindHttpSysBinding(key);
            if (httpSys is null) run.Findings.Add(IisConfigFindings.MissingHttpSysBinding(site, binding, key, path));
        }
        if (httpSys?.CertificateThumbprint is { } thumbprint)
        {
            if (lookup.CanFindCertificates)
            {
                var store = httpSys.CertificateStoreName ?? "MY";
                certificate = lookup.FindCertificate(thumbprint, store);
                if (certificate is null)
                    run.Findings.Add(Finding.Create(FindingCatalog.HttpSysBindingCertificateMissing, httpSys.Key,
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
                run.Findings.Add(Finding.Create(FindingCatalog.CertificateWithoutKeyLink, certificate.Thumbprint,
                    certificate.Thumbprint, certificate.Subject, bound) with
                {
                    Evidence = [where, Evidence.ForCertificate(certificate.Thumbprint, $"{certificate.Subject}, store {certificate.StoreName}")],
                });
            else if (lookup.CanFindKeyFiles && certificate.KeyStore is { } store && certificate.KeyContainerName is { } container)
            {
                keyFile = lookup.FindKeyFile(store, container);
                if (IisInspection.IsKeyFileMissing(keyFile))
                    run.Findings.Add(Finding.Create(FindingCatalog.CertificateKeyFileMissing, certificate.Thumbprint,
                        certificate.Thumbprint, container, IisInspection.ExpectedFileName(keyFile)) with
                    {
                        Evidence = [where, IisInspection.KeyFileEvidence(keyFile)],
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
        if (run.Findings.Any(f => f.Descriptor == FindingCatalog.StaleMetabaseCertificateHash && f.Subject == subject)) return;
        run.Findings.Add(new Finding(FindingCatalog.StaleMetabaseCertificateHash, subject,
            $"customMetadata {legacy.KeyPath} property 5506 holds certificate hash {legacy.Hash}, but HTTP.sys serves {serving} " +
            $"for site '{site.Name}'; the next IIS 6 compatibility client will switch the binding back")
        {
            Evidence = [where, Evidence.ForValue("HTTP.sys SslCertHash", serving)],
            Fix = IisConfigFindings.RemoveLegacySslProperties(legacy.KeyPath),
        });
    }

    private static IReadOnlyList<string> FlagNames(SslFlags flags) => flags == SslFlags.None
        ? ["None"]
        : Enum.GetValues<SslFlags>().Where(f => f != SslFlags.None && flags.HasFlag(f)).Select(f => f.ToString())
            .Concat((flags & ~(SslFlags)127) != 0 ? [$"0x{(int)(flags & ~(SslFlags)127):X}"] : [])
            .ToList();
}
