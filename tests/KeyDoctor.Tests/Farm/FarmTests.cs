using System.Text.Json;

namespace KeyDoctor.Tests.Farm;

/// <summary>`keydoctor farm` over generated node folders and bundles: the broken farm, a proper one, and each difference alone.</summary>
public sealed class FarmTests : IDisposable
{
    private readonly FarmKit _kit = new();

    public void Dispose() => _kit.Dispose();

    internal static List<(string Id, string[] Nodes, string Subject, string Severity)> FarmFindings(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => (f.GetProperty("id").GetString()!, f.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()!).ToArray(),
                f.GetProperty("subject").GetString()!, f.GetProperty("severity").GetString()!))
            .ToList();
    }

    [Fact]
    public void BrokenFarmNamesExactlyTheClonePairTheOddKeyAndTheMissingCertificate()
    {
        var (web01, web02, web03, web04) = _kit.BrokenFarm();
        var result = Cli.Run("farm", web01, web02, web03, web04, "--json");
        Assert.Equal("", result.Stderr);
        Assert.Equal(1, result.ExitCode);

        var findings = FarmFindings(result.Stdout).OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(["KD5001", "KD5002", "KD5003"], findings.Select(f => f.Id));
        Assert.Equal([web01, web02], findings[0].Nodes);
        Assert.Equal([web03], findings[1].Nodes);
        Assert.Equal("iisWasKey", findings[1].Subject);
        Assert.Equal("error", findings[1].Severity); // the app-pool password will not decrypt there
        Assert.Equal([web04], findings[2].Nodes);
        Assert.Equal("ipPort " + FarmKit.Endpoint, findings[2].Subject);

        using var document = JsonDocument.Parse(result.Stdout);
        var nodes = document.RootElement.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(["WEB01", "WEB02", "WEB03", "WEB04"], nodes.Select(n => n.GetProperty("name").GetString()));
        Assert.Equal([web01, web02, web03, web04], nodes.Select(n => n.GetProperty("source").GetString()));
        Assert.Equal(nodes[0].GetProperty("machineGuid").GetString(), nodes[1].GetProperty("machineGuid").GetString());

        var kd5002 = document.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "KD5002");
        Assert.Contains("1 encrypted value(s)", kd5002.GetProperty("message").GetString());
        Assert.Contains(kd5002.GetProperty("evidence").EnumerateArray(), e => e.GetProperty("value").GetString()!.Contains("Shop']/processModel/@password")
                                                                               || e.GetProperty("value").GetString()!.Contains("processModel"));
        Assert.Contains("keydoctor keys export iisWasKey -o", kd5002.GetProperty("fix").GetProperty("cmd").GetString());
        Assert.Contains("keydoctor keys import", kd5002.GetProperty("fix").GetProperty("powerShell").GetString());
        // The node missing the certificate also says so in its own scan; the clones' own scans see nothing wrong.
        Assert.Contains(nodes[3].GetProperty("findings").EnumerateArray(), f => f.GetProperty("id").GetString() == "KD2004");
        Assert.DoesNotContain(nodes[0].GetProperty("findings").EnumerateArray(), f => f.GetProperty("severity").GetString() != "info");
    }

    [Fact]
    public void ProperFarmIsCleanWithExitZero()
    {
        var nodes = _kit.ProperFarm(3);
        var result = Cli.Run(["farm", .. nodes, "--json"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Empty(FarmFindings(result.Stdout));

        var text = Cli.Run(["farm", .. nodes]);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("The farm is consistent and every node looks healthy.", text.Stdout);
    }

    [Fact]
    public void OutputDoesNotDependOnTheOrderSourcesAreGiven()
    {
        var (web01, web02, web03, web04) = _kit.BrokenFarm();
        var forward = Cli.Run("farm", web01, web02, web03, web04, "--json");
        var backward = Cli.Run("farm", web04, web03, web02, web01, "--json");
        Assert.Equal(forward.Stdout, backward.Stdout);
        var text = Cli.Run("farm", web03, web01, web04, web02);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("KD5002", text.Stdout);
        Assert.Contains("nodes: WEB03 (" + web03 + ")", text.Stdout);
        Assert.Contains("KD2004 on WEB04", text.Stdout);
    }

    [Fact]
    public void CertificateWithoutItsKeyOnOneNodeIsKd5003()
    {
        var nodes = _kit.ProperFarm(2).Append(_kit.Node("web03", "WEB03", FarmKit.NodeGuid(3), new FarmNodeOptions { CertificateKeyMissing = true })).ToList();
        var result = Cli.Run(["farm", .. nodes, "--json"]);
        var finding = Assert.Single(FarmFindings(result.Stdout));
        Assert.Equal(("KD5003", nodes[2]), (finding.Id, finding.Nodes.Single()));
        Assert.Contains("no usable private key (key-file-missing)", result.Stdout);
    }

    [Fact]
    public void CustomMetadataOnOneNodeOnlyIsKd5004()
    {
        var nodes = _kit.ProperFarm(2).Append(_kit.Node("web03", "WEB03", FarmKit.NodeGuid(3), new FarmNodeOptions { ExtraCustomMetadata = true })).ToList();
        var result = Cli.Run(["farm", .. nodes, "--json"]);
        var finding = Assert.Single(FarmFindings(result.Stdout));
        Assert.Equal(("KD5004", "customMetadata LM/W3SVC/1 5506", nodes[2]), (finding.Id, finding.Subject, finding.Nodes.Single()));
        Assert.Contains("present on WEB03", result.Stdout);
    }

    [Fact]
    public void ProviderWithAnotherSessionKeyIsKd5004()
    {
        var nodes = _kit.ProperFarm(2).ToList();
        using var other = new FarmKit(Path.Combine(_kit.Root, "other-kit"));
        // The node holds the farm's keys but a configuration encrypted elsewhere (its own session keys).
        var odd = _kit.Node("web03", "WEB03", FarmKit.NodeGuid(3));
        File.WriteAllText(Path.Combine(odd, "Windows", "System32", "inetsrv", "config", "applicationHost.config"), other.ApplicationHostConfig);
        var result = Cli.Run(["farm", .. nodes, odd, "--json"]);
        var findings = FarmFindings(result.Stdout);
        Assert.Equal(["KD5004", "KD5004"], findings.Select(f => f.Id));
        Assert.Equal(["provider AesProvider", "provider IISWASOnlyAesProvider"], findings.Select(f => f.Subject));
        Assert.All(findings, f => Assert.Equal([odd], f.Nodes));
        Assert.Contains("its sessionKey is another", result.Stdout);
    }

    [Fact]
    public void BundlesAndFoldersMixAndNodesAreNamedByTheirComputerName()
    {
        var nodes = _kit.ProperFarm(2);
        var bundle = Path.Combine(_kit.Root, "web02.zip");
        Assert.Equal(0, Cli.Run("collect", "--from", nodes[1], "-o", bundle).ExitCode);
        var result = Cli.Run("farm", nodes[0], bundle, "--json");
        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Stdout);
        var names = document.RootElement.GetProperty("nodes").EnumerateArray()
            .Select(n => (n.GetProperty("name").GetString(), n.GetProperty("source").GetString())).ToList();
        Assert.Equal([("WEB01", nodes[0]), ("WEB02", bundle)], names);
    }

    [Theory]
    [InlineData("one")]
    [InlineData("both")]
    [InlineData("twice")]
    [InlineData("missing")]
    public void UsageAndInputErrorsAreOneLineWithExitTwo(string kind)
    {
        var nodes = _kit.ProperFarm(2);
        var result = kind switch
        {
            "one" => Cli.Run("farm", nodes[0]),
            "both" => Cli.Run("farm", nodes[0], nodes[1], "--store", Path.Combine(_kit.Root, "s.db")),
            "twice" => Cli.Run("farm", nodes[0], nodes[0]),
            _ => Cli.Run("farm", nodes[0], Path.Combine(_kit.Root, "nowhere")),
        };
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("keydoctor: ", result.Stderr);
        if (kind == "missing") Assert.Contains(Path.Combine(_kit.Root, "nowhere"), result.Stderr);
    }
}
