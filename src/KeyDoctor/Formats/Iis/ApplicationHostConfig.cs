using System.Globalization;
using System.Xml.Linq;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// An IIS 7+ <c>inetsrv\config\applicationHost.config</c>: sites and bindings, the ABO <c>customMetadata</c>
/// (where legacy SSL ids 5506/5511 linger), the protected-configuration providers and every encrypted attribute.
/// Nothing is decrypted. Malformed XML throws <see cref="MalformedDataException"/>; a bad value inside a readable
/// file is listed in <see cref="Problems"/>.
/// </summary>
public sealed record ApplicationHostConfig(
    IReadOnlyList<IisSite> Sites,
    IReadOnlyList<CustomMetadataKey> CustomMetadata,
    IReadOnlyList<ProtectedConfigProvider> Providers,
    IReadOnlyList<EncryptedAttribute> EncryptedAttributes,
    IReadOnlyList<IisConfigProblem> Problems)
{
    public const string Format = "applicationHost.config";

    /// <summary>The application pools with their process identity (applicationPoolDefaults filled in).</summary>
    public IReadOnlyList<IisApplicationPool> ApplicationPools { get; init; } = [];

    /// <summary>The pool a site's application uses when it names none (sites/applicationDefaults, IIS's default DefaultAppPool).</summary>
    public string DefaultApplicationPool { get; init; } = "DefaultAppPool";

    /// <summary>The pool of a site's root application ("/"), or the default.</summary>
    public IisApplicationPool? PoolOf(IisSite site)
    {
        var name = site.Applications.FirstOrDefault(a => a.Path == "/")?.ApplicationPool ?? DefaultApplicationPool;
        return ApplicationPools.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
               ?? new IisApplicationPool(name, "ApplicationPoolIdentity", null, 0);
    }

    public static ApplicationHostConfig Read(string path) => MalformedDataException.FromFile(path, () => Parse(SafeXml.ReadFile(path, Format)));

    public static ApplicationHostConfig Parse(ReadOnlyMemory<byte> data)
    {
        var root = IisConfigXml.LoadConfiguration(data, Format);
        var problems = new List<IisConfigProblem>();
        var host = root.Element("system.applicationHost");
        var sites = ReadSites(host?.Element("sites"), problems);
        var metadata = ReadCustomMetadata(host?.Element("customMetadata"), problems);
        var providers = IisConfigXml.ReadProviders(root, problems);
        var encrypted = IisConfigXml.FindEncryptedAttributes(root);
        var (pools, defaultPool) = ReadApplicationPools(host);
        return new ApplicationHostConfig(sites, metadata, providers, encrypted, problems) { ApplicationPools = pools, DefaultApplicationPool = defaultPool };
    }

    /// <summary>applicationPools/add with processModel's identityType and userName (never the password).</summary>
    private static (List<IisApplicationPool>, string) ReadApplicationPools(XElement? host)
    {
        var section = host?.Element("applicationPools");
        var defaults = section?.Element("applicationPoolDefaults")?.Element("processModel");
        var defaultIdentity = SafeXml.Attr(defaults, "identityType") ?? "ApplicationPoolIdentity";
        var pools = (section?.Elements("add") ?? []).Select(pool =>
        {
            var model = pool.Element("processModel");
            return new IisApplicationPool(SafeXml.Attr(pool, "name") ?? "", SafeXml.Attr(model, "identityType") ?? defaultIdentity,
                SafeXml.Attr(model, "userName"), SafeXml.LineOf(pool));
        }).Where(p => p.Name.Length > 0).ToList();
        var defaultPool = SafeXml.Attr(host?.Element("sites")?.Element("applicationDefaults"), "applicationPool") ?? "DefaultAppPool";
        return (pools, defaultPool);
    }

    /// <summary>The customMetadata SSL properties (5500-5599) kept for a site's LM/W3SVC/&lt;id&gt; path.</summary>
    public IEnumerable<CustomMetadataProperty> SslMetadataFor(long siteId) =>
        CustomMetadata.Where(k => k.SiteId == siteId)
            .SelectMany(k => k.Properties)
            .Where(p => MetabasePropertyIds.IsSsl(p.Id));

    private static List<IisSite> ReadSites(XElement? sites, List<IisConfigProblem> problems)
    {
        var result = new List<IisSite>();
        if (sites is null) return result;
        foreach (var site in sites.Elements("site"))
        {
            var line = SafeXml.LineOf(site);
            var name = SafeXml.Attr(site, "name") ?? "";
            long? id = null;
            var idText = SafeXml.Attr(site, "id");
            if (long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsedId)) id = parsedId;
            else problems.Add(new IisConfigProblem(IisConfigXml.PathOf(site), line,
                idText is null ? $"site '{name}' has no id" : $"site '{name}' has id '{idText}', not a number"));

            var applications = site.Elements("application").Select(app => new IisApplication(
                SafeXml.Attr(app, "path") ?? "",
                SafeXml.Attr(app, "applicationPool"),
                app.Elements("virtualDirectory")
                    .Select(vd => new IisVirtualDirectory(SafeXml.Attr(vd, "path") ?? "", SafeXml.Attr(vd, "physicalPath")))
                    .ToList())).ToList();

            var bindings = new List<IisBinding>();
            foreach (var binding in site.Element("bindings")?.Elements("binding") ?? [])
            {
                var parsed = ReadBinding(binding);
                if (parsed.Problem is not null)
                    problems.Add(new IisConfigProblem(IisConfigXml.PathOf(binding), parsed.Line,
                        $"site '{name}': {parsed.Problem}"));
                bindings.Add(parsed);
            }
            result.Add(new IisSite(id, name, applications, bindings, line));
        }
        return result;
    }

    private static IisBinding ReadBinding(XElement binding)
    {
        var protocol = SafeXml.Attr(binding, "protocol") ?? "";
        var information = SafeXml.Attr(binding, "bindingInformation") ?? "";
        string? problem = null;
        BindingEndpoint? endpoint = null;
        if (IisBinding.HasEndpointSyntax(protocol))
            endpoint = BindingEndpoint.TryParse(information, out problem);

        var flagsText = SafeXml.Attr(binding, "sslFlags");
        SslFlags? flags = null;
        if (flagsText is not null)
        {
            flags = IisBinding.ParseSslFlags(flagsText, out var flagsProblem);
            problem ??= flagsProblem;
        }
        return new IisBinding(protocol, information, endpoint, flags, flagsText, problem, SafeXml.LineOf(binding));
    }

    private static List<CustomMetadataKey> ReadCustomMetadata(XElement? section, List<IisConfigProblem> problems)
    {
        var keys = new List<CustomMetadataKey>();
        if (section is null) return keys;
        foreach (var key in section.Elements("key"))
        {
            var path = SafeXml.Attr(key, "path") ?? "";
            var properties = new List<CustomMetadataProperty>();
            foreach (var property in key.Elements("property"))
            {
                var parsed = ReadProperty(property);
                if (parsed is null)
                {
                    problems.Add(new IisConfigProblem(IisConfigXml.PathOf(property), SafeXml.LineOf(property),
                        $"customMetadata property under '{path}' has id '{SafeXml.Attr(property, "id")}', not a number"));
                    continue;
                }
                if (parsed.Problem is not null)
                    problems.Add(new IisConfigProblem(IisConfigXml.PathOf(property), parsed.Line, parsed.Problem));
                properties.Add(parsed);
            }
            keys.Add(new CustomMetadataKey(path, CustomMetadataProperty.SiteIdOf(path), properties, SafeXml.LineOf(key)));
        }
        return keys;
    }

    private static CustomMetadataProperty? ReadProperty(XElement property)
    {
        if (!uint.TryParse(SafeXml.Attr(property, "id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return null;
        var dataType = SafeXml.Attr(property, "dataType") ?? "DWord";
        var attributes = SafeXml.Attr(property, "attributes");
        var value = SafeXml.Attr(property, "value");
        var secure = attributes is not null && attributes.Contains("Secure", StringComparison.OrdinalIgnoreCase);
        byte[]? binary = null;
        string? problem = null;
        if (value is not null && dataType.Equals("Binary", StringComparison.OrdinalIgnoreCase) && !secure)
        {
            var buffer = new byte[value.Length / 4 * 3 + 3];
            if (Convert.TryFromBase64String(value, buffer, out var written)) binary = buffer[..written];
            else problem = $"customMetadata property {id} is Binary but its value is not base64";
        }
        if (problem is null && id == MetabasePropertyIds.SslCertHash && binary is not null && binary.Length != 20)
            problem = $"customMetadata property 5506 (SSLCertHash) is {binary.Length} bytes, not a 20-byte SHA-1 thumbprint";
        return new CustomMetadataProperty(id, dataType, attributes, secure ? null : value, binary, problem,
            SafeXml.LineOf(property));
    }
}
