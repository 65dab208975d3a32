using System.Text.Json;
using KeyDoctor.Diagnosis;

namespace KeyDoctor.Tests.Diagnosis;

/// <summary>Root cause → consequences: the causality table, the grouped text answer, and `explain KDxxxx` from the binary.</summary>
public class RootCauseTests
{
    private const string Current = "5c8a4e1b-2f3d-4a6b-9c7e-0d1f2a3b4c5d";
    private const string Original = "e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90";

    private static Finding Kd1001() => new(FindingCatalog.MachineGuidChanged, Current, "guid changed")
    {
        Properties = new Dictionary<string, string> { ["machineGuid"] = Current, ["likelyOriginalGuid"] = Original },
    };

    private static Finding Missing(DiagnosticDescriptor descriptor, string prefix, string subject) => new(descriptor, subject, "missing " + subject)
    {
        Properties = new Dictionary<string, string> { ["keyFile"] = $@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{prefix}_{Current}" },
    };

    private static Finding Event(int id, string time, string? service = null) => new(FindingCatalog.EventEvidence, $"System.evtx#{time}",
        $"Schannel event {id} at {time}: could not use the server credential")
    {
        Properties = service is null
            ? new Dictionary<string, string> { ["eventId"] = $"{id}" }
            : new Dictionary<string, string> { ["eventId"] = $"{id}", ["service"] = service },
    };

    [Fact]
    public void AGuidChangeExplainsOnlyTheContainersThatAreThereUnderAnotherGuid()
    {
        const string iis = "c2319c42033a5ca7f44e731bfd3fa2b5";
        const string config = "6de9cb26d2b98c01ec4e9e8b34824aa2";
        const string gone = "49dc80bf9b50193bd3d9ee5efe083654";
        var findings = new List<Finding>
        {
            Kd1001(),
            Missing(FindingCatalog.Iis6ContainerBroken, iis, "Microsoft Internet Information Server"),
            Missing(FindingCatalog.ProtectedConfigKeyMissing, config, "AesProvider"),
            Missing(FindingCatalog.CertificateKeyFileMissing, gone, "C22260C5"), // nowhere under any GUID: its own problem
            Event(7024, "2026-11-20 06:12:00Z", "IISADMIN"),
        };
        var facts = new RootCauses.Facts(new HashSet<string>(StringComparer.OrdinalIgnoreCase) { $"{iis}_{Original}", $"{config}_{Original}" });
        var linked = RootCauses.Link(findings, facts);
        Assert.Empty(linked[0].CausedBy);
        Assert.Equal([new FindingRef("KD1001", Current)], linked[1].CausedBy);
        Assert.Equal([new FindingRef("KD1001", Current)], linked[2].CausedBy);
        Assert.Empty(linked[3].CausedBy);
        Assert.Equal([new FindingRef("KD1002", "Microsoft Internet Information Server")], linked[4].CausedBy); // the direct cause

        var forest = RootCauses.Group(linked);
        Assert.Equal(["KD1001", "KD2008"], forest.Select(n => n.Finding.Id));
        Assert.Equal(3, forest[0].Explains); // KD1002, its event, KD3001
        Assert.Equal(["KD1002", "KD3001"], forest[0].Consequences.Select(n => n.Finding.Id));
        Assert.Equal("KD4001", Assert.Single(forest[0].Consequences[0].Consequences).Finding.Id);

        // Without the files under the other GUID nothing is linked: the evidence must agree.
        Assert.All(RootCauses.Link(findings, new RootCauses.Facts(new HashSet<string>())).Take(4), f => Assert.Empty(f.CausedBy));
    }

    [Fact]
    public void TheSameEventOnSeveralDaysIsOneNodeWithACountAndTheTimeRange()
    {
        var bound = new Finding(FindingCatalog.SignatureOnlyKey, "ED95", "AT_SIGNATURE key");
        var findings = RootCauses.Link(
            [bound, Event(36870, "2026-11-21 06:15:00Z"), Event(36870, "2026-11-20 06:21:00Z"), Event(36870, "2026-11-22 01:00:00Z")],
            new RootCauses.Facts(new HashSet<string>()));
        var root = Assert.Single(RootCauses.Group(findings));
        var repeated = Assert.Single(root.Consequences);
        Assert.Equal(3, repeated.Repeats.Count);
        Assert.Equal(3, root.Explains);
        Assert.Equal("Schannel event 36870 3 times between 2026-11-20 06:21:00Z and 2026-11-22 01:00:00Z: could not use the server credential", repeated.Message);
    }

    [Fact]
    public void TheDemoAnswerReadsCauseThenConsequencesThenWhatToRun()
    {
        var demo = Path.Combine(Fixtures.RepoRoot, "demo", "web01");
        var text = Cli.Run("scan", demo).Stdout.ReplaceLineEndings("\n");
        var kd1001 = text.IndexOf("KD1001 MachineGuid changed", StringComparison.Ordinal);
        Assert.True(kd1001 >= 0 && kd1001 < text.IndexOf("KD1002 IIS 6", StringComparison.Ordinal), "the root cause comes before its consequences");
        Assert.Contains("    because of KD1001:  CRITICAL  KD1002", text);
        Assert.Contains("    because of KD1001: ERROR    KD3001", text);
        Assert.Contains("        because of KD1002: WARNING  KD4001", text);
        Assert.Contains("Schannel event 36870 2 times between 2026-11-20 06:15:00Z and 2026-11-20 06:21:00Z", Flat(text));
        Assert.Contains("fix KD1001 first, then scan again; if this is still reported, its own fix applies. Not shown: 2 evidence line(s) and its own fix (2 command(s)) (--details shows them).", Flat(text));
        Assert.Contains("fix KD2003 or KD2008 first, then scan again", Flat(text)); // the Schannel events: either certificate's key
        Assert.Contains("more: keydoctor explain KD1001", text);
        Assert.DoesNotContain("docs/findings", text);
        Assert.Contains("independent problem(s)", text);
        Assert.Contains("Fix KD1001 first: it explains 4 of the other findings", Flat(text));
        // Nothing is lost: --details prints every finding's fix, and --json keeps every finding with its causes.
        var details = Cli.Run("scan", demo, "--details").Stdout;
        Assert.Contains("metabase verify --key", details);
        Assert.DoesNotContain("Not shown:", details);
        using var json = JsonDocument.Parse(Cli.Run("scan", demo, "--json").Stdout);
        var findings = json.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(15, findings.Count);
        Assert.All(findings, f => Assert.Equal(JsonValueKind.Array, f.GetProperty("causedBy").ValueKind));
        Assert.Equal(["KD1001"], findings.Single(f => f.GetProperty("id").GetString() == "KD1002").GetProperty("causedBy").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("KD1001", json.RootElement.GetProperty("summary").GetProperty("fixFirst").GetString());
    }

    /// <summary>The text with line wrapping undone (a long line continues at column 0).</summary>
    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    [Fact]
    public void EveryCatalogIdHasItsPageEmbeddedExactlyAsTheDocsHaveIt()
    {
        Assert.Equal(FindingCatalog.All.Select(d => d.Id), FindingPages.Ids);
        foreach (var descriptor in FindingCatalog.All)
        {
            var embedded = FindingPages.Get(descriptor.Id);
            Assert.Equal(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "docs", "findings", descriptor.Id + ".md")), embedded);
            Assert.Equal(embedded, FindingPages.Get(descriptor.Id.ToLowerInvariant()));
        }
    }

