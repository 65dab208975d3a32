using System.Text;
using System.Xml.Linq;

namespace KeyDoctor.Formats.Iis;

/// <summary>What every IIS 7+ configuration file can hold: protected-configuration providers and encrypted attributes.</summary>
internal static class IisConfigXml
{
    /// <summary>Element paths deeper than this are shortened: real files are about 8 levels deep.</summary>
    private const int MaxPathDepth = 32;

    public static XElement LoadConfiguration(ReadOnlyMemory<byte> data, string format)
    {
        var document = SafeXml.Load(data, format);
        var root = document.Root ?? throw new MalformedDataException(format, 0, "no root element");
        if (root.Name.LocalName != "configuration")
            throw new MalformedDataException(format, 0, $"root element is <{root.Name.LocalName}>, not <configuration>");
        return root;
    }

    public static IReadOnlyList<ProtectedConfigProvider> ReadProviders(XElement root, List<IisConfigProblem> problems)
    {
        var providers = new List<ProtectedConfigProvider>();
        var section = root.Element("configProtectedData")?.Element("providers");
        if (section is null) return providers;
        foreach (var add in section.Elements("add"))
        {
            var line = SafeXml.LineOf(add);
            var name = SafeXml.Attr(add, "name");
            if (string.IsNullOrEmpty(name))
            {
                problems.Add(new IisConfigProblem(PathOf(add), line, "protected-configuration provider without a name"));
                continue;
            }
            var type = SafeXml.Attr(add, "type") ?? "";
            var sessionKeyText = SafeXml.Attr(add, "sessionKey");
            CapiSimpleBlob? sessionKey = null;
            string? sessionKeyProblem = null;
            if (sessionKeyText is not null)
                sessionKey = ParseSessionKey(sessionKeyText, out sessionKeyProblem);
            providers.Add(new ProtectedConfigProvider(
                name, type, ProtectedConfigProvider.KindOf(type),
                SafeXml.Attr(add, "keyContainerName"),
                SafeXml.Attr(add, "cspProviderName"),
                ParseBool(SafeXml.Attr(add, "useMachineContainer")),
                ParseBool(SafeXml.Attr(add, "useOAEP")),
                sessionKeyText is not null, sessionKey, sessionKeyProblem, line)
            {
                // Kept so a key can be tried against it (keydoctor config verify); only when it parsed.
                SessionKeyBlob = sessionKey is null ? ReadOnlyMemory<byte>.Empty : Convert.FromBase64String(sessionKeyText!),
            });
        }
        return providers;
    }

    /// <summary>Every attribute in the document whose value has the <c>[enc:…:enc]</c> shape, in document order.</summary>
    public static IReadOnlyList<EncryptedAttribute> FindEncryptedAttributes(XElement root)
    {
        var found = new List<EncryptedAttribute>();
        foreach (var element in root.DescendantsAndSelf())
        {
            foreach (var attribute in element.Attributes())
            {
                if (!attribute.Value.StartsWith("[enc:", StringComparison.Ordinal)) continue;
                var value = EncryptedConfigValue.TryParse(attribute.Value, out var problem);
                found.Add(new EncryptedAttribute(PathOf(element), attribute.Name.LocalName,
                    SafeXml.LineOf(attribute), value, problem));
            }
        }
        return found;
    }

    /// <summary>
    /// A readable path to an element, naming the attribute that identifies it among its siblings:
    /// <c>configuration/location[@path='Default Web Site']/system.webServer/security/…</c>.
    /// </summary>
    public static string PathOf(XElement element)
    {
        var parts = new List<string>();
        for (var current = element; current is not null && parts.Count <= MaxPathDepth; current = current.Parent)
            parts.Add(Describe(current));
        if (parts.Count > MaxPathDepth) parts[^1] = "…";
        parts.Reverse();
        return string.Join('/', parts);
    }

    private static string Describe(XElement element)
    {
        var name = element.Name.LocalName;
        foreach (var key in (ReadOnlySpan<string>)["name", "path", "id", "Location"])
        {
            var value = element.Attribute(key)?.Value;
            if (value is null) continue;
            var shown = value.Length > 80 ? value[..80] + "…" : value;
            return new StringBuilder(name).Append("[@").Append(key).Append("='").Append(shown).Append("']").ToString();
        }
        return name;
    }

    private static CapiSimpleBlob? ParseSessionKey(string text, out string? problem)
    {
        problem = null;
        if (text.Length == 0)
        {
            problem = "sessionKey is empty";
            return null;
        }
        var buffer = new byte[text.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            problem = $"sessionKey is not valid base64 ({text.Length} characters)";
            return null;
        }
        try
        {
            return CapiSimpleBlob.Parse(buffer.AsSpan(0, written), "sessionKey SIMPLEBLOB");
        }
        catch (MalformedDataException ex)
        {
            problem = ex.Message;
            return null;
        }
    }

    internal static bool? ParseBool(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };
}
