using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

/// <summary>
/// The unsafe repair steps two reviews found (issue 25), each a test through the command line and the scripts a
/// person would run, so each one fails on the plans KeyDoctor used to write.
/// </summary>
public sealed class RepairSafetyTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kd-safety-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static readonly string Demo = Path.Combine(Fixtures.RepoRoot, "demo", "web01");
    private const string DemoGuid = "5c8a4e1b-2f3d-4a6b-9c7e-0d1f2a3b4c5d";
    private const string DemoOriginalGuid = "e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90";
    private const string DamagedDemoFile = "c19be43b9c276b6d3e9e1fa1fe05386b_" + DemoOriginalGuid;

    /// <summary>A copy of the demo server's disk, to apply plans to.</summary>
    private string DemoCopy(string name = "web01")
    {
        var copy = Path.Combine(_work, $"{name}-{Guid.NewGuid():N}");
        foreach (var file in Directory.GetFiles(Demo, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Demo, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    /// <summary>A snapshot of the demo taken before the damage: the file an anti-virus cut short is intact in it.</summary>
    private string DemoSnapshot()
    {
        var before = DemoCopy("before");
        var keyFile = Path.Combine(before, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", DamagedDemoFile);
        using var rsa = RSA.Create(1024);
        var pair = new CapiKeyPairContent(CapiRsaPublicKey.Create(rsa.ExportParameters(false).Modulus, 65537),
            CapiKeyFile.Parse(File.ReadAllBytes(Directory.GetFiles(Path.GetDirectoryName(keyFile)!, "c2319c42*").Single())).Exchange!.PrivateKey!, null);
        File.WriteAllBytes(keyFile, CapiKeyFileWriter.Write(new CapiKeyFileContent("demo-reporting") { Exchange = pair }));
        var zip = Path.Combine(_work, $"before-{Guid.NewGuid():N}.zip");
        Assert.Equal(0, Cli.Run("snapshot", "--from", before, "-o", zip).ExitCode);
        return zip;
    }

    /// <summary>The four demo plans the issue asks about: with and without --accept KD1001, with and without --snapshot.</summary>
    private IEnumerable<(string Name, string Script)> DemoPlans()
    {
        var snapshot = DemoSnapshot();
        foreach (var (name, args) in new (string, string[])[]
                 {
                     ("default", []), ("accepted", ["--accept", "KD1001"]), ("snapshot", ["--snapshot", snapshot]),
                     ("accepted-snapshot", ["--accept", "KD1001", "--snapshot", snapshot]),
                 })
            yield return (name, PlanScript(Demo, name, args));
    }

    /// <summary>Every scenario plan plus the demo plans, as PowerShell scripts.</summary>
    private IEnumerable<(string Name, string Script)> AllPlans()
    {
        foreach (var plan in DemoPlans()) yield return plan;
        foreach (var (id, make) in RepairScenarios.ByFinding.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            using var image = make();
            yield return (id, PlanScript(image.Root, id, ["--accept", "KD1001"]));
        }
    }

    private string PlanScript(string source, string name, string[] args)
    {
        var script = Path.Combine(_work, $"plan-{name}-{Guid.NewGuid():N}.ps1");
        var result = Cli.Run(["repair", "plan", source, "-o", script, .. args]);
        Assert.True(result.ExitCode is 0 or 1, result.Stderr);
        return File.Exists(script) ? File.ReadAllText(script) : "";
    }

    /// <summary>The script's code lines (no comments, no blank lines, not the plan it carries).</summary>
    private static List<string> CodeLines(string script) =>
        script.Split('\n').Select(l => l.TrimEnd('\r').Trim())
            .TakeWhile(l => !l.StartsWith("<#KEYDOCTOR-PLAN", StringComparison.Ordinal))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    /// <summary>Lines that run a program (not PowerShell's own flow: if, try, catch, throw, param, assignments).</summary>
    private static List<string> ProgramLines(string script) =>
        CodeLines(script).Where(l => !(l.StartsWith("if ", StringComparison.Ordinal) || l.StartsWith("if(", StringComparison.Ordinal)
                                       || l.StartsWith('}') || l.StartsWith('{') || l is "try {" or "throw" || l.StartsWith("param(", StringComparison.Ordinal)
                                       || l.StartsWith('$') || l.StartsWith("Write-", StringComparison.Ordinal))).ToList();

    // --- Unsafe repair steps

    [Fact]
    public void PuttingTheGuidBackMakesTheIisAndConfigurationImportsUnnecessaryInsteadOfImportingOverTheRevivedContainers()
    {
        var script = PlanScript(Demo, "accepted", ["--accept", "KD1001"]);
        Assert.DoesNotContain(ProgramLines(script), l => l.Contains("keys import", StringComparison.Ordinal));
        var text = Cli.Run("repair", "plan", Demo, "--accept", "KD1001").Stdout;
        Assert.Contains("Not needed KD1002 Microsoft Internet Information Server: not needed after step 3", text);
        Assert.Contains("Not needed KD3001 AesProvider: not needed after step 3", text);
    }

    [Fact]
    public void AnImportThatWouldReplaceAContainerNotProvenBadIsLeftToAPerson()
    {
        // The IIS 6 container under the current GUID holds the metabase's signature key; a second copy with another
        // key sits under an old GUID (KD1002 "duplicated"): importing a key set would overwrite the good one.
        using var image = ScanImage.Healthy(out _);
        var (_, signature) = image.Metabase();
        using var old = RSA.Create(1024);
        image.KeyFile("Microsoft Internet Information Server", signature, spec: KeySpec.Signature);
        image.KeyFile("Microsoft Internet Information Server", old, ScanImage.OldGuid, KeySpec.Signature);
        image.Build();

        Assert.DoesNotContain(ProgramLines(PlanScript(image.Root, "duplicated", [])), l => l.Contains("keys import", StringComparison.Ordinal));
        var text = Cli.Run("repair", "plan", image.Root).Stdout;
        Assert.Contains("Needs a decision KD1002", text);
        Assert.Contains("not proven bad", text);
    }

    [Fact]
    public void AContainerIisAdminReCreatedIsProvenBadByTheMetabaseAndMayBeReplaced()
    {
        // The container under the current GUID parses and holds both keys, but its signature key does not verify the
        // metabase's SessionKey: IISADMIN made it after losing the original. Importing the right key set over it is safe.
        using var image = ScanImage.Healthy(out _);
        image.Metabase();
        using var recreated = RSA.Create(512);
        image.KeyFile("Microsoft Internet Information Server", recreated, spec: KeySpec.Signature);
        image.Build();

        Assert.Contains(ProgramLines(PlanScript(image.Root, "recreated", [])), l => l.Contains("keys import", StringComparison.Ordinal));
        Assert.DoesNotContain("not proven bad", Cli.Run("repair", "plan", image.Root).Stdout);
    }

    [Fact]
    public void PuttingTheGuidBackCarriesForwardTheKeysMadeSinceSoTheSiteThatWorkedKeepsWorking()
    {
        var copy = DemoCopy();
        File.Delete(Path.Combine(copy, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", DamagedDemoFile)); // KD1003 is another test's
        var before = CertificateFindings(copy);
        var plan = Path.Combine(_work, "guid.json");
        Assert.Equal(1, Cli.Run("repair", "plan", copy, "--accept", "KD1001", "-o", plan).ExitCode);
        var applied = Cli.Run("repair", "apply", plan, "--image", copy, "--run-folder", Path.Combine(_work, "run"), "--yes");
        Assert.True(applied.ExitCode is 0 or 1, applied.Stderr);

        // A person imports the .reg on the server: the image's registry gets the original GUID back.
        var reg = Path.Combine(copy, "registry", "web01.reg");
        File.WriteAllText(reg, File.ReadAllText(reg, Encoding.Unicode).Replace(DemoGuid, DemoOriginalGuid, StringComparison.Ordinal), Encoding.Unicode);
        var after = CertificateFindings(copy);
        Assert.True(after.Where(f => f.StartsWith("KD20", StringComparison.Ordinal)).ToHashSet().IsSubsetOf(before),
            $"new certificate findings after the GUID went back: {string.Join(", ", after.Except(before))}");
        Assert.DoesNotContain($"KD1001 {DemoGuid}", after);
        // The copies hold the same bytes as the keys they were made from (which stay, for the time until the reboot).
        var machineKeys = Path.Combine(copy, "ProgramData/Microsoft/Crypto/RSA/MachineKeys");
        foreach (var original in Directory.GetFiles(machineKeys, "*_" + DemoGuid))
            Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(original[..^DemoGuid.Length] + DemoOriginalGuid));
    }

    /// <summary>The certificate and key findings of a scan, as "ID subject".</summary>
    private static HashSet<string> CertificateFindings(string image)
    {
        using var json = JsonDocument.Parse(Cli.Run("scan", image, "--json").Stdout);
        return json.RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => $"{f.GetProperty("id").GetString()} {f.GetProperty("subject").GetString()}")
            .Where(f => f.StartsWith("KD20", StringComparison.Ordinal) || f.StartsWith("KD1001", StringComparison.Ordinal)).ToHashSet();
    }

    [Fact]
    public void AKeyMadeSinceTheGuidChangeThatCannotBeCarriedForwardLeavesTheGuidToAPerson()
    {
        // The site's key was made under the current GUID, and another key already has its name under the old one.
        using var image = ScanImage.Healthy(out var certificate);
        using var rsa = RSA.Create(1024);
        for (var i = 0; i < 5; i++) image.KeyFile($"old-container-{i}", rsa, ScanImage.OldGuid);
        image.KeyFile("shop-key", rsa, ScanImage.OldGuid);
        image.Build();
        Assert.DoesNotContain(ProgramLines(PlanScript(image.Root, "conflict", ["--accept", "KD1001"])), l => l.Contains("MachineGuid", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(Cli.Run("repair", "plan", image.Root, "--accept", "KD1001", "--json").Stdout);
        var decision = json.RootElement.GetProperty("needsDecision").EnumerateArray().Single(d => d.GetProperty("id").GetString() == "KD1001");
        Assert.Contains($"would break certificate {certificate.Thumbprint}", decision.GetProperty("decision").GetString());
    }

    [Fact]
    public void NoRollbackMirrorsAFolderOrCopiesAWholeFolder()
    {
        foreach (var (name, script) in AllPlans())
            Assert.DoesNotContain(ProgramLines(script), l => l.Contains("robocopy", StringComparison.OrdinalIgnoreCase)
                                                             || l.Contains("/MIR", StringComparison.OrdinalIgnoreCase)
                                                             || l.Contains("xcopy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void ARollbackPutsBackOnlyTheFilesItsStepChangedAndKeepsKeysMadeMeanwhile()
    {
        var machineKeys = Directory.CreateDirectory(Path.Combine(_work, "MachineKeys")).FullName;
        var changed = Path.Combine(machineKeys, "changed");
        var untouched = Path.Combine(machineKeys, "untouched");
        var created = Path.Combine(machineKeys, "created-by-the-step");
        File.WriteAllText(changed, "before");
        File.WriteAllText(untouched, "before");
        var backup = Path.Combine(_work, "backup", "002-KD1003");
        Assert.Equal(0, Cli.Run("repair", "backup", "--to", backup, "--file", changed, "--file", created).ExitCode);

        File.WriteAllText(changed, "after");
        File.WriteAllText(created, "made by the step");
        var renewed = Path.Combine(machineKeys, "renewed-meanwhile"); // auto-enrolment during the run
        File.WriteAllText(renewed, "new key");
        File.WriteAllText(untouched, "changed by someone else");

        var restored = Cli.Run("repair", "restore", "--from", backup);
        Assert.True(restored.ExitCode == 0, restored.Stderr);
        Assert.Equal("before", File.ReadAllText(changed));
        Assert.False(File.Exists(created));
        Assert.Equal("new key", File.ReadAllText(renewed));
        Assert.Equal("changed by someone else", File.ReadAllText(untouched));
        Assert.Contains("nothing to put back", Cli.Run("repair", "restore", "--from", backup).Stdout); // twice: nothing more
    }

    [Fact]
    public void EveryFixRunsTheSameProgramsWithTheSameArgumentsInPowerShellAndCmd()
    {
        var sources = new List<string> { Demo };
        var images = RepairScenarios.ByFinding.Values.Select(make => make()).ToList();
        try
        {
            sources.AddRange(images.Select(i => i.Root));
            var compared = 0;
            foreach (var source in sources)
            {
                using var json = JsonDocument.Parse(Cli.Run("scan", source, "--json").Stdout);
                foreach (var finding in json.RootElement.GetProperty("findings").EnumerateArray())
                {
                    if (!finding.TryGetProperty("fix", out var fix) || !fix.TryGetProperty("powerShell", out var ps)) continue;
                    var id = finding.GetProperty("id").GetString();
                    var psLines = ps.GetString()!.Split('\n').Where(l => !l.TrimStart().StartsWith('#')).ToList();
                    var cmdLines = fix.GetProperty("cmd").GetString()!.Split('\n')
                        .Where(l => !l.TrimStart().StartsWith("rem", StringComparison.OrdinalIgnoreCase)).ToList();
                    Assert.True(psLines.Count == cmdLines.Count, $"{id}: {psLines.Count} PowerShell line(s), {cmdLines.Count} cmd line(s)");
                    for (var i = 0; i < psLines.Count; i++)
                    {
                        Assert.True(ShellArgv.PowerShell(psLines[i]).SequenceEqual(ShellArgv.Cmd(cmdLines[i])),
                            $"{id}: PowerShell and cmd differ:\n  {psLines[i]}\n  {cmdLines[i]}");
                        compared++;
                    }
                }
            }
            Assert.True(compared > 20, $"only {compared} fix lines compared");
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    [Fact]
    public void EachCertificateGetsAPlaceholderOfItsOwnForItsPfx()
    {
        var script = PlanScript(Demo, "default", []);
        var imports = ProgramLines(script).Where(l => l.Contains("-importpfx", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, imports.Count);
        // What follows the store name: certutil [-f] [-p ...] -importpfx STORE PFX [AT_KEYEXCHANGE].
        var pfxFiles = imports.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"-importpfx \S+ (.+?)( AT_KEYEXCHANGE)?$").Groups[1].Value).ToList();
        Assert.Equal(2, pfxFiles.Distinct().Count());
        Assert.Contains(pfxFiles, p => p.Contains("C22260C5B510CCD605175C6D0E198CDFD2D1E8EB", StringComparison.Ordinal));
        Assert.Contains(pfxFiles, p => p.Contains("ED95B1E87893BD3550A87AD44D6A8313CE077F23", StringComparison.Ordinal));
    }

    [Fact]
    public void NoPasswordIsEverPutOnACommandLine()
    {
        foreach (var (name, script) in AllPlans())
            foreach (var line in ProgramLines(script))
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.False(words.Contains("-p") || words.Contains("-password") || line.Contains("$password", StringComparison.OrdinalIgnoreCase),
                    $"{name}: a password on the command line: {line}");
                if (line.StartsWith("certutil", StringComparison.Ordinal))
                    Assert.DoesNotContain("-p", ShellArgv.PowerShell(line));
            }
    }

    [Fact]
    public void ARunTakesOneSnapshotSaysWhereItIsAndItsChecksCopyNoKeys()
    {
        foreach (var (name, script) in DemoPlans())
        {
            Assert.True(1 == ProgramLines(script).Count(l => l.StartsWith("keydoctor snapshot", StringComparison.Ordinal)), $"{name}: not exactly one snapshot");
            Assert.DoesNotContain(ProgramLines(script), l => l.Contains("keys export", StringComparison.Ordinal));
            Assert.Contains("Delete the folder when you are satisfied with the repair", script);
        }
        // Applied to an image: one snapshot in the run folder, every file owner-only; the checks wrote nothing.
        var copy = DemoCopy();
        File.Delete(Path.Combine(copy, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", DamagedDemoFile));
        var plan = Path.Combine(_work, "plan.json");
        Cli.Run("repair", "plan", copy, "-o", plan);
        var run = Path.Combine(_work, "run");
        var applied = Cli.Run("repair", "apply", plan, "--image", copy, "--run-folder", run, "--yes");
        Assert.True(applied.ExitCode is 0 or 1, applied.Stderr);
        Assert.Single(Directory.GetFiles(run, "*.zip", SearchOption.AllDirectories));
        Assert.Contains("Delete it when you are satisfied with the repair", applied.Stdout);
    }

    [Fact]
    public void NoStepReadsFromASnapshotFolderThatWasNeverWritten()
    {
        foreach (var (name, script) in AllPlans())
            Assert.DoesNotContain(ProgramLines(script), l => l.Contains(@"C:\kd\snapshot", StringComparison.OrdinalIgnoreCase));
        // With a snapshot, the damaged file comes from the snapshot itself (a zip), checked by SHA-256.
        var snapshot = DemoSnapshot();
        var copy = DemoCopy();
        var plan = Path.Combine(_work, "snapshot.json");
        Cli.Run("repair", "plan", copy, "--snapshot", snapshot, "-o", plan);
        var applied = Cli.Run("repair", "apply", plan, "--image", copy, "--run-folder", Path.Combine(_work, "run"), "--yes", "--json");
        using var json = JsonDocument.Parse(applied.Stdout);
        Assert.Contains(json.RootElement.GetProperty("outcomes").EnumerateArray(),
            o => o.GetProperty("findingId").GetString() == "KD1003" && o.GetProperty("kind").GetString() == "verify" && o.GetProperty("outcome").GetString() == "done");
    }

    [Fact]
    public void EveryCommandIsCheckedBeforeTheNextOneRuns()
    {
        foreach (var (name, script) in AllPlans())
        {
            var lines = CodeLines(script);
            var programs = ProgramLines(script).ToHashSet();
            for (var i = 0; i < lines.Count; i++)
            {
                if (!programs.Contains(lines[i]) || lines[i].StartsWith("iisreset", StringComparison.Ordinal)) continue;
                Assert.True(i + 1 < lines.Count && lines[i + 1].Contains("$LASTEXITCODE", StringComparison.Ordinal),
                    $"{name}: nothing checks '{lines[i]}' before '{(i + 1 < lines.Count ? lines[i + 1] : "the end")}'");
            }
        }
    }

    [Fact]
    public void NoStepRestartsHttpSysOrTheServicesOfTheAdminsSession()
    {
        foreach (var (name, script) in AllPlans())
            Assert.DoesNotContain(ProgramLines(script), l =>
                l.Contains("Restart-Service", StringComparison.OrdinalIgnoreCase) || l.Contains("Stop-Service", StringComparison.OrdinalIgnoreCase)
                || l.StartsWith("net stop", StringComparison.OrdinalIgnoreCase) || l.StartsWith("sc stop", StringComparison.OrdinalIgnoreCase)
                || l.Contains("WinRM", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void TheLiveKd2005FixRemovesOnlyTheStalePropertiesAsTheImageEditDoes()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var config = Path.Combine(image.Root, "Windows/System32/inetsrv/config/applicationHost.config");
        File.WriteAllText(config, File.ReadAllText(config).Replace("<property id=\"5511\"",
            "<property id=\"2000\" dataType=\"String\" userType=\"1\" attributes=\"None\" value=\"kept\" />\r\n            <property id=\"5511\"", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(Cli.Run("scan", image.Root, "--json").Stdout);
        var fix = json.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "KD2005").GetProperty("fix");
        var lines = fix.GetProperty("cmd").GetString()!.Split('\n').Where(l => !l.StartsWith("rem", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.DoesNotContain(lines, l => l.Contains("clear config", StringComparison.OrdinalIgnoreCase));

        // The live command, run against the file: 5506 and 5511 go, property 2000 of the same key stays.
        var argv = ShellArgv.Cmd(Assert.Single(lines));
        Assert.Equal(["keydoctor", "repair", "remove-metadata"], argv[..3]);
        var result = Cli.Run(["repair", "remove-metadata", config, .. argv[4..]]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var after = File.ReadAllText(config);
        Assert.DoesNotContain("id=\"5506\"", after);
        Assert.DoesNotContain("id=\"5511\"", after);
        Assert.Contains("<key path=\"LM/W3SVC/1\">", after);
        Assert.Contains("value=\"kept\"", after);
    }

    [Fact]
    public void TheIisContainersBackupIsTheFileByNameNotAnExportLabelledAsTheIisKeySet()
    {
        var script = PlanScript(Demo, "default", []);
        Assert.DoesNotContain(ProgramLines(script), l => l.Contains("keys export", StringComparison.Ordinal));
        Assert.Contains(ProgramLines(script), l => l.StartsWith("keydoctor repair backup", StringComparison.Ordinal)
                                                   && l.Contains($"c2319c42033a5ca7f44e731bfd3fa2b5_{DemoGuid}", StringComparison.Ordinal));
    }

    [Fact]
    public void TheKd3009BackupIsPasswordEncryptedAndThePasswordIsNeverOnACommandLine()
    {
        var page = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "docs", "findings", "KD3009.md"));
        var (ps, cmd) = (ShellArgv.DocBlock(page, "powershell"), ShellArgv.DocBlock(page, "bat"));
        Assert.True(ps.Count > 0 && ps.Count == cmd.Count, "KD3009's PowerShell and cmd blocks differ in length");
        for (var i = 0; i < ps.Count; i++) Assert.Equal(ShellArgv.PowerShell(ps[i]), ShellArgv.Cmd(cmd[i]));
        Assert.Contains(ps, l => l.Contains("BackupWithPassword", StringComparison.Ordinal) && l.Contains("Read-Host -AsSecureString", StringComparison.Ordinal));
        Assert.DoesNotContain(ps.Concat(cmd), l => l.Contains("iisback", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void ASiteOnOneAddressIsServedByTheWildcardBindingWhichIsNeverOfferedForDeletion()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=shop.example.com", "shop-key");
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "10.0.0.5:443:");
        image.Build();
        var result = Cli.Run("scan", image.Root, "--json");
        Assert.True(result.ExitCode == 0, result.Stdout); // served through 0.0.0.0:443: nothing to warn about
        Assert.DoesNotContain("delete sslcert", result.Stdout);
        Assert.DoesNotContain("delete sslcert", Cli.Run("scan", image.Root).Stdout);
    }

    [Fact]
    public void ABindingASiteIsServedByIsNeverOfferedForDeletionWhenItsCertificateIsGone()
    {
        using var image = new ScanImage();
        image.HttpSysBinding("0.0.0.0:443", RepairScenarios.StaleHash);
        image.Site("Shop", 1, "10.0.0.5:443:");
        image.Build();
        var json = Cli.Run("scan", image.Root, "--json").Stdout;
        Assert.Contains("\"KD2004\"", json);
        Assert.DoesNotContain("delete sslcert", json);
        Assert.DoesNotContain("delete sslcert", Cli.Run("scan", image.Root, "--shell", "cmd").Stdout);
    }

    [Fact]
    public void TheDemoPlansAreTheSameBytesEveryTime()
    {
        foreach (var args in new[] { new[] { "--json" }, ["--json", "--accept", "KD1001"] })
            Assert.Equal(Cli.Run(["repair", "plan", Demo, .. args]).Stdout, Cli.Run(["repair", "plan", Demo, .. args]).Stdout);
        var (first, second) = (Path.Combine(_work, "1.cmd"), Path.Combine(_work, "2.cmd"));
        Cli.Run("repair", "plan", Demo, "--accept", "KD1001", "-o", first);
        Cli.Run("repair", "plan", Demo, "--accept", "KD1001", "-o", second);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
    }

    // --- Output an admin can paste

    [Fact]
    public void FixLinesHaveNoPromptAndAreNeverWrapped()
    {
        // --details prints the fixes of the findings another one explains too (by default they are named, not shown).
        var text = Cli.Run("scan", Demo, "--details").Stdout;
        Assert.DoesNotContain("PS>", text);
        var answer = Cli.Run("scan", Demo).Stdout.Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToHashSet();
        Assert.Contains("reg add HKLM\\SOFTWARE\\Microsoft\\Cryptography /v MachineGuid /t REG_SZ /d e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90 /f", answer);
        using var json = JsonDocument.Parse(Cli.Run("scan", Demo, "--json").Stdout);
        var fixLines = json.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.TryGetProperty("fix", out var fix) && fix.TryGetProperty("powerShell", out _))
            .SelectMany(f => f.GetProperty("fix").GetProperty("powerShell").GetString()!.Split('\n')).ToList();
        Assert.Contains(fixLines, l => l.Length > 160); // longer than the console is wide
        var printed = text.Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToHashSet();
        foreach (var line in fixLines) Assert.True(printed.Contains(line), $"not printed whole on one line: {line}");
    }

    [Fact]
    public void CmdLinesAreShownWithShellCmdAndAPlanCanBeACmdScriptThatApplyReads()
    {
        var text = Cli.Run("scan", Demo, "--shell", "cmd").Stdout;
        Assert.Contains("\"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\\", text);
        Assert.DoesNotContain("$env:", text);
        var script = Path.Combine(_work, "plan.cmd");
        Assert.Equal(1, Cli.Run("repair", "plan", Demo, "--shell", "cmd", "-o", script).ExitCode);
        var cmd = File.ReadAllText(script);
        Assert.StartsWith("@echo off", cmd);
        Assert.Contains("if errorlevel 1 goto :", cmd);
        var applied = Cli.Run("repair", "apply", script, "--image", DemoCopy(), "--yes");
        Assert.Equal(2, applied.ExitCode);
        Assert.Contains("keyfile-" + DamagedDemoFile, applied.Stderr); // read, and refused for its unfilled input
    }

    [Fact]
    public void APlaceholderStaysVisiblyUnfilledAndApplyRefusesNamingEachOne()
    {
        var script = PlanScript(Demo, "default", []);
        Assert.Contains("'<PFX file for C22260C5B510CCD605175C6D0E198CDFD2D1E8EB>'", script);
        var plan = Path.Combine(_work, "plan.ps1");
        File.WriteAllText(plan, script);
        var copy = DemoCopy();
        var refused = Cli.Run("repair", "apply", plan, "--image", copy, "--run-folder", Path.Combine(_work, "run"), "--yes");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"keyfile-{DamagedDemoFile}", refused.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_work, "run"))); // refused before anything was written
        // The script refuses -Apply itself while an input is unfilled.
        Assert.Contains(CodeLines(script), l => l.StartsWith("if ($Apply) { throw \"This plan still has unfilled inputs", StringComparison.Ordinal));
    }
}
