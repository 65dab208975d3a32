using System.Globalization;

namespace KeyDoctor.Formats.Registry;

public enum HttpSysBindingKind
{
    /// <summary>SslBindingInfo\&lt;IP:port&gt; (netsh http show sslcert ipport=).</summary>
    IpPort,

    /// <summary>SslSniBindingInfo\&lt;host:port&gt; (hostnameport=).</summary>
    Sni,

    /// <summary>SslCcsBindingInfo\&lt;port or IP:port&gt; (Central Certificate Store, ccs=).</summary>
    CentralCertificateStore,
}

/// <summary>
/// One HTTP.sys SSL binding as stored under <c>Services\HTTP\Parameters</c>: the endpoint is the key name; the
/// values mirror HTTP_SERVICE_CONFIG_SSL_PARAM (SslCertHash, SslCertStoreName, AppId, DefaultFlags, ...).
/// </summary>
public sealed record HttpSysBinding(
    HttpSysBindingKind Kind,
    string Endpoint,
    string? Host,
    int? Port,
    string? CertificateHash,
    string? CertificateStoreName,
    Guid? AppId,
    uint? DefaultFlags,
    uint? DefaultCertCheckMode,
    uint? DefaultRevocationFreshnessTime,
    uint? DefaultRevocationUrlRetrievalTimeout,
    string? DefaultSslCtlIdentifier,
    string? DefaultSslCtlStoreName,
    string RegistryPath,
    IReadOnlyList<string> OtherValues)
{
    /// <summary>The store HTTP.sys actually uses: "MY" when the value is missing or empty.</summary>
    public string EffectiveStoreName => string.IsNullOrEmpty(CertificateStoreName) ? "MY" : CertificateStoreName;
}

public static class HttpSysBindingReader
{
    private static readonly HashSet<string> KnownValues = new(StringComparer.OrdinalIgnoreCase)
    {
        "SslCertHash", "SslCertStoreName", "AppId", "DefaultFlags", "DefaultCertCheckMode", "DefaultRevocationFreshnessTime",
        "DefaultRevocationUrlRetrievalTimeout", "DefaultSslCtlIdentifier", "DefaultSslCtlStoreName",
    };

    /// <summary>Every binding under an HTTP <c>Parameters</c> key (the three binding kinds).</summary>
    public static IReadOnlyList<HttpSysBinding> Read(RegistryKey parameters)
    {
        var result = new List<HttpSysBinding>();
        foreach (var (name, kind) in new[]
                 {
                     ("SslBindingInfo", HttpSysBindingKind.IpPort),
                     ("SslSniBindingInfo", HttpSysBindingKind.Sni),
                     ("SslCcsBindingInfo", HttpSysBindingKind.CentralCertificateStore),
                 })
        {
            if (parameters.OpenSubkey(name) is not { } list) continue;
            foreach (var key in list.Subkeys) result.Add(ReadBinding(key, kind));
        }
        return result;
    }

    public static HttpSysBinding ReadBinding(RegistryKey key, HttpSysBindingKind kind)
    {
        var (host, port) = SplitEndpoint(key.Name);
        var hash = key.GetValue("SslCertHash");
        string? hashText = hash is null ? null
            : hash.IsStringType ? hash.AsString() : Convert.ToHexString(hash.Data.Span);
        return new HttpSysBinding(kind, key.Name, host, port, hashText,
            key.GetValue("SslCertStoreName")?.AsString(),
            ReadGuid(key.GetValue("AppId")),
            Number(key, "DefaultFlags"),
            Number(key, "DefaultCertCheckMode"),
            Number(key, "DefaultRevocationFreshnessTime"),
            Number(key, "DefaultRevocationUrlRetrievalTimeout"),
            key.GetValue("DefaultSslCtlIdentifier")?.AsString(),
            key.GetValue("DefaultSslCtlStoreName")?.AsString(),
            key.Path,
            key.Values.Where(v => !KnownValues.Contains(v.Name)).Select(v => v.Name).ToList());
    }

    /// <summary>"0.0.0.0:443" → ("0.0.0.0", 443); "[::]:443" → ("[::]", 443); "443" → (null, 443).</summary>
    public static (string? Host, int? Port) SplitEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        var hostPart = colon < 0 ? null : endpoint[..colon];
        var portPart = colon < 0 ? endpoint : endpoint[(colon + 1)..];
        int? port = int.TryParse(portPart, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535 ? p : null;
        if (port is null) return (endpoint, null);
        return (hostPart, port);
    }

    private static uint? Number(RegistryKey key, string name) => key.GetValue(name)?.AsNumber() is { } n ? (uint)n : null;

    private static Guid? ReadGuid(RegistryValue? value)
    {
        if (value is null) return null;
        if (value.IsStringType) return Guid.TryParse(value.AsString(), out var parsed) ? parsed : null;
        return value.Data.Length == 16 ? new Guid(value.Data.Span) : null;
    }
}
