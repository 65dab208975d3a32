using System.Text;
using System.Text.RegularExpressions;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Fuzz.Targets;

/// <summary>IIS XML configuration: the same input read as applicationHost.config, MetaBase.xml, redirection.config and administration.config.</summary>
public sealed class IisXmlTarget : FuzzTarget, ITokenDictionary
{
    public override string Name => "iis-xml";
    public override string Description => "IIS XML configs: applicationHost.config, MetaBase.xml, redirection.config, administration.config";
    public override int SuiteMutants => 1500;

    public override IEnumerable<Seed> Seeds() =>
        FixtureFiles.Folder("iis", "*.config")
            .Concat(FixtureFiles.ZipEntries(FixtureFiles.SampleBundle, name => name.EndsWith(".config", StringComparison.Ordinal) || name.EndsWith(".xml", StringComparison.Ordinal)));

    public IReadOnlyList<byte[]> Tokens { get; } = new[]
    {
        "<configuration>", "</configuration>", "<system.applicationHost><sites><site name=\"a\" id=\"1\"><bindings>",
        "<binding protocol=\"https\" bindingInformation=\"*:443:\" sslFlags=\"1\" />", "<customMetadata><key path=\"LM/W3SVC/1\"><property id=\"5506\" dataType=\"Binary\" value=\"AAEC\" />",
        "<configProtectedData><providers><add name=\"p\" type=\"RsaProtectedConfigurationProvider\" sessionKey=\"AQIAAA==\" />",
        "[enc:AesProvider:", ":enc]", "<IIS_Global Location=\".\" SessionKey=\"", "<IIsWebServer Location=\"/LM/W3SVC/1\" SSLCertHash=\"",
        "<MBProperty>", "xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\"", "<!DOCTYPE x [<!ENTITY e \"x\">]>", "&e;", "<![CDATA[", "]]>", "&#x10FFFF;",
        "<a><a><a><a><a><a><a><a>", "</a></a></a></a>", " x=\"", "\"",
    }.Select(Encoding.UTF8.GetBytes).ToList();

    public override void Run(byte[] input)
    {
        // Each reader rejects a document that is not its kind; the input still goes through all four.
        Each(() => Consume.All(ApplicationHostConfig.Parse(input)),
            () => Consume.All(MetabaseXml.Parse(input)),
            () => Consume.All(RedirectionConfig.Parse(input)),
            () => Consume.All(AdministrationConfig.Parse(input)));
    }
}

/// <summary>An IIS_CRYPTO_BLOB (IIS 6 metabase SessionKey and secure properties) and the SIMPLEBLOB inside IIS 7+ sessionKeys.</summary>
public sealed partial class IisCryptoBlobTarget : FuzzTarget
{
    public override string Name => "iis-crypto-blob";
    public override string Description => "IIS_CRYPTO_BLOB (IcKb, IcPb, IcDb, IcSb, IcHb, IcCb) and CryptoAPI SIMPLEBLOB session keys";

    public override IEnumerable<Seed> Seeds()
    {
        foreach (var xml in FixtureFiles.ZipEntries(FixtureFiles.SampleBundle, name => name.EndsWith("MetaBase.xml", StringComparison.Ordinal)))
            foreach (Match m in HexAttribute().Matches(Encoding.UTF8.GetString(xml.Data)))
                yield return new Seed($"{xml.Name}@{m.Groups[1].Value}", Convert.FromHexString(m.Groups[2].Value));
        foreach (var config in FixtureFiles.Folder("iis", "*.config"))
            foreach (Match m in SessionKeyAttribute().Matches(Encoding.UTF8.GetString(config.Data)))
                yield return new Seed($"{config.Name}@sessionKey", Convert.FromBase64String(m.Groups[1].Value));
    }

    public override void Run(byte[] input)
    {
        Each(() => Consume.All(IisCryptoBlob.Parse(input)), () => Consume.All(CapiSimpleBlob.Parse(input)));
    }

    [GeneratedRegex("([A-Za-z]+)=\"((?:[0-9a-f]{2}){16,})\"")]
    private static partial Regex HexAttribute();

    [GeneratedRegex("sessionKey=\"([A-Za-z0-9+/=]+)\"")]
    private static partial Regex SessionKeyAttribute();
}
