using System.Text.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;

namespace KeyDoctor.Tests.Scan;

/// <summary>Each check fires on its scenario and stays silent on a healthy image.</summary>
public sealed class ScanTests
{
    private static ScanResult Scan(ScanImage image)
    {
        image.Build();
        using var source = MachineSource.Open(image.Root);
        return Scanner.Scan(source);
    }

    private static IEnumerable<string> Ids(ScanResult result, Severity atLeast = Severity.Warning) =>
        result.Findings.Where(f => f.Severity >= atLeast).Select(f => f.Id).Distinct();

    [Fact]
    public void HealthyServerHasNoFindingsAboveInfo()
    {
        using var image = ScanImage.Healthy(out _);
        var result = Scan(image);
        Assert.Empty(Ids(result));
        Assert.Equal(ScanImage.Guid, result.State.MachineGuid);
        Assert.Contains(result.Findings, f => f.Id == "KD0001" && f.Subject == "NTFS attributes and ACLs"); // images carry no ACLs
    }

    [Fact]
    public void KD1001_KeyFilesUnderAnotherGuid()
    {
        using var image = ScanImage.Healthy(out _);
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        for (var i = 0; i < 5; i++) image.KeyFile($"old-container-{i}", rsa, ScanImage.OldGuid);
        image.KeyFile("iisConfigurationKey", rsa, ScanImage.OldGuid);
        var finding = Assert.Single(Scan(image).Findings, f => f.Id == "KD1001");
        Assert.Equal(ScanImage.OldGuid, finding.Properties["likelyOriginalGuid"]);
        Assert.Contains(finding.Evidence, e => e.Value == "iisConfigurationKey");
        Assert.Contains(ScanImage.OldGuid, finding.Fix!.Cmd);
    }

    [Fact]
    public void KD1002_Iis6ContainerMissingWhileMetabaseHasASessionKey()
    {
        using var image = ScanImage.Healthy(out _);
        var (_, signature) = image.Metabase();
        var finding = Assert.Single(Scan(image).Findings, f => f.Id == "KD1002");
        Assert.Equal(Severity.Critical, finding.Severity);
        Assert.Contains("has no key file at all", finding.Message);

        image.KeyFile("Microsoft Internet Information Server", signature, ScanImage.OldGuid, KeySpec.Signature);
        Assert.Contains("only under another MachineGuid", Assert.Single(Scan(image).Findings, f => f.Id == "KD1002").Message);

        image.KeyFile("Microsoft Internet Information Server", signature, spec: KeySpec.Signature);
        Assert.DoesNotContain(Scan(image).Findings, f => f.Id == "KD1002" && f.Severity == Severity.Critical);
    }

