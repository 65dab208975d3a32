using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Iis;

public class IisInspectorTests
{
    private const string ConfigDir = @"Windows\System32\inetsrv\config";
    private const string MachineGuid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";

    /// <summary>A machine as the registry and key-store readers will describe it, for testing the join.</summary>
    private sealed class FakeMachine : IIisMachineLookup
    {
        public Dictionary<string, HttpSysSslBinding> HttpSys { get; } = new();
        public Dictionary<string, CertificateInfo> Certificates { get; } = new(StringComparer.OrdinalIgnoreCase);
        public Dictionary<string, string[]> KeyFiles { get; } = new();
        public string Description => "fake";
        public string? MachineGuid => IisInspectorTests.MachineGuid;
        public bool CanFindHttpSysBindings => true;
        public bool CanFindCertificates => true;
        public bool CanFindKeyFiles => true;
        public HttpSysSslBinding? FindHttpSysBinding(HttpSysBindingKey key) => HttpSys.GetValueOrDefault(key.Key);
        public CertificateInfo? FindCertificate(string thumbprint, string? storeName) => Certificates.GetValueOrDefault(thumbprint);

        public KeyFileStatus FindKeyFile(KeyStoreKind store, string containerName)
        {
            var files = KeyFiles.GetValueOrDefault(containerName) ?? [];
            var expected = $"{(store == KeyStoreKind.CryptoApi ? KeyDoctor.Formats.KeyFiles.ContainerName.CapiPrefix(containerName) : KeyDoctor.Formats.KeyFiles.ContainerName.CngPrefix(containerName))}_{MachineGuid}";
            return new KeyFileStatus(store, expected[..32], "MachineKeys", files, expected, files.Contains(expected), null);
        }
    }

    /// <summary>What HTTP.sys serves on 10.0.0.5:443 in <see cref="MachineServing"/>: not the site's legacy 5506 hash.</summary>
    private const string Served = "1111111111111111111111111111111111111111";

    /// <summary>An image whose site 'Shop' (id 7) has four https bindings and keeps 5506 in customMetadata.</summary>
    private static TempImage LegacyHashImage()
    {
        var image = new TempImage();
        image.Write($@"{ConfigDir}\applicationHost.config", IisSamples.ApplicationHostWithLegacyHash(IisSamples.ThumbprintBase64));
        return image;
    }

    /// <summary>A machine whose HTTP.sys serves <paramref name="thumbprint"/> for the site's first binding only.</summary>
    private static FakeMachine MachineServing(string thumbprint)
    {
        var machine = new FakeMachine();
        machine.HttpSys["10.0.0.5:443"] = new HttpSysSslBinding(HttpSysBindingKind.IpPort, "10.0.0.5:443", thumbprint, "MY", null);
        return machine;
    }

    [Fact]
    public void ConfigurationAloneShowsTheHttpSysKeysAndTheLegacyHash()
    {
        using var image = LegacyHashImage();

        var report = IisInspector.InspectImage(image.Root, NoMachineLookup.Instance);

        var ssl = report.Sites.Single().Bindings.Where(b => b.Ssl is not null).Select(b => b.Ssl!).ToList();
        Assert.Equal(
            [(HttpSysBindingKind.IpPort, "10.0.0.5:443"), (HttpSysBindingKind.Sni, "shop.example.com:443"),
             (HttpSysBindingKind.IpPort, "[::]:8443"), (HttpSysBindingKind.CentralCertificateStore, "0.0.0.0:443")],
            ssl.Select(s => (s.HttpSysKind, s.HttpSysKey)));
        Assert.All(ssl, s => Assert.Equal(IisSamples.Thumbprint, s.LegacyCertificateHash));
        Assert.All(ssl, s => Assert.Null(s.HttpSysBinding));

        Assert.Equal([5506u, 5511u], report.LegacySslMetadata.Select(m => m.Id));
        Assert.Equal(IisSamples.Thumbprint, report.LegacySslMetadata[0].Value);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((FindingCatalog.LegacySslCertificateHash, Severity.Warning), (finding.Descriptor, finding.Severity));
        Assert.Equal("LM/W3SVC/7 5506", finding.Subject);
        Assert.Contains("(site 'Shop')", finding.Message);
        Assert.True(report.NeedsAttention());
    }

