using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>
/// Key sets as XML. A bare <c>&lt;RSAKeyValue&gt;</c> root is what <c>aspnet_regiis -px ... -pri</c> writes (one
/// AT_KEYEXCHANGE key). To carry both key numbers, KeyDoctor wraps them in
/// <c>&lt;KeyDoctorKeySet container="..."&gt;</c> with one <c>&lt;RSAKeyValue keyNumber="AT_KEYEXCHANGE|AT_SIGNATURE"&gt;</c>
/// child each (docs/formats/key-set-xml.md). Values are base64 big-endian integers, as in XML-DSig.
/// </summary>
public static class KeySetXml
{
    public const string FormatName = "key set XML";
    public const string KeySetElement = "KeyDoctorKeySet";
    public const string KeyValueElement = "RSAKeyValue";
    private const int MaxCharacters = 1 << 20;

    /// <summary>Reads either form; a bare RSAKeyValue is the exchange key.</summary>
    public static KeySet Read(ReadOnlySpan<byte> data)
    {
        var root = Load(data).Root ?? throw new MalformedDataException(FormatName, 0, "no root element");
        if (root.Name.LocalName == KeyValueElement)
            return new KeySet(null, [new KeySetEntry(CapiKeyNumber.Exchange, ReadKeyValue(root))]);
        if (root.Name.LocalName != KeySetElement)
            throw new MalformedDataException(FormatName, 0, $"root element <{root.Name.LocalName}> is neither <{KeyValueElement}> nor <{KeySetElement}>");

        var entries = new List<KeySetEntry>();
        foreach (var child in root.Elements())
        {
            if (child.Name.LocalName != KeyValueElement) continue;
            var keyNumber = ParseKeyNumber(child.Attribute("keyNumber")?.Value, Line(child));
            if (entries.Any(e => e.KeyNumber == keyNumber))
                throw new MalformedDataException(FormatName, 0, $"line {Line(child)}: a second {Name(keyNumber)} key");
            entries.Add(new KeySetEntry(keyNumber, ReadKeyValue(child)));
        }
        if (entries.Count == 0) throw new MalformedDataException(FormatName, 0, $"<{KeySetElement}> holds no <{KeyValueElement}>");
        return new KeySet(root.Attribute("container")?.Value, entries);
    }

    /// <summary>
    /// Writes the aspnet_regiis form when the set is one exchange key without a container name, the
    /// KeyDoctor form otherwise.
    /// </summary>
    public static string Write(KeySet keySet)
    {
        XElement root;
        if (keySet.Keys is [{ KeyNumber: CapiKeyNumber.Exchange } only] && keySet.Container is null)
            root = KeyValue(only.Parameters);
        else
        {
            root = new XElement(KeySetElement, new XAttribute("version", 1));
            if (keySet.Container is not null) root.Add(new XAttribute("container", keySet.Container));
            foreach (var key in keySet.Keys.OrderBy(k => k.KeyNumber))
            {
                var element = KeyValue(key.Parameters);
                element.Add(new XAttribute("keyNumber", Name(key.KeyNumber)));
                root.Add(element);
            }
        }
        return root.ToString(SaveOptions.DisableFormatting);
    }

    public static string Name(CapiKeyNumber keyNumber) => keyNumber == CapiKeyNumber.Signature ? "AT_SIGNATURE" : "AT_KEYEXCHANGE";

    private static XElement KeyValue(RSAParameters key)
    {
        var element = new XElement(KeyValueElement,
            new XElement("Modulus", Base64(key.Modulus)),
            new XElement("Exponent", Base64(key.Exponent)));
        if (key.D is { Length: > 0 })
            element.Add(
                new XElement("P", Base64(key.P)), new XElement("Q", Base64(key.Q)),
                new XElement("DP", Base64(key.DP)), new XElement("DQ", Base64(key.DQ)),
                new XElement("InverseQ", Base64(key.InverseQ)), new XElement("D", Base64(key.D)));
        return element;
    }

    private static string Base64(byte[]? value) => Convert.ToBase64String(value ?? []);

    private static RSAParameters ReadKeyValue(XElement element)
    {
        var line = Line(element);
        byte[]? Field(string name, bool required)
        {
            var matches = element.Elements().Where(e => e.Name.LocalName == name).ToList();
            if (matches.Count > 1) throw new MalformedDataException(FormatName, 0, $"line {line}: <{name}> appears {matches.Count} times");
            if (matches.Count == 0)
                return required ? throw new MalformedDataException(FormatName, 0, $"line {line}: <{KeyValueElement}> has no <{name}>") : null;
            try { return Convert.FromBase64String(matches[0].Value.Trim()); }
            catch (FormatException) { throw new MalformedDataException(FormatName, 0, $"line {Line(matches[0])}: <{name}> is not base64"); }
        }

        var parameters = new RSAParameters { Modulus = Field("Modulus", true), Exponent = Field("Exponent", true) };
        var d = Field("D", false);
        if (d is not null)
        {
            parameters.D = d;
            parameters.P = Field("P", true);
            parameters.Q = Field("Q", true);
            parameters.DP = Field("DP", true);
            parameters.DQ = Field("DQ", true);
            parameters.InverseQ = Field("InverseQ", true);
        }
        // The BCL validates sizes and consistency; its verdict becomes a format error here, not a crash later.
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportParameters(parameters);
            return rsa.ExportParameters(d is not null);
        }
        catch (CryptographicException ex)
        {
            throw new MalformedDataException(FormatName, 0, $"line {line}: not a usable RSA key ({ex.Message})", ex);
        }
    }

    private static CapiKeyNumber ParseKeyNumber(string? value, int line) => value switch
    {
        null or "AT_KEYEXCHANGE" or "1" => CapiKeyNumber.Exchange,
        "AT_SIGNATURE" or "2" => CapiKeyNumber.Signature,
        _ => throw new MalformedDataException(FormatName, 0, $"line {line}: keyNumber \"{value}\" is not AT_KEYEXCHANGE or AT_SIGNATURE"),
    };

    private static XDocument Load(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxCharacters * 4)
            throw new MalformedDataException(FormatName, 0, $"{data.Length} bytes is too large for a key set");
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxCharacters,
            IgnoreComments = true,
            IgnoreWhitespace = true,
        };
        try
        {
            using var reader = new LimitedXmlReader(XmlReader.Create(new MemoryStream(data.ToArray(), writable: false), settings));
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new MalformedDataException(FormatName, 0, $"not well-formed XML at line {ex.LineNumber}: {ex.Message}", ex);
        }
    }

    private static int Line(XObject node) => node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;
}

/// <summary>The keys of one container: at most one per key number.</summary>
public sealed record KeySet(string? Container, IReadOnlyList<KeySetEntry> Keys)
{
    public KeySetEntry? Exchange => Keys.FirstOrDefault(k => k.KeyNumber == CapiKeyNumber.Exchange);
    public KeySetEntry? Signature => Keys.FirstOrDefault(k => k.KeyNumber == CapiKeyNumber.Signature);
}