    [Fact]
    public void KD1003_TruncatedKeyFileOfABoundCertificateIsAnError()
    {
        using var image = ScanImage.Healthy(out _);
        var path = Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys")).Single();
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..200]);
        image.Put($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.CapiPrefix("unused")}_{ScanImage.Guid}", []);
        var findings = Scan(image).Findings.Where(f => f.Id == "KD1003").ToList();
        Assert.Equal(2, findings.Count);
        Assert.Contains(findings, f => f.Severity == Severity.Error && f.Message.Contains("truncated") && f.Message.Contains("a bound certificate uses it"));
        Assert.Contains(findings, f => f.Severity == Severity.Warning && f.Message.Contains("zero-length"));
    }

    [Fact]
    public void KD2001_BoundCertificateWithoutKeyLink()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=nokey", "c", keyLink: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("S", 1, "*:443:");
        Assert.Equal(["KD2001"], Ids(Scan(image)));
    }

    [Fact]
    public void KD2002_KeyLeftInTheUsersProfile()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=dragged", "dragged-key", keyFile: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("S", 1, "*:443:");
        image.Put($@"Users\alice\AppData\Roaming\Microsoft\Crypto\RSA\S-1-5-21-1-2-3-1001\{ContainerName.CapiPrefix("dragged-key")}_{ScanImage.Guid}", "k");
        var finding = Assert.Single(Scan(image).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD2002", finding.Id);
        Assert.Contains(@"Users\alice", finding.Message);
    }

    [Fact]
    public void KD2003_SignatureOnlyKey()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=sig", "sig-key", keySpec: 2);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("S", 1, "*:443:");
        Assert.Equal(["KD2003"], Ids(Scan(image)));
    }

    [Fact]
    public void KD2004_HttpSysBindingToACertificateThatIsGone()
    {
        using var image = new ScanImage();
        image.HttpSysBinding("0.0.0.0:443", "0123456789ABCDEF0123456789ABCDEF01234567");
        image.Site("S", 1, "*:443:");
        var finding = Assert.Single(Scan(image).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD2004", finding.Id);
        Assert.Contains("netsh http update sslcert ipport=0.0.0.0:443 \"certhash=<thumbprint of the certificate for HTTP.sys 0.0.0.0:443>\"", finding.Fix!.Cmd);
        Assert.DoesNotContain("delete", finding.Fix!.Cmd); // a site is served by it: never offer to delete it
    }

    [Fact]
    public void KD2005_StaleCustomMetadataHash()
    {
        using var image = ScanImage.Healthy(out _);
        var stale = Convert.ToBase64String(Convert.FromHexString("00112233445566778899AABBCCDDEEFF00112233"));
        image.ExtraApplicationHost = $"""<customMetadata><key path="LM/W3SVC/1"><property id="5506" dataType="Binary" value="{stale}" /></key></customMetadata>""";
        var finding = Assert.Single(Scan(image).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD2005", finding.Id);
        Assert.Contains("00112233445566778899AABBCCDDEEFF00112233", finding.Message);
    }

    [Fact]
    public void KD2006_HttpsSiteWithoutHttpSysBinding()
    {
        using var image = ScanImage.Healthy(out _);
        image.Site("Other", 2, "*:8443:");
        var finding = Assert.Single(Scan(image).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD2006", finding.Id);
        Assert.Contains("0.0.0.0:8443", finding.Message);
    }

    [Fact]
    public void KD2007_ExpiredBoundCertificate()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=old", "old-key", notAfter: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("S", 1, "*:443:");
        Assert.Equal(["KD2007"], Ids(Scan(image)));
    }

    [Fact]
    public void KD2007_AnImageIsCheckedAtTheTimeItsRegistryWasLastWritten()
    {
        using var image = new ScanImage();
        var (expired, _) = image.Certificate("CN=old", "old-key", notAfter: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (later, _) = image.Certificate("CN=later", "later-key", notAfter: new DateTimeOffset(2025, 9, 1, 0, 0, 0, TimeSpan.Zero));
        image.HttpSysBinding("0.0.0.0:443", expired.Thumbprint);
        image.HttpSysBinding("0.0.0.0:8443", later.Thumbprint);
        image.Site("S", 1, "*:443:", "*:8443:");
        image.Build();
        // The export was written in June 2025: the first certificate had expired by then, the second had not.
        File.SetLastWriteTimeUtc(Path.Combine(image.Root, "registry/machine.reg"), new DateTime(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc));
        using var source = MachineSource.Open(image.Root);
        var finding = Assert.Single(Scanner.Scan(source).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD2007", finding.Id);
        Assert.Equal(expired.Thumbprint, finding.Subject);
        Assert.Equal("2025-06-01 12:00:00Z (the last write of the image's registry exports)", finding.Evidence.Single(e => e.Description == "checked at").Value);
    }

    [Fact]
    public void KD2008_KeyFileGone()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=lost", "lost-key", keyFile: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("S", 1, "*:443:");
        var finding = Assert.Single(Scan(image).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD2008", finding.Id);
        Assert.Contains($"{ContainerName.CapiPrefix("lost-key")}_{ScanImage.Guid}", finding.Message);
    }

    [Fact]
    public void KD2009_KeyFileHoldsAnotherKey()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=swapped", "swapped-key", keyFile: false);
        using var other = System.Security.Cryptography.RSA.Create(2048);
        image.KeyFile("swapped-key", other);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("S", 1, "*:443:");
        Assert.Equal(["KD2009"], Ids(Scan(image)));
    }

    [Fact]
    public void KD3001_ProtectedConfigurationKeyMissingForThisGuid()
    {
        using var image = ScanImage.Healthy(out _);
        image.Providers = $"""<add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" useMachineContainer="true" sessionKey="{Iis.IisSamples.AesSessionKey}" />""";
        image.ExtraApplicationHost = """<applicationPools><add name="p"><processModel password="[enc:AesProvider:wI5whfVYdG8CDd+HEpQ4EdjgdQSTp6RWGRhRNrNLs1NWfEyJeukGRB33KtflqTG5pwBdpFCeEY1j8wigviESNw==:enc]" /></add></applicationPools>""";
        var finding = Assert.Single(Scan(image).Findings, f => f.Severity >= Severity.Warning);
        Assert.Equal("KD3001", finding.Id);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains("1 encrypted value(s)", finding.Message);

        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        image.KeyFile("iisConfigurationKey", rsa);
        Assert.Empty(Ids(Scan(image)));
    }

    [Fact]
    public void ScanCommandExitCodesAndJsonShape()
    {
        using var healthy = ScanImage.Healthy(out _);
        healthy.Build();
        var ok = Cli.Run("scan", healthy.Root, "--json");
        Assert.Equal(0, ok.ExitCode);
        using (var json = JsonDocument.Parse(ok.Stdout))
            Assert.Equal(ScanImage.Guid, json.RootElement.GetProperty("machine").GetProperty("machineGuid").GetString());

        using var broken = new ScanImage();
        broken.HttpSysBinding("0.0.0.0:443", "0123456789ABCDEF0123456789ABCDEF01234567");
        broken.Build();
        var found = Cli.Run("scan", broken.Root, "--json");
        Assert.Equal(1, found.ExitCode);
        using var doc = JsonDocument.Parse(found.Stdout);
        var first = doc.RootElement.GetProperty("findings")[0];
        Assert.Equal("KD2004", first.GetProperty("id").GetString());
        foreach (var field in new[] { "severity", "title", "evidence", "fix" }) Assert.True(first.TryGetProperty(field, out _), field);

        Assert.Equal(2, Cli.Run("scan", Path.Combine(broken.Root, "missing")).ExitCode);
    }
}
