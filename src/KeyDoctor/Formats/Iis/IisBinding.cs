using System.Globalization;
using System.Net;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// <c>binding/@sslFlags</c> (IIS 8+; the Disable* flags are Windows Server 2022 / IIS 10.0.20348).
/// </summary>
[Flags]
public enum SslFlags
{
    None = 0,
    /// <summary>Server Name Indication: HTTP.sys looks the certificate up by host name (SslSniBindingInfo).</summary>
    Sni = 1,
    /// <summary>Central Certificate Store: the certificate comes from a file share (SslCcsBindingInfo).</summary>
    CentralCertStore = 2,
    DisableHttp2 = 4,
    DisableOcspStapling = 8,
    DisableQuic = 16,
    DisableTls13OverTcp = 32,
    DisableLegacyTls = 64,
}

/// <summary>The address part of an http/https/ftp bindingInformation "IP:port:host".</summary>
/// <param name="Address">As written: "*", "" (both mean all unassigned addresses), an IPv4 address or a bracketed IPv6 one.</param>
public sealed record BindingEndpoint(string Address, IPAddress? Ip, int Port, string Host)
{
    public bool AllUnassigned => Ip is null;

    /// <summary>
    /// Parses "IP:port:host": "*:443:", ":8080:localhost", "10.0.0.5:443:www.example.com", "[::]:443:", "[fe80::1]:443:".
    /// Returns null with <paramref name="problem"/> set when it does not have that shape.
    /// </summary>
    public static BindingEndpoint? TryParse(string value, out string? problem)
    {
        problem = null;
        string address;
        string rest;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']');
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':')
            {
                problem = $"'{value}': IPv6 address without ']:'";
                return null;
            }
            address = value[..(close + 1)];
            rest = value[(close + 2)..];
        }
        else
        {
            var colon = value.IndexOf(':');
            if (colon < 0)
            {
                problem = $"'{value}' is not IP:port:host";
                return null;
            }
            address = value[..colon];
            rest = value[(colon + 1)..];
        }

        var portEnd = rest.IndexOf(':');
        if (portEnd < 0)
        {
            problem = $"'{value}' is not IP:port:host (no host part)";
            return null;
        }
        if (!int.TryParse(rest.AsSpan(0, portEnd), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            problem = $"'{value}': port '{rest[..portEnd]}' is not 1-65535";
            return null;
        }
        var host = rest[(portEnd + 1)..];

        IPAddress? ip = null;
        if (address is not ("*" or ""))
        {
            var literal = address.StartsWith('[') ? address[1..^1] : address;
            if (!IPAddress.TryParse(literal, out ip))
            {
                problem = $"'{value}': '{address}' is not an IP address";
                return null;
            }
        }
        return new BindingEndpoint(address, ip, port, host);
    }
}

/// <summary>One <c>site/bindings/binding</c>.</summary>
/// <param name="Endpoint">Parsed address for http, https and ftp bindings; null for other protocols or a malformed value.</param>
/// <param name="SslFlags">Parsed sslFlags, or null when the attribute is absent or unreadable.</param>
public sealed record IisBinding(
    string Protocol,
    string BindingInformation,
    BindingEndpoint? Endpoint,
    SslFlags? SslFlags,
    string? SslFlagsText,
    string? Problem,
    int Line)
{
    public bool IsHttps => Protocol.Equals("https", StringComparison.OrdinalIgnoreCase);

    internal static bool HasEndpointSyntax(string protocol) =>
        protocol.Equals("http", StringComparison.OrdinalIgnoreCase)
        || protocol.Equals("https", StringComparison.OrdinalIgnoreCase)
        || protocol.Equals("ftp", StringComparison.OrdinalIgnoreCase);

    /// <summary>sslFlags is written as a number ("3") or as flag names ("Sni, CentralCertStore").</summary>
    internal static SslFlags? ParseSslFlags(string text, out string? problem)
    {
        problem = null;
        var trimmed = text.Trim();
        if (uint.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return (SslFlags)number;
        var flags = Iis.SslFlags.None;
        foreach (var part in trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var flag = part.ToLowerInvariant() switch
            {
                "none" => Iis.SslFlags.None,
                "sni" => Iis.SslFlags.Sni,
                "centralcertstore" => Iis.SslFlags.CentralCertStore,
                "disablehttp2" => Iis.SslFlags.DisableHttp2,
                "disableocspstp" => Iis.SslFlags.DisableOcspStapling,
                "disablequic" => Iis.SslFlags.DisableQuic,
                "disabletls13" => Iis.SslFlags.DisableTls13OverTcp,
                "disablelegacytls" => Iis.SslFlags.DisableLegacyTls,
                _ => (SslFlags?)null,
            };
            if (flag is null)
            {
                problem = $"sslFlags '{text}': unknown flag '{part}'";
                return null;
            }
            flags |= flag.Value;
        }
        return flags;
    }
}

/// <summary>One <c>sites/site</c> with its applications and bindings.</summary>
public sealed record IisSite(
    long? Id,
    string Name,
    IReadOnlyList<IisApplication> Applications,
    IReadOnlyList<IisBinding> Bindings,
    int Line);

public sealed record IisApplication(string Path, string? ApplicationPool, IReadOnlyList<IisVirtualDirectory> VirtualDirectories);

/// <summary>An application pool and the identity its worker processes run as (ApplicationPoolIdentity, NetworkService, LocalService, LocalSystem, SpecificUser).</summary>
public sealed record IisApplicationPool(string Name, string IdentityType, string? UserName, int Line)
{
    /// <summary>The account as Windows names it: IIS APPPOOL\Name, NT AUTHORITY\NETWORK SERVICE, or the configured user.</summary>
    public string IdentityName => IdentityType.ToLowerInvariant() switch
    {
        "applicationpoolidentity" => $@"IIS APPPOOL\{Name}",
        "networkservice" => @"NT AUTHORITY\NETWORK SERVICE",
        "localservice" => @"NT AUTHORITY\LOCAL SERVICE",
        "localsystem" => @"NT AUTHORITY\SYSTEM",
        _ => UserName ?? IdentityType,
    };

    /// <summary>The identity's SID, when it follows from the configuration (a SpecificUser's needs a domain lookup: null).</summary>
    public string? IdentitySid => IdentityType.ToLowerInvariant() switch
    {
        "applicationpoolidentity" => VirtualAccountSid(Name),
        "networkservice" => "S-1-5-20",
        "localservice" => "S-1-5-19",
        "localsystem" => "S-1-5-18",
        _ => null,
    };

    /// <summary>
    /// The SID of the virtual account IIS APPPOOL\&lt;name&gt;: S-1-5-82 followed by the SHA-1 of the lower-cased pool
    /// name in UTF-16LE, read as five little-endian 32-bit numbers (DefaultAppPool →
    /// S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415).
    /// </summary>
    public static string VirtualAccountSid(string poolName)
    {
        var hash = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.Unicode.GetBytes(poolName.ToLowerInvariant()));
        var parts = Enumerable.Range(0, 5).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(hash.AsSpan(i * 4))
            .ToString(System.Globalization.CultureInfo.InvariantCulture));
        return "S-1-5-82-" + string.Join("-", parts);
    }
}

public sealed record IisVirtualDirectory(string Path, string? PhysicalPath);