    [Fact]
    public void LegacyHashForAMissingCertificateIsStaleOnceTheStoreIsKnown()
    {
        using var image = LegacyHashImage();
        var machine = MachineServing(Served);
        machine.Certificates[Served] = new CertificateInfo(Served, "MY", "CN=shop", DateTimeOffset.Parse("2030-01-01Z"),
            HasKeyLink: true, "shop-key", "Microsoft RSA SChannel Cryptographic Provider", KeyStoreKind.CryptoApi);
        machine.KeyFiles["shop-key"] = [$"{KeyDoctor.Formats.KeyFiles.ContainerName.CapiPrefix("shop-key")}_00000000-0000-0000-0000-000000000000"];
        machine.KeyFiles["iisConfigurationKey"] = [$"6de9cb26d2b98c01ec4e9e8b34824aa2_{MachineGuid}"];

        var report = IisInspector.InspectImage(image.Root, machine);

        var ids = report.Findings.Select(f => f.Id).ToList();
        // 5506 names a certificate the store lacks, and HTTP.sys serves another: one KD2005 for the one property, and
        // not also the KD2010 notice (that is for a hash whose certificate still exists).
        Assert.DoesNotContain(FindingCatalog.LegacySslCertificateHash.Id, ids);
        var stale = Assert.Single(report.Findings, f => f.Descriptor == FindingCatalog.StaleMetabaseCertificateHash);
        Assert.Contains("which is not in the MY store", stale.Message);
        // The certificate's key exists only under another MachineGuid: KD2008 with that file as evidence, as in a scan.
        var keyFile = Assert.Single(report.Findings, f => f.Descriptor == FindingCatalog.CertificateKeyFileMissing);
        Assert.Equal(Served, keyFile.Subject);
        Assert.Contains(keyFile.Evidence, e => e.Value?.EndsWith("_00000000-0000-0000-0000-000000000000", StringComparison.Ordinal) == true);
        // The SNI, IPv6 and CCS bindings have no HTTP.sys entry in this machine.
        Assert.Equal(3, ids.Count(id => id == FindingCatalog.BindingMismatch.Id));
        Assert.Equal(ids.Count, report.Findings.Select(f => (f.Id, f.Subject)).Distinct().Count());

        var chain = report.Sites.Single().Bindings[0].Ssl!;
        Assert.Equal(Served, chain.HttpSysBinding!.CertificateThumbprint);
        Assert.Equal("CN=shop", chain.Certificate!.Subject);
        Assert.False(chain.KeyFile!.Exists);
        Assert.True(report.Providers.Single().KeyFile!.Exists);
    }

    [Fact]
    public void LegacyHashOfAnotherPresentCertificateIsStaleOnceHttpSysIsKnown()
    {
        using var image = LegacyHashImage();
        var machine = MachineServing(Served);
        foreach (var thumbprint in new[] { Served, IisSamples.Thumbprint })
            machine.Certificates[thumbprint] = new CertificateInfo(thumbprint, "MY", "CN=shop", DateTimeOffset.Parse("2030-01-01Z"),
                HasKeyLink: false, null, null, null);

        var report = IisInspector.InspectImage(image.Root, machine);

        // The old certificate is still in the store, so only HTTP.sys shows that 5506 would roll the binding back.
        var stale = Assert.Single(report.Findings, f => f.Descriptor == FindingCatalog.StaleMetabaseCertificateHash);
        Assert.Equal("LM/W3SVC/7 5506", stale.Subject);
        Assert.Contains($"but HTTP.sys serves {Served}", stale.Message);
        Assert.NotNull(stale.Fix);
        var noLink = Assert.Single(report.Findings, f => f.Descriptor == FindingCatalog.CertificateWithoutKeyLink);
        Assert.Equal($"Certificate {Served} (CN=shop) is bound to HTTP.sys 10.0.0.5:443 but has no key provider information", noLink.Message);
    }