    [Fact]
    public void ExplainPrintsAFindingsPageFromTheBinary()
    {
        var text = Cli.Run("explain", "kd1002");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("KD1002: IIS 6 key container missing", text.Stdout);
        Assert.Contains("WHAT IT MEANS", text.Stdout);
        Assert.Contains("    keydoctor keys import '<key set of Microsoft Internet Information Server from a backup of this server>'", text.Stdout); // PowerShell, unwrapped
        Assert.Contains("    keydoctor keys import \"<key set of Microsoft Internet Information Server from a backup of this server>\"", text.Stdout); // cmd
        Assert.DoesNotContain("```", text.Stdout);
        using var json = JsonDocument.Parse(Cli.Run("explain", "KD2003", "0x80090016", "--json").Stdout);
        var page = Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("KD2003", page.GetProperty("id").GetString());
        Assert.StartsWith("# KD2003: ", page.GetProperty("page").GetString());
        Assert.Equal("0x80090016", json.RootElement.GetProperty("codes")[0].GetProperty("code").GetString());
        var unknown = Cli.Run("explain", "KD9999");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("there is no finding KD9999", unknown.Stderr);
    }

    /// <summary>The pages come from the assembly, not from a docs folder: the built tool answers from a folder without one.</summary>
    [Fact]
    public void ExplainWorksFromAnyFolder()
    {
        var folder = Directory.CreateTempSubdirectory("kd-explain-cwd-").FullName;
        try
        {
            var cli = typeof(KeyDoctor.Cli.KeyDoctorApp).Assembly.Location;
            var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { cli, "explain", "KD3001" }) start.ArgumentList.Add(arg);
            using var process = System.Diagnostics.Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("KD3001: Protected configuration key container missing", stdout);
            Assert.False(Directory.Exists(Path.Combine(folder, "docs")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
