using System.Net;
using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Tests.Iis;

public class ApplicationHostConfigTests
{
    private static ApplicationHostConfig ParseText(string xml) => ApplicationHostConfig.Parse(Encoding.UTF8.GetBytes(xml));

    [Fact]
    public void Cc0SampleHasOneSiteTwoBindingsAndFiveProviders()
    {
        var config = ApplicationHostConfig.Read(Fixtures.Path("iis/applicationHost.cc0.config"));

        var site = Assert.Single(config.Sites);
        Assert.Equal((1L, "Default Web Site"), (site.Id!.Value, site.Name));
        Assert.Equal(["http *:80:", "https *:443:"], site.Bindings.Select(b => $"{b.Protocol} {b.BindingInformation}"));
        var https = site.Bindings[1];
        Assert.Equal(SslFlags.None, https.SslFlags);
        Assert.Equal(443, https.Endpoint!.Port);
        Assert.True(https.Endpoint.AllUnassigned);
        Assert.Equal("%SystemDrive%\\inetpub\\wwwroot", site.Applications.Single().VirtualDirectories.Single().PhysicalPath);

        Assert.Empty(config.CustomMetadata);
        Assert.Empty(config.EncryptedAttributes);
        Assert.Empty(config.Problems);
        Assert.Equal(
            ["IISWASOnlyRsaProvider", "IISCngProvider", "IISWASOnlyCngProvider", "AesProvider", "IISWASOnlyAesProvider"],
            config.Providers.Select(p => p.Name));
        Assert.Equal([ProviderKind.Rsa, ProviderKind.Cng, ProviderKind.Cng, ProviderKind.Aes, ProviderKind.Aes],
            config.Providers.Select(p => p.Kind));
        Assert.Equal(["iisWasKey", "iisCngConfigurationKey", "iisCngWasKey", "iisConfigurationKey", "iisWasKey"],
            config.Providers.Select(p => p.KeyContainerName));
        Assert.All(config.Providers, p => Assert.True(p.UseMachineContainer));
    }

    [Fact]
    public void Cc0SessionKeysAreAes128SimpleBlobsWrappedBy2048BitRsa()
    {
        var config = ApplicationHostConfig.Read(Fixtures.Path("iis/applicationHost.cc0.config"));
        var withKeys = config.Providers.Where(p => p.HasSessionKeyAttribute).ToList();

        Assert.Equal(["AesProvider", "IISWASOnlyAesProvider"], withKeys.Select(p => p.Name));
        Assert.All(withKeys, p =>
        {
            Assert.Null(p.SessionKeyProblem);
            var key = p.SessionKey!;
            Assert.Equal((1, 2, 0), (key.BlobType, key.Version, key.Reserved));
            Assert.Equal(CapiAlgorithm.Aes128, key.KeyAlgorithm);
            Assert.Equal("CALG_AES_128", key.KeyAlgorithmName);
            Assert.Equal(CapiAlgorithm.RsaKeyExchange, key.WrapAlgorithm);
            Assert.Equal(256, key.EncryptedKeyLength); // 268-byte blob - 12-byte header
            Assert.Equal(2048, key.WrappingKeyBits);
        });
    }

    [Fact]
    public void ProvidersGiveTheExpectedKeyFilePrefixes()
    {
        var config = ApplicationHostConfig.Read(Fixtures.Path("iis/applicationHost.cc0.config"));
        var prefixes = config.Providers.ToDictionary(p => p.Name, p => (p.KeyStore, p.ExpectedKeyFilePrefix));

        // CAPI prefixes from ../shared/fixtures/keys/VECTORS.md (and asprangers.com for the IIS containers).
        Assert.Equal((KeyStoreKind.CryptoApi, "6de9cb26d2b98c01ec4e9e8b34824aa2"), prefixes["AesProvider"]);
        Assert.Equal((KeyStoreKind.CryptoApi, "76944fb33636aeddb9590521c2e8815a"), prefixes["IISWASOnlyAesProvider"]);
        Assert.Equal((KeyStoreKind.CryptoApi, "76944fb33636aeddb9590521c2e8815a"), prefixes["IISWASOnlyRsaProvider"]);
        // CNG names hash the UTF-16LE name (rule checked on the real "Google Chromekey1" key file).
        Assert.Equal((KeyStoreKind.Cng, "f0e91f6485ac2d09485e4ec18135601e"), prefixes["IISCngProvider"]);
        Assert.Equal((KeyStoreKind.Cng, "597367cc37b886d7ee6c493e3befb421"), prefixes["IISWASOnlyCngProvider"]);
    }

