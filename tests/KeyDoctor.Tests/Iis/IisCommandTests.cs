using System.Text.Json;

namespace KeyDoctor.Tests.Iis;

public class IisCommandTests
{
    [Fact]
    public void RealSampleIsHealthyAndJsonIsOneDocument()
    {
        var result = Cli.Run("iis", Fixtures.Path("iis/applicationHost.cc0.config"), "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("file", root.GetProperty("inputKind").GetString());
        Assert.Equal(5, root.GetProperty("providers").GetArrayLength());
        var https = root.GetProperty("sites")[0].GetProperty("bindings")[1];
        Assert.Equal("0.0.0.0:443", https.GetProperty("ssl").GetProperty("httpSysKey").GetString());
        Assert.Equal(2048, root.GetProperty("providers")[3].GetProperty("sessionKey").GetProperty("wrappingKeyBits").GetInt32());
        Assert.Equal(0, root.GetProperty("findings").GetArrayLength());
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void TextOutputNamesSitesProvidersAndKeyFiles()
    {
        var result = Cli.Run("iis", Fixtures.Path("iis/applicationHost.jexus-original.config"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("GuessMeWeb", result.Stdout);
        Assert.Contains("HTTP.sys IpPort 0.0.0.0:44300: not looked up", result.Stdout);
        Assert.Contains("key file 6de9cb26d2b98c01ec4e9e8b34824aa2_<MachineGuid>", result.Stdout);
        Assert.Contains("AesProvider, 32 bytes", result.Stdout);
        Assert.DoesNotContain("9mM2ovvK6I1KeNdmNtr4", result.Stdout); // ciphertext is not printed either
        Assert.Contains("No findings.", result.Stdout);
    }

    [Fact]
    public void LegacyHashIsAFindingWithExitCodeOne()
    {
        using var image = new TempImage();
        image.Write(@"Windows\System32\inetsrv\config\applicationHost.config",
            IisSamples.ApplicationHostWithLegacyHash(IisSamples.ThumbprintBase64));

        var result = Cli.Run("iis", image.Root, "--json");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var finding = json.RootElement.GetProperty("findings")[0];
        // The same shape as a scan finding: catalogue id, title, subject, evidence, fix and help page.
        Assert.Equal("KD2010", finding.GetProperty("id").GetString());
        Assert.Equal("warning", finding.GetProperty("severity").GetString());
        Assert.Equal("customMetadata keeps an IIS 6 SSL certificate hash (5506)", finding.GetProperty("title").GetString());
        Assert.Equal("LM/W3SVC/7 5506", finding.GetProperty("subject").GetString());
        Assert.Equal("configuration", finding.GetProperty("evidence")[0].GetProperty("kind").GetString());
        Assert.True(finding.GetProperty("fix").GetProperty("needsIisRestart").GetBoolean());
        Assert.Equal("docs/findings/KD2010.md", finding.GetProperty("helpLink").GetString());
    }

    [Fact]
    public void InvalidXmlIsAReportedProblemNotACrash()
    {
        using var image = new TempImage();
        var path = image.Write("applicationHost.config", "<configuration>\n  <system.applicationHost>\n</configuration>");

        var result = Cli.Run("iis", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("KD0001 Evidence missing or unreadable", result.Stdout);
        Assert.Contains("not well-formed XML at line 3", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void DtdIsRefusedAsAProblem()
    {
        using var image = new TempImage();
        var path = image.Write("site.config", """<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><configuration>&x;</configuration>""");

        var result = Cli.Run("iis", path, "--json");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Contains("DTD", json.RootElement.GetProperty("files")[0].GetProperty("problem").GetString());
        Assert.DoesNotContain("root:", result.Stdout);
    }

    [Fact]
    public void MetabaseFileIsDetectedByContent()
    {
        var (exchange, signature) = IisSamples.MetabaseKeys();
        var (sessionKey, secret) = IisSamples.MetabaseBlobs(exchange, signature);
        using var image = new TempImage();
        var path = image.Write("backup-copy.xml", IisSamples.Metabase(sessionKey, secret));

        var result = Cli.Run("iis", path, "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("valid", json.RootElement.GetProperty("metabase").GetProperty("sessionKey").GetProperty("status").GetString());
        Assert.DoesNotContain(secret, result.Stdout); // secure values are never echoed, not even as ciphertext
    }

    [Fact]
    public void MissingPathIsAUsageError()
    {
        var result = Cli.Run("iis", "/no/such/path");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("keydoctor: there is no file or folder /no/such/path: give an image root or one IIS configuration file.", result.Stderr.Trim());
    }

    [Fact]
    public void ADriveWithoutIisHasNothingToReportAndAnEmptyFolderIsNoDrive()
    {
        using var image = new TempImage();
        Assert.Equal(2, Cli.Run("iis", image.Root).ExitCode);
        Directory.CreateDirectory(Path.Combine(image.Root, "Windows", "System32"));
        var result = Cli.Run("iis", image.Root);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("applicationHost.config   missing", result.Stdout);
    }
}
