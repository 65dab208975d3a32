using System.Globalization;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// One <c>system.applicationHost/customMetadata/key</c>: properties the IIS 6 compatibility layer (ABO mapper)
/// keeps for a metabase path, e.g. <c>LM/W3SVC/1</c>.
/// </summary>
/// <param name="SiteId">The site id when the path is LM/W3SVC/&lt;id&gt;, else null.</param>
public sealed record CustomMetadataKey(string Path, long? SiteId, IReadOnlyList<CustomMetadataProperty> Properties, int Line);

/// <summary>
/// A <c>property</c> of a customMetadata key. <see cref="Binary"/> is the decoded value of a Binary property;
/// values of properties marked Secure are never kept (<see cref="IsSecure"/>).
/// </summary>
public sealed record CustomMetadataProperty(
    uint Id,
    string DataType,
    string? Attributes,
    string? Value,
    byte[]? Binary,
    string? Problem,
    int Line)
{
    /// <summary>The metabase name of the id when KeyDoctor knows it (5506 = SSLCertHash, …).</summary>
    public string? Name => MetabasePropertyIds.NameOf(Id);

    public bool IsSecure => Attributes is not null
                            && Attributes.Contains("Secure", StringComparison.OrdinalIgnoreCase);

    /// <summary>For 5506 (SSLCertHash): the certificate thumbprint in upper-case hex.</summary>
    public string? CertificateThumbprint => Id == MetabasePropertyIds.SslCertHash && Binary is { Length: > 0 }
        ? Convert.ToHexString(Binary)
        : null;

    internal static long? SiteIdOf(string path)
    {
        const string prefix = "LM/W3SVC/";
        var trimmed = path.Trim('/');
        if (!trimmed.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return null;
        var tail = trimmed[prefix.Length..];
        return long.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }
}

/// <summary>
/// Metabase property ids (iiscnfg.h) that matter for SSL and secrets, with their MetaBase.xml names.
/// </summary>
public static class MetabasePropertyIds
{
    public const uint ServerBindings = 1023;
    public const uint SecureBindings = 2021;
    public const uint UncPassword = 3003;
    public const uint LogOdbcPassword = 4010;
    public const uint AdConnectionsPassword = 5015;
    public const uint SslPublicKey = 5500;
    public const uint SslPrivateKey = 5501;
    public const uint SslKeyPassword = 5502;
    public const uint SslKeyRequest = 5503;
    public const uint SslCertHash = 5506;
    public const uint SslStoreName = 5511;
    public const uint SslUseDsMapper = 5519;
    public const uint SslAlwaysNegoClientCert = 5521;
    public const uint AnonymousUserPass = 6021;
    public const uint AdminAcl = 6027;
    public const uint WamUserPass = 7502;
    public const uint RoutePassword = 36949;

    private static readonly Dictionary<uint, string> Names = new()
    {
        [ServerBindings] = "ServerBindings",
        [SecureBindings] = "SecureBindings",
        [UncPassword] = "UNCPassword",
        [LogOdbcPassword] = "LogOdbcPassword",
        [AdConnectionsPassword] = "ADConnectionsPassword",
        [SslPublicKey] = "SSLPublicKey",
        [SslPrivateKey] = "SSLPrivateKey",
        [SslKeyPassword] = "SSLKeyPassword",
        [SslKeyRequest] = "SSLKeyRequest",
        [SslCertHash] = "SSLCertHash",
        [SslStoreName] = "SSLStoreName",
        [SslUseDsMapper] = "SslUseDsMapper",
        [SslAlwaysNegoClientCert] = "SSLAlwaysNegoClientCert",
        [AnonymousUserPass] = "AnonymousUserPass",
        [AdminAcl] = "AdminACL",
        [WamUserPass] = "WAMUserPass",
        [RoutePassword] = "RoutePassword",
    };

    public static string? NameOf(uint id) => Names.GetValueOrDefault(id);

    /// <summary>The SSL ids of the IIS 6 metabase (IIS_MD_SSL_BASE 5500 + n) that ABO keeps in customMetadata.</summary>
    public static bool IsSsl(uint id) => id is >= 5500 and < 5600;
}