    [Fact]
    public void JexusSampleHasTwelveSitesThirteenBindingsAndOneEncryptedValue()
    {
        var config = ApplicationHostConfig.Read(Fixtures.Path("iis/applicationHost.jexus-original.config"));

        Assert.Equal(12, config.Sites.Count);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long?)i), config.Sites.Select(s => s.Id));
        Assert.Equal(13, config.Sites.Sum(s => s.Bindings.Count));
        var https = Assert.Single(config.Sites.SelectMany(s => s.Bindings), b => b.IsHttps);
        Assert.Equal(("*", 44300, "localhost"), (https.Endpoint!.Address, https.Endpoint.Port, https.Endpoint.Host));
        Assert.Null(https.SslFlags);
        var website1 = config.Sites[0].Bindings.Single().Endpoint!;
        Assert.Equal(("", 8080, "localhost"), (website1.Address, website1.Port, website1.Host));
        Assert.Equal(2, config.Sites.Single(s => s.Name == "Katana.Sandbox.WebServer-Site").Applications.Count);

        // The commented-out providers block (1024-bit keys) is not read; the live one has 2048-bit keys.
        Assert.Equal(["IISWASOnlyRsaProvider", "AesProvider", "IISWASOnlyAesProvider"], config.Providers.Select(p => p.Name));
        Assert.All(config.Providers.Where(p => p.Kind == ProviderKind.Aes), p => Assert.Equal(2048, p.SessionKey!.WrappingKeyBits));

        var encrypted = Assert.Single(config.EncryptedAttributes);
        Assert.Equal("configuration/location[@path='Default Web Site']/system.webServer/security/authentication/anonymousAuthentication",
            encrypted.ElementPath);
        Assert.Equal(("password", 1124, "AesProvider", 32), (encrypted.AttributeName, encrypted.Line, encrypted.Provider, encrypted.Value!.CiphertextLength));
        Assert.Empty(config.Problems);
    }

    [Fact]
    public void WrittenConfigWithCustomMetadata5506ForACertificate()
    {
        var config = ParseText(IisSamples.ApplicationHostWithLegacyHash(IisSamples.ThumbprintBase64));

        var key = Assert.Single(config.CustomMetadata);
        Assert.Equal(("LM/W3SVC/7", 7L), (key.Path, key.SiteId!.Value));
        var hash = key.Properties.Single(p => p.Id == 5506);
        Assert.Equal(("SSLCertHash", "Binary"), (hash.Name, hash.DataType));
        Assert.Equal(IisSamples.Thumbprint, hash.CertificateThumbprint);
        Assert.Equal("oXiHOzFAMOF0YxIuI7soWvDFEzg=", IisSamples.ThumbprintBase64);
        Assert.Equal("MY", key.Properties.Single(p => p.Id == 5511).Value);
        Assert.Equal([5506u, 5511u], config.SslMetadataFor(7).Select(p => p.Id));
        Assert.Empty(config.SslMetadataFor(1));
        Assert.Empty(config.Problems);

        var processModel = Assert.Single(config.EncryptedAttributes);
        Assert.Equal("configuration/system.applicationHost/applicationPools/add[@name='Shop']/processModel", processModel.ElementPath);
        Assert.Equal(("password", "AesProvider", 64), (processModel.AttributeName, processModel.Provider, processModel.Value!.CiphertextLength));
    }

    [Fact]
    public void BindingsParseIpv4Ipv6SniAndCentralCertStore()
    {
        var bindings = ParseText(IisSamples.ApplicationHostWithLegacyHash(IisSamples.ThumbprintBase64)).Sites.Single().Bindings;

        Assert.Equal(IPAddress.Parse("10.0.0.5"), bindings[0].Endpoint!.Ip);
        Assert.Equal(("shop.example.com", SslFlags.Sni), (bindings[1].Endpoint!.Host, bindings[1].SslFlags!.Value));
        Assert.Equal((IPAddress.IPv6Any, 8443), (bindings[2].Endpoint!.Ip, bindings[2].Endpoint!.Port));
        Assert.Equal(SslFlags.Sni | SslFlags.CentralCertStore, bindings[3].SslFlags);
        Assert.Equal(("net.tcp", null), (bindings[4].Protocol, bindings[4].Endpoint));
        Assert.All(bindings, b => Assert.Null(b.Problem));
    }

    [Theory]
    [InlineData("*:0:", "port '0'")]
    [InlineData("*:https:", "port 'https'")]
    [InlineData("*:443", "no host part")]
    [InlineData("[::1:443:", "without ']:'")]
    [InlineData("999.1.1.1:443:", "not an IP address")]
    [InlineData("localhost", "not IP:port:host")]
    public void MalformedBindingInformationIsReportedAsData(string information, string expected)
    {
        var xml = $"""<configuration><system.applicationHost><sites><site name="s" id="1"><bindings><binding protocol="https" bindingInformation="{information}" /></bindings></site></sites></system.applicationHost></configuration>""";
        var config = ParseText(xml);

        var binding = config.Sites.Single().Bindings.Single();
        Assert.Null(binding.Endpoint);
        Assert.Contains(expected, binding.Problem);
        Assert.Contains(expected, Assert.Single(config.Problems).Message);
    }

    [Theory]
    [InlineData("97", SslFlags.Sni | SslFlags.DisableTls13OverTcp | SslFlags.DisableLegacyTls)]
    [InlineData("3", SslFlags.Sni | SslFlags.CentralCertStore)]
    [InlineData("DisableHTTP2,DisableQUIC", SslFlags.DisableHttp2 | SslFlags.DisableQuic)]
    [InlineData("None", SslFlags.None)]
    public void SslFlagsAcceptNumbersAndNames(string text, SslFlags expected)
    {
        var xml = $"""<configuration><system.applicationHost><sites><site name="s" id="1"><bindings><binding protocol="https" bindingInformation="*:443:" sslFlags="{text}" /></bindings></site></sites></system.applicationHost></configuration>""";
        Assert.Equal(expected, ParseText(xml).Sites.Single().Bindings.Single().SslFlags);
    }

    [Fact]
    public void BadSessionKeyAndBadValuesAreDataNotExceptions()
    {
        const string xml = """
            <configuration>
              <configProtectedData><providers>
                <add name="NotBase64" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="k" sessionKey="!!!" />
                <add name="PublicKeyBlob" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="k" sessionKey="BgIAAACkAABSU0Ex" />
                <add name="HeaderOnly" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="k" sessionKey="AQIAAA5mAAAApAAA" />
                <add keyContainerName="nameless" />
              </providers></configProtectedData>
              <system.applicationHost>
                <customMetadata><key path="LM/W3SVC/1">
                  <property id="5506" dataType="Binary" value="not base64!" />
                  <property id="5506" dataType="Binary" value="AAEC" />
                  <property id="x" dataType="Binary" value="AAEC" />
                  <property id="5502" dataType="String" attributes="Secure" value="s3cret" />
                </key></customMetadata>
                <sites><site name="no id"><bindings /></site></sites>
              </system.applicationHost>
              <system.webServer><security><authentication>
                <anonymousAuthentication password="[enc:AesProvider:%%%:enc]" />
                <basicAuthentication password="[enc::AAAA:enc]" />
              </authentication></security></system.webServer>
            </configuration>
            """;
        var config = ParseText(xml);

        var providers = config.Providers.ToDictionary(p => p.Name);
        Assert.Equal(3, providers.Count);
        Assert.Contains("not valid base64", providers["NotBase64"].SessionKeyProblem);
        Assert.Contains("bType is 6, not SIMPLEBLOB (1)", providers["PublicKeyBlob"].SessionKeyProblem);
        Assert.Contains("no encrypted key after the header", providers["HeaderOnly"].SessionKeyProblem);

        var properties = config.CustomMetadata.Single().Properties;
        Assert.Equal(3, properties.Count);
        Assert.Contains("not base64", properties[0].Problem);
        Assert.Contains("3 bytes, not a 20-byte", properties[1].Problem);
        Assert.True(properties[2].IsSecure);
        Assert.Null(properties[2].Value); // secure values are never kept

        Assert.Equal(["payload for provider 'AesProvider' is not valid base64 (3 characters)", "no provider name before the payload"],
            config.EncryptedAttributes.Select(a => a.Problem));
        Assert.Equal(5, config.Problems.Count);
        Assert.Null(config.Sites.Single().Id);
    }

    [Fact]
    public void NotWellFormedXmlGivesLineAndOffset()
    {
        var ex = Assert.Throws<MalformedDataException>(() => ParseText("<configuration>\n  <sites>\n</configuration>"));
        Assert.Equal("applicationHost.config", ex.Format);
        Assert.Contains("line 3", ex.Reason);
        Assert.Equal(28, ex.Offset); // line 3 starts at byte 26; column 3
    }

    [Fact]
    public void WrongRootElementIsMalformed()
    {
        var ex = Assert.Throws<MalformedDataException>(() => ParseText("<html><body/></html>"));
        Assert.Contains("<html>, not <configuration>", ex.Reason);
    }

    [Fact]
    public void DocumentTypeDefinitionsAreRefused()
    {
        const string billionLaughs = """
            <?xml version="1.0"?>
            <!DOCTYPE configuration [
              <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
              <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
              <!ENTITY secret SYSTEM "file:///etc/passwd">
            ]>
            <configuration><system.applicationHost><sites><site name="&b;&secret;" id="1" /></sites></system.applicationHost></configuration>
            """;
        var ex = Assert.Throws<MalformedDataException>(() => ParseText(billionLaughs));
        Assert.Contains("DTD", ex.Reason);
    }

    [Fact]
    public void DocumentsOverTheSizeLimitAreRefusedBeforeParsing()
    {
        var huge = new byte[SafeXml.MaxDocumentBytes + 1];
        var ex = Assert.Throws<MalformedDataException>(() => ApplicationHostConfig.Parse(huge));
        Assert.Contains("over the 67108864 byte limit", ex.Reason);
    }

    [Fact]
    public void CharacterLimitStopsAnOversizedDocumentWhileReading()
    {
        var xml = "<configuration><x a=\"" + new string('z', 5000) + "\"/></configuration>";
        var ex = Assert.Throws<MalformedDataException>(() => SafeXml.Load(Encoding.UTF8.GetBytes(xml), "test", maxCharacters: 1000));
        Assert.Equal("test", ex.Format);
    }

    [Fact]
    public void DeeplyNestedDocumentsHaveShortenedPaths()
    {
        // Deeper than ReaderLimits.XmlMaxDepth is refused while reading (XmlLimitTests); up to it, paths are shortened.
        const int depth = 250;
        var xml = new StringBuilder("<configuration>");
        for (var i = 0; i < depth; i++) xml.Append("<a>");
        xml.Append("<b password=\"[enc:AesProvider:AAAA:enc]\"/>");
        for (var i = 0; i < depth; i++) xml.Append("</a>");
        xml.Append("</configuration>");

        var encrypted = Assert.Single(ParseText(xml.ToString()).EncryptedAttributes);
        Assert.StartsWith("…/", encrypted.ElementPath);
        Assert.EndsWith("/a/b", encrypted.ElementPath);
    }

    [Theory]
    [InlineData("iis/applicationHost.cc0.config")]
    [InlineData("iis/applicationHost.jexus-original.config")]
    public void TruncatedAndBitFlippedCopiesNeverThrowAnythingElse(string fixture)
    {
        var original = Fixtures.Bytes(fixture);
        var random = new Random(6);
        for (var i = 0; i < 120; i++)
            ParseOrMalformed(original.AsMemory(0, random.Next(original.Length)));
        for (var i = 0; i < 300; i++)
        {
            var copy = original.ToArray();
            for (var flips = 0; flips < 4; flips++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            ParseOrMalformed(copy);
        }

        static void ParseOrMalformed(ReadOnlyMemory<byte> data)
        {
            try
            {
                var config = ApplicationHostConfig.Parse(data);
                _ = config.Providers.Select(p => p.ExpectedKeyFilePrefix).ToList();
            }
            catch (MalformedDataException)
            {
            }
        }
    }
}
