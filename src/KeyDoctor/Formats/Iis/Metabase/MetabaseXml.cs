using System.Globalization;
using System.Xml.Linq;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>State of one IIS_CRYPTO_BLOB held in MetaBase.xml.</summary>
public enum MetabaseBlobStatus
{
    /// <summary>The attribute is absent or empty.</summary>
    Missing,
    /// <summary>Present but not a well-formed blob of the expected kind (see the problem and offset).</summary>
    Malformed,
    /// <summary>Structurally valid: signature, lengths, SIMPLEBLOB header and signed hash all in place.</summary>
    Valid,
}

/// <summary>IIS_Global/@SessionKey: the RC4 session key every secure property of this metabase is encrypted with.</summary>
/// <param name="Offset">Byte offset inside the decoded blob where reading failed (Malformed only).</param>
public sealed record MetabaseSessionKey(MetabaseBlobStatus Status, IisSessionKeyBlob? Blob, string? Problem, long? Offset)
{
    /// <summary>The attribute text as written (hex), so a rekey can replace exactly it; never printed.</summary>
    public string? Hex { get; init; }
}

/// <summary>The IIS_Global element (Location ".").</summary>
public sealed record MetabaseGlobal(long? ChangeNumber, long? HistoryMajorVersion, MetabaseSessionKey SessionKey, int Line);

/// <summary>A metabase key (IIsWebServer, IIsWebService, IIsWebVirtualDir, …) with the SSL-related properties.</summary>
/// <param name="SslCertHash">SSLCertHash as upper-case hex (the certificate thumbprint), from the attribute or a Custom 5506.</param>
public sealed record MetabaseKey(
    string KeyType,
    string Location,
    string? ServerComment,
    IReadOnlyList<string> ServerBindings,
    IReadOnlyList<string> SecureBindings,
    string? SslCertHash,
    string? SslStoreName,
    int Line)
{
    /// <summary>The site id for /LM/W3SVC/&lt;id&gt;, else null.</summary>
    public long? SiteId => Iis.CustomMetadataProperty.SiteIdOf(Location);
}

/// <summary>A secure (encrypted) property: where it is, and whether its IcDb blob is well-formed. No value is kept.</summary>
public sealed record MetabaseSecureProperty(
    string KeyType,
    string Location,
    string Name,
    uint? Id,
    int Line,
    MetabaseBlobStatus Status,
    int? EncryptedDataLength,
    int? SignedHashLength,
    string? Problem)
{
    /// <summary>The attribute text as written (hex ciphertext), so a rekey can replace exactly it; never printed.</summary>
    public string? Hex { get; init; }

    /// <summary>The parsed blob (IcDb, or IcSb for password-salted values) when <see cref="Status"/> is Valid.</summary>
    public IisCryptoBlob? Blob { get; init; }

    /// <summary>The Custom element's Type (STRING, DWORD, BINARY, MULTISZ, EXPANDSZ); null for schema attributes.</summary>
    public string? DataType { get; init; }
}

