using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Which HTTP.sys SSL entry serves an IIS https binding, in HTTP.sys's own order. An IP binding is served by its
/// exact <c>IP:port</c> entry, else by the wildcard <c>0.0.0.0:port</c> (or <c>[::]:port</c>), which matches any
/// address: a site on <c>10.0.0.5:443</c> with only a <c>0.0.0.0:443</c> entry has a certificate. An SNI binding needs
/// its <c>host:port</c> entry (SslSniBindingInfo); a client without SNI falls back to the Central Certificate Store
/// entry for the port (SslCcsBindingInfo), then to the IP entries. A CCS binding uses the port's CCS entry.
/// </summary>
public static class HttpSysPrecedence
{
    /// <summary>
    /// The entry that serves <paramref name="key"/> (exact first, then the IP wildcard for an IP binding); null when
    /// none does and the site has no certificate.
    /// </summary>
    public static HttpSysBinding? Serving(IEnumerable<HttpSysBinding> bindings, HttpSysBindingKey key)
    {
        var list = bindings as IReadOnlyCollection<HttpSysBinding> ?? bindings.ToList();
        var exact = list.FirstOrDefault(b => RegistryMachineLookup.Matches(b, key));
        if (exact is not null || key.Kind != HttpSysBindingKind.IpPort) return exact;
        return Wildcards(list, Port(key.Key)).FirstOrDefault();
    }

    /// <summary>
    /// Every entry HTTP.sys may use for <paramref name="key"/>, including the fallbacks for clients without SNI:
    /// deleting any of them can leave that binding, or some of its clients, without a certificate.
    /// </summary>
    public static IEnumerable<HttpSysBinding> Chain(IEnumerable<HttpSysBinding> bindings, HttpSysBindingKey key)
    {
        var list = bindings as IReadOnlyCollection<HttpSysBinding> ?? bindings.ToList();
        var port = Port(key.Key);
        var chain = new List<HttpSysBinding>();
        chain.AddRange(list.Where(b => RegistryMachineLookup.Matches(b, key)));
        if (key.Kind == HttpSysBindingKind.Sni)
            chain.AddRange(list.Where(b => b.Kind == HttpSysBindingKind.CentralCertificateStore && b.Port == port));
        if (key.Kind is HttpSysBindingKind.Sni or HttpSysBindingKind.IpPort)
            chain.AddRange(Wildcards(list, port));
        return chain.Distinct();
    }

    /// <summary>True when some IIS https binding (its HTTP.sys key) may be served by <paramref name="entry"/>.</summary>
    public static bool IsUsed(HttpSysBinding entry, IEnumerable<HttpSysBinding> bindings, IEnumerable<HttpSysBindingKey> iisKeys)
    {
        var list = bindings as IReadOnlyCollection<HttpSysBinding> ?? bindings.ToList();
        return iisKeys.Any(key => Chain(list, key).Contains(entry));
    }

    private static IEnumerable<HttpSysBinding> Wildcards(IEnumerable<HttpSysBinding> bindings, int? port) =>
        bindings.Where(b => b.Kind == HttpSysBindingKind.IpPort && b.Port == port
                            && b.Host is "0.0.0.0" or "[::]" or "::")
            .OrderBy(b => b.Host == "0.0.0.0" ? 0 : 1);

    private static int? Port(string endpoint) => HttpSysBindingReader.SplitEndpoint(endpoint).Port;
}