    [Fact]
    public void SharedConfigurationIsFollowedIntoTheImage()
    {
        using var image = new TempImage();
        image.Write($@"{ConfigDir}\applicationHost.config", File.ReadAllText(Fixtures.Path("iis/applicationHost.cc0.config")));
        image.Write($@"{ConfigDir}\redirection.config", """
            <configuration>
              <configSections><section name="configurationRedirection" /></configSections>
              <configProtectedData>
                <providers>
                  <add name="IISRsaProvider" type="" description="Uses RsaCryptoServiceProvider to encrypt and decrypt" keyContainerName="iisConfigurationKey" cspProviderName="" useMachineContainer="true" useOAEP="false" />
                </providers>
              </configProtectedData>
              <configurationRedirection enabled="true" path="%SystemDrive%\IISShared\Config" userName="CONTOSO\iisshare" password="[enc:IISRsaProvider:jAAAAAECAAADZgAAAKQAAAUkBfhWFbUHIt/qtlo+:enc]" />
            </configuration>
            """);
        image.Write(@"iisshared\CONFIG\applicationHost.config", IisSamples.ApplicationHostWithLegacyHash(IisSamples.ThumbprintBase64));
        image.Write(@"iisshared\CONFIG\administration.config", """
            <configuration><system.webServer><management><authentication><credentials>
              <add name="admin" password="[enc:AesProvider:AAAAAAAAAAAAAAAAAAAAAA==:enc]" />
            </credentials></authentication></management></system.webServer></configuration>
            """);
        // The image spells the folder "iisshared\CONFIG": Windows names match case-insensitively.
        var report = IisInspector.InspectImage(image.Root, NoMachineLookup.Instance);

        var shared = report.SharedConfiguration!;
        Assert.True(shared.Enabled);
        Assert.Equal((@"%SystemDrive%\IISShared\Config", @"CONTOSO\iisshare", "encrypted", "IISRsaProvider"),
            (shared.ConfiguredPath, shared.UserName, shared.PasswordStorage, shared.PasswordProvider));
        Assert.NotNull(shared.LocalDirectory);
        Assert.Null(shared.Problem);
        Assert.Equal("Shop", report.Sites.Single().Name); // from the shared file, not the local cc0 copy
        Assert.Equal([IisInspector.RedirectionKind, IisInspector.ApplicationHostKind, IisInspector.AdministrationKind],
            report.Files.Select(f => f.Kind));
        Assert.Equal(["IISRsaProvider", "AesProvider"], report.Providers.Select(p => p.Name));
        Assert.Equal(3, report.EncryptedValues.Count);
        Assert.Equal(2, report.Providers.Single(p => p.Name == "AesProvider").EncryptedValues);
        Assert.DoesNotContain(report.Findings, f => f.Descriptor == FindingCatalog.EncryptedValueUnknownProvider);
    }

    [Theory]
    [InlineData(@"\\fileserver\iis$\config", "is a network share")]
    [InlineData(@"D:\IISShared", "is on drive D:")]
    [InlineData(@"C:\NotThere", "does not exist in the image")]
    public void UnreachableSharedConfigurationFallsBackToTheLocalFile(string path, string expected)
    {
        using var image = new TempImage();
        image.Write($@"{ConfigDir}\applicationHost.config", File.ReadAllText(Fixtures.Path("iis/applicationHost.cc0.config")));
        image.Write($@"{ConfigDir}\redirection.config",
            $"""<configuration><configurationRedirection enabled="true" path="{path}" userName="u" password="plain-secret" /></configuration>""");

        var report = IisInspector.InspectImage(image.Root, NoMachineLookup.Instance);

        Assert.Contains(expected, report.SharedConfiguration!.Problem);
        Assert.Equal("plaintext", report.SharedConfiguration.PasswordStorage);
        Assert.Equal("Default Web Site", report.Sites.Single().Name);
        Assert.Equal([FindingCatalog.SharedConfigurationUnreachable, FindingCatalog.SharedConfigurationPlaintextPassword],
            report.Findings.Select(f => f.Descriptor));
        Assert.DoesNotContain(report.Findings, f => f.Message.Contains("plain-secret"));
    }

