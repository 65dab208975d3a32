using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>The IIS 6 certificate hash (5506) customMetadata keeps for a site, and the key that holds it.</summary>
internal sealed record LegacySsl(string KeyPath, string Hash, string? Store);

/// <summary>
/// applicationHost.config's customMetadata (the IIS 6 compatibility store): every SSL property (5500-5599) as a view,
/// and the 5506 certificate hash checked against the certificate stores (KD2005 when the certificate is gone, the
/// KD2010 notice while it is there).
/// </summary>
internal sealed class CustomMetadataInspector(IisInspection run)
{
    private readonly List<IisMetadataView> _properties = [];

    public IReadOnlyList<IisMetadataView> Properties => _properties;

    public void Add(ApplicationHostConfig config, string path)
    {
        foreach (var key in config.CustomMetadata)
            foreach (var property in key.Properties.Where(p => MetabasePropertyIds.IsSsl(p.Id)))
                _properties.Add(View(config, key, property, path));
    }

    /// <summary>The 5506 hash kept for a site, which ABO clients write back to HTTP.sys; null when there is none.</summary>
    public static LegacySsl? LegacySslOf(ApplicationHostConfig config, long siteId)
    {
        foreach (var key in config.CustomMetadata.Where(k => k.SiteId == siteId))
            if (key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslCertHash)?.CertificateThumbprint is { } hash)
                return new LegacySsl(key.Path, hash, key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslStoreName)?.Value);
        return null;
    }

    private IisMetadataView View(ApplicationHostConfig config, CustomMetadataKey key, CustomMetadataProperty property, string path)
    {
        var lookup = run.Lookup;
        var value = property.IsSecure ? null : property.CertificateThumbprint ?? property.Value;
        CertificateInfo? certificate = null;
        if (property.CertificateThumbprint is { } thumbprint)
        {
            var site = key.SiteId is { } id ? config.Sites.FirstOrDefault(s => s.Id == id) : null;
            var store = key.Properties.FirstOrDefault(p => p.Id == MetabasePropertyIds.SslStoreName)?.Value;
            if (lookup.CanFindCertificates) certificate = lookup.FindCertificate(thumbprint, store);
            // A hash naming a certificate that is gone is KD2005 (stale); only a live one is the KD2010 notice.
            if (lookup.CanFindCertificates && certificate is null)
                run.Findings.Add(IisConfigFindings.LegacyCertificateNotInStore(key, thumbprint, store ?? "MY", path));
            else
                run.Findings.Add(Finding.Create(FindingCatalog.LegacySslCertificateHash, IisConfigFindings.LegacyHashSubject(key.Path),
                    key.Path, thumbprint, site is null ? "" : $" (site '{site.Name}')") with
                {
                    Evidence = [IisInspection.At(path, property.Line, $"customMetadata/key[@path='{key.Path}']/property[@id='{property.Id}']", thumbprint)],
                    Fix = IisConfigFindings.RemoveLegacySslProperties(key.Path),
                });
        }
        return new IisMetadataView(key.Path, key.SiteId, property.Id, property.Name, property.DataType, value,
            property.IsSecure, property.Line, certificate);
    }
}