/// <summary>
/// An IIS 6 <c>inetsrv\MetaBase.xml</c> (also its History\ and MetaBack\ copies): the session key in IIS_Global,
/// sites with ServerBindings/SecureBindings/SSLCertHash/SSLStoreName, and every secure property. Malformed XML
/// throws <see cref="MalformedDataException"/>; a damaged blob is reported per property.
/// </summary>
public sealed record MetabaseXml(
    string? Namespace,
    MetabaseGlobal? Global,
    IReadOnlyList<MetabaseKey> Keys,
    IReadOnlyList<MetabaseSecureProperty> SecureProperties,
    IReadOnlyList<IisConfigProblem> Problems)
{
    public const string Format = "MetaBase.xml";
    private const string NamespacePrefix = "urn:microsoft-catalog:XML_Metabase";

    /// <summary>Properties that IIS 6 always stores encrypted (TechNet "Encrypted Properties").</summary>
    public static readonly IReadOnlyDictionary<string, uint?> SecurePropertyNames = new Dictionary<string, uint?>(StringComparer.OrdinalIgnoreCase)
    {
        ["AdminACL"] = MetabasePropertyIds.AdminAcl,
        ["AdminACLBin"] = null,
        ["AnonymousUserPass"] = MetabasePropertyIds.AnonymousUserPass,
        ["WAMUserPass"] = MetabasePropertyIds.WamUserPass,
        ["UNCPassword"] = MetabasePropertyIds.UncPassword,
        ["LogOdbcPassword"] = MetabasePropertyIds.LogOdbcPassword,
        ["ADConnectionsPassword"] = MetabasePropertyIds.AdConnectionsPassword,
        ["RoutePassword"] = MetabasePropertyIds.RoutePassword,
        ["FeedPassword"] = null,
        ["ImapDsPassword"] = null,
        ["Pop3DsPassword"] = null,
        ["SmtpDsPassword"] = null,
    };

    /// <summary>The session key, or Missing when there is no IIS_Global.</summary>
    public MetabaseSessionKey SessionKey => Global?.SessionKey
        ?? new MetabaseSessionKey(MetabaseBlobStatus.Missing, null, "no IIS_Global element", null);

    public static MetabaseXml Read(string path) => MalformedDataException.FromFile(path, () => Parse(SafeXml.ReadFile(path, Format)));

    public static MetabaseXml Parse(ReadOnlyMemory<byte> data)
    {
        var document = SafeXml.Load(data, Format);
        var root = document.Root ?? throw new MalformedDataException(Format, 0, "no root element");
        var ns = root.Name.NamespaceName;
        var properties = root.Element(XName.Get("MBProperty", ns));
        if (root.Name.LocalName != "configuration" || properties is null)
            throw new MalformedDataException(Format, 0,
                $"root <{root.Name.LocalName}> with no <MBProperty>: not an IIS 6 metabase");
        if (!ns.StartsWith(NamespacePrefix, StringComparison.OrdinalIgnoreCase))
            throw new MalformedDataException(Format, 0, $"namespace '{ns}' is not {NamespacePrefix}_…");

        var problems = new List<IisConfigProblem>();
        MetabaseGlobal? global = null;
        var keys = new List<MetabaseKey>();
        var secure = new List<MetabaseSecureProperty>();
        foreach (var element in properties.Elements())
        {
            var type = element.Name.LocalName;
            var location = SafeXml.Attr(element, "Location") ?? "";
            var line = SafeXml.LineOf(element);
            if (type == "IIS_Global")
            {
                if (global is not null)
                    problems.Add(new IisConfigProblem(location, line, "a second IIS_Global element; the first one is used"));
                else global = ReadGlobal(element, line);
                continue;
            }
            ReadSecureAttributes(element, type, location, secure);
            keys.Add(ReadKey(element, type, location, line, secure));
        }
        return new MetabaseXml(ns, global, keys, secure, problems);
    }

    /// <summary>Checks a SessionKey hex value the way IISADMIN would need it: a well-formed IcKb blob.</summary>
    public static MetabaseSessionKey ReadSessionKey(string? hex)
    {
        if (string.IsNullOrWhiteSpace(hex))
            return new MetabaseSessionKey(MetabaseBlobStatus.Missing, null, "IIS_Global has no SessionKey", null);
        try
        {
            var blob = IisCryptoBlob.ParseHex(StripWhitespace(hex));
            if (blob is not IisSessionKeyBlob sessionKey)
                return new MetabaseSessionKey(MetabaseBlobStatus.Malformed, null,
                    $"SessionKey is a {blob.Kind} blob, not a session key (IcKb)", 0);
            return new MetabaseSessionKey(MetabaseBlobStatus.Valid, sessionKey, null, null) { Hex = hex };
        }
        catch (MalformedDataException ex)
        {
            return new MetabaseSessionKey(MetabaseBlobStatus.Malformed, null, ex.Message, ex.Offset);
        }
    }

    private static MetabaseGlobal ReadGlobal(XElement element, int line) => new(
        ParseLong(SafeXml.Attr(element, "ChangeNumber")),
        ParseLong(SafeXml.Attr(element, "HistoryMajorVersionNumber")),
        ReadSessionKey(SafeXml.Attr(element, "SessionKey")),
        line);

    private static MetabaseKey ReadKey(XElement element, string type, string location, int line, List<MetabaseSecureProperty> secure)
    {
        var certHash = SafeXml.Attr(element, "SSLCertHash");
        var storeName = SafeXml.Attr(element, "SSLStoreName");
        foreach (var custom in element.Elements(XName.Get("Custom", element.Name.NamespaceName)))
        {
            var name = SafeXml.Attr(custom, "Name") ?? "";
            uint? id = uint.TryParse(SafeXml.Attr(custom, "ID"), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed : null;
            var value = SafeXml.Attr(custom, "Value");
            var attributes = SafeXml.Attr(custom, "Attributes") ?? "";
            if (attributes.Contains("SECURE", StringComparison.OrdinalIgnoreCase))
            {
                secure.Add(ReadSecure(type, location, name.Length > 0 ? name : $"ID {id}", id, SafeXml.LineOf(custom), value)
                    with { DataType = SafeXml.Attr(custom, "Type")?.Trim() });
                continue;
            }
            if (id == MetabasePropertyIds.SslCertHash) certHash ??= value;
            else if (id == MetabasePropertyIds.SslStoreName) storeName ??= value;
        }
        return new MetabaseKey(type, location, SafeXml.Attr(element, "ServerComment"),
            SplitMultiString(SafeXml.Attr(element, "ServerBindings")),
            SplitMultiString(SafeXml.Attr(element, "SecureBindings")),
            string.IsNullOrWhiteSpace(certHash) ? null : StripWhitespace(certHash).ToUpperInvariant(),
            string.IsNullOrWhiteSpace(storeName) ? null : storeName.Trim(),
            line);
    }

    private static void ReadSecureAttributes(XElement element, string type, string location, List<MetabaseSecureProperty> secure)
    {
        foreach (var attribute in element.Attributes())
        {
            var name = attribute.Name.LocalName;
            var known = SecurePropertyNames.TryGetValue(name, out var id);
            // Any other attribute holding an IcDb blob is secure too (custom schema properties).
            if (!known && !attribute.Value.TrimStart().StartsWith("49634462", StringComparison.OrdinalIgnoreCase)) continue;
            secure.Add(ReadSecure(type, location, name, known ? id : null, SafeXml.LineOf(attribute), attribute.Value));
        }
    }

    private static MetabaseSecureProperty ReadSecure(string type, string location, string name, uint? id, int line, string? hex)
    {
        if (string.IsNullOrWhiteSpace(hex))
            return new MetabaseSecureProperty(type, location, name, id, line, MetabaseBlobStatus.Missing, null, null, "empty value");
        try
        {
            var blob = IisCryptoBlob.ParseHex(StripWhitespace(hex));
            if (blob is IisEncryptedDataBlob data)
                return new MetabaseSecureProperty(type, location, name, id, line, MetabaseBlobStatus.Valid,
                    data.EncryptedDataLength, data.SignedHashLength, data.Warnings.Count > 0 ? string.Join("; ", data.Warnings) : null)
                { Hex = hex, Blob = data };
            // Password-salted values (IISCryptoEncryptDataBlob2) carry a salt instead of a signature.
            if (blob is IisSaltedDataBlob salted)
                return new MetabaseSecureProperty(type, location, name, id, line, MetabaseBlobStatus.Valid,
                    salted.DataLength, 0, salted.Warnings.Count > 0 ? string.Join("; ", salted.Warnings) : null)
                { Hex = hex, Blob = salted };
            return new MetabaseSecureProperty(type, location, name, id, line, MetabaseBlobStatus.Malformed, null, null,
                $"a {blob.Kind} blob, not encrypted data (IcDb)");
        }
        catch (MalformedDataException ex)
        {
            return new MetabaseSecureProperty(type, location, name, id, line, MetabaseBlobStatus.Malformed, null, null, ex.Message);
        }
    }

    /// <summary>
    /// MULTISZ values are written one per line; XML attribute normalization turns those line breaks into spaces,
    /// and a binding ("IP:port:host") never contains white space, so any white space separates entries.
    /// </summary>
    private static IReadOnlyList<string> SplitMultiString(string? value) =>
        value is null ? [] : value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static string StripWhitespace(string text) =>
        text.Any(char.IsWhiteSpace) ? string.Concat(text.Where(c => !char.IsWhiteSpace(c))) : text;

    private static long? ParseLong(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