    [Fact]
    public void ImageKeyFoldersAreSearchedByPrefix()
    {
        using var image = new TempImage();
        image.Write($@"{ConfigDir}\applicationHost.config", File.ReadAllText(Fixtures.Path("iis/applicationHost.cc0.config")));
        image.Touch($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\6DE9CB26D2B98C01EC4E9E8B34824AA2_{MachineGuid}");
        image.Touch($@"ProgramData\Microsoft\Crypto\Keys\f0e91f6485ac2d09485e4ec18135601e_{MachineGuid}");

        var report = IisInspector.InspectImage(image.Root);

        Assert.Equal("image key folders", report.Lookup);
        var aes = report.Providers.Single(p => p.Name == "AesProvider").KeyFile!;
        Assert.Equal([$"6DE9CB26D2B98C01EC4E9E8B34824AA2_{MachineGuid}"], aes.MatchingFiles); // matched case-insensitively
        Assert.Null(aes.Exists); // MachineGuid unknown without the SOFTWARE hive
        Assert.Single(report.Providers.Single(p => p.Name == "IISCngProvider").KeyFile!.MatchingFiles);
        // iisWasKey (two providers) and iisCngWasKey have no file: warnings, as no encrypted value uses them.
        var missing = report.Findings.Where(f => f.Descriptor == FindingCatalog.ProtectedConfigKeyMissing).ToList();
        Assert.Equal(3, missing.Count);
        Assert.All(missing, f => Assert.Equal(Severity.Warning, f.Severity));
    }

    [Fact]
    public void MetabaseInTheImageIsReadWithHistory()
    {
        var (exchange, signature) = IisSamples.MetabaseKeys();
        var (sessionKey, secret) = IisSamples.MetabaseBlobs(exchange, signature);
        using var image = new TempImage();
        image.Write(@"WINDOWS\system32\inetsrv\MetaBase.xml", IisSamples.Metabase(sessionKey[..^2], secret));
        image.Write(@"WINDOWS\system32\inetsrv\History\MetaBase_0000000006_0000000000.xml", IisSamples.Metabase(sessionKey, secret));
        image.Write(@"WINDOWS\system32\inetsrv\History\MBSchema_0000000006_0000000000.xml", "<MBSchema/>");

        var report = IisInspector.InspectImage(image.Root, NoMachineLookup.Instance);

        var metabase = report.Metabase!;
        Assert.Equal(MetabaseBlobStatus.Malformed, metabase.SessionKey.Status);
        Assert.Equal("c2319c42033a5ca7f44e731bfd3fa2b5", metabase.ExpectedKeyFilePrefix);
        Assert.Equal(2, metabase.SecureProperties.Count);
        Assert.Equal(2, metabase.Sites.Count);
        Assert.EndsWith("MetaBase_0000000006_0000000000.xml", metabase.History!.LastGood);
        Assert.Equal([FindingCatalog.MetabaseSessionKeyUnusable], report.Findings.Select(f => f.Descriptor));
        Assert.Equal("missing", report.Files.Single(f => f.Kind == IisInspector.ApplicationHostKind).Status);
        // KD3006's fix puts that History copy in place, keeping the damaged file beside it.
        var fix = report.Findings.Single().Fix!;
        Assert.Contains(@"inetsrv\History\MetaBase_0000000006_0000000000.xml", fix.Cmd);
        Assert.Contains("MetaBase.xml.keydoctor-damaged", fix.Cmd);
    }

    [Fact]
    public void DamagedProtectedConfigurationAndBadValuesAreCatalogueFindings()
    {
        using var image = new TempImage();
        var path = image.Write("applicationHost.config", """
            <configuration>
              <configProtectedData>
                <providers>
                  <add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" useMachineContainer="true" sessionKey="AQIAAA==" />
                </providers>
              </configProtectedData>
              <system.applicationHost>
                <applicationPools>
                  <add name="A"><processModel password="[enc:AesProvider:!!notbase64!!:enc]" /></add>
                  <add name="B"><processModel password="[enc:GoneProvider:AAAAAAAAAAAAAAAAAAAAAA==:enc]" /></add>
                </applicationPools>
                <sites><site name="S" id="x"><bindings><binding protocol="https" bindingInformation="*:443" /></bindings></site></sites>
              </system.applicationHost>
            </configuration>
            """);

        var report = IisInspector.InspectFile(path, NoMachineLookup.Instance);

        Assert.Equal(
            [(FindingCatalog.SessionKeyUnusable, "AesProvider"),
             (FindingCatalog.EncryptedValueMalformed, "configuration/system.applicationHost/applicationPools/add[@name='A']/processModel/@password"),
             (FindingCatalog.EncryptedValueUnknownProvider, "configuration/system.applicationHost/applicationPools/add[@name='B']/processModel/@password")],
            report.Findings.Where(f => f.Severity == Severity.Error).Select(f => (f.Descriptor, f.Subject)));
        // The site id and the binding without a host part: two values skipped, two findings with their own subjects.
        var skipped = report.Findings.Where(f => f.Descriptor == FindingCatalog.ConfigurationValueInvalid).ToList();
        Assert.Equal(2, skipped.Select(f => f.Subject).Distinct().Count());
        Assert.All(report.Findings, f => Assert.Equal(path, f.Evidence[0].Location));
        // Each broken value is set again through IIS with the value read at the console, never as an appcmd argument.
        var malformed = report.Findings.Single(f => f.Descriptor == FindingCatalog.EncryptedValueMalformed).Fix!;
        Assert.Contains("Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.applicationHost/applicationPools/add[@name=''A'']/processModel' -Name 'password' -Value $secret", malformed.Cmd);
        Assert.Contains("Read-Host -AsSecureString", malformed.Cmd);
        Assert.DoesNotContain("password:", malformed.Cmd, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(report.Findings.Single(f => f.Descriptor == FindingCatalog.SessionKeyUnusable).Fix);
    }

    [Theory]
    [InlineData(true, "has no key file at all")]
    [InlineData(false, null)] // no SessionKey: KD3006 says so, and the container has nothing to open (as in a scan)
    public void MetabaseContainerWithoutKeyFileIsKD1002WhileASessionKeyExists(bool withSessionKey, string? expected)
    {
        var (exchange, signature) = IisSamples.MetabaseKeys();
        var (sessionKey, secret) = IisSamples.MetabaseBlobs(exchange, signature);
        using var image = new TempImage();
        image.Write(@"WINDOWS\system32\inetsrv\MetaBase.xml", IisSamples.Metabase(withSessionKey ? sessionKey : null, secret));
        image.Touch(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\unrelated_file");

        var report = IisInspector.InspectImage(image.Root);

        var container = report.Findings.SingleOrDefault(f => f.Descriptor == FindingCatalog.Iis6ContainerBroken);
        if (expected is null)
        {
            Assert.Null(container);
            Assert.Contains(report.Findings, f => f.Descriptor == FindingCatalog.MetabaseSessionKeyUnusable);
            return;
        }
        Assert.NotNull(container);
        Assert.Equal((IisInspector.MetabaseKeyContainer, Severity.Critical), (container.Subject, container.Severity));
        Assert.Contains(expected, container.Message);
    }

    [Fact]
    public void InspectFileInfersTheImageFromItsPath()
    {
        Assert.Equal(Path.GetFullPath("/img"), IisInspector.InferImageRoot("/img/Windows/System32/inetsrv/config/applicationHost.config"));
        Assert.Equal(Path.GetFullPath("/img"), IisInspector.InferImageRoot("/img/WINDOWS/system32/INETSRV/MetaBase.xml"));
        Assert.Null(IisInspector.InferImageRoot("/tmp/applicationHost.config"));
    }
}
