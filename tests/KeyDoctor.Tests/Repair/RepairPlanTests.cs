using System.Text.Json;
using System.Text.RegularExpressions;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

public sealed partial class RepairPlanTests
{
    private static RepairPlan PlanFor(ScanImage image, IMachineSource? snapshot = null)
    {
        using var source = MachineSource.Open(image.Root);
        return RepairPlanner.Plan(Scanner.Scan(source), new RepairPlanOptions { Snapshot = snapshot, SnapshotPath = snapshot is null ? null : "snapshot.zip" });
    }

    [Fact]
    public void HealthyServerHasAnEmptyPlan()
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        Assert.True(PlanFor(image).IsEmpty);
        Assert.Equal(0, Cli.Run("repair", "plan", image.Root).ExitCode);
    }

    /// <summary>
    /// The plan for each check on its scenario, compared with a golden file (thumbprints, hashes and the image
    /// path normalised). Set KEYDOCTOR_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then review the diff.
    /// </summary>
    [Theory]
    [MemberData(nameof(Checks))]
    public void PlanForEachCheckMatchesItsGoldenFile(string findingId)
    {
        using var image = RepairScenarios.ByFinding[findingId]();
        var plan = PlanFor(image);
        Assert.Contains(plan.Steps.Select(s => s.FindingId).Concat(plan.NeedsDecision.Select(d => d.Id)), id => id == findingId);
        var actual = Normalise(plan.ToJson(), image.Root);
        var golden = Path.Combine(Fixtures.RepoRoot, "tests", "KeyDoctor.Tests", "Repair", "golden", $"{findingId}.json");
        if (Environment.GetEnvironmentVariable("KEYDOCTOR_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(golden)!);
            File.WriteAllText(golden, actual);
        }
        Assert.True(File.Exists(golden), $"golden file missing: {golden} (run once with KEYDOCTOR_UPDATE_GOLDEN=1)");
        Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings("\n"), actual.ReplaceLineEndings("\n"));
    }

    public static TheoryData<string> Checks() => [.. RepairScenarios.ByFinding.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public void EachChangeSitsBetweenABackupAndACheckWithItsRollback()
    {
        using var image = RepairScenarios.ByFinding["KD2004"]();
        var plan = PlanFor(image);
        Assert.Equal([RepairStepKind.Backup, RepairStepKind.Backup, RepairStepKind.Change, RepairStepKind.Verify, RepairStepKind.Rollback],
                     plan.Steps.Select(s => s.Kind));
        Assert.Equal("keydoctor snapshot -o \"$BackupRoot\\before-repair.zip\"", Line(plan.Steps[0], Shell.PowerShell));
        Assert.Equal("keydoctor snapshot -o \"%BACKUPROOT%\\before-repair.zip\"", Line(plan.Steps[0], Shell.Cmd));
        Assert.IsType<SnapshotAction>(plan.Steps[0].Action);
        var change = plan.Steps[2];
        Assert.StartsWith("netsh http update sslcert ipport=0.0.0.0:443 certhash=", Line(change, Shell.Cmd));
        var registry = Assert.IsType<RegistryChangeAction>(change.Action);
        Assert.Contains(@"[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo\0.0.0.0:443]", registry.RegText);
        Assert.Contains("\"SslCertHash\"=hex:01,23,45,67,89,ab,cd,ef", registry.UndoRegText);
        Assert.Equal(new VerifyFindingGoneAction("KD2004", "0.0.0.0:443"), plan.Steps[3].Action);
        Assert.Equal($"netsh http update sslcert ipport=0.0.0.0:443 certhash={RepairScenarios.StaleHash} appid={{4dc3e181-e14b-4a21-b022-59fc669b0914}} certstorename=MY",
                     Line(plan.Steps[4], Shell.Cmd)); // back to the old hash without restarting anything
        Assert.Equal(Enumerable.Range(1, plan.Steps.Count), plan.Steps.Select(s => s.Order));
    }

    [Fact]
    public void KeysAreFixedBeforeTheBindingsThatUseThemAndTheGuidIsAPersonsChoice()
    {
        using var image = new ScanImage();
        var (lost, _) = image.Certificate("CN=lost", "lost-key", keyFile: false);
        image.Certificate("CN=shop.example.com", "renewed-key");
        image.HttpSysBinding("0.0.0.0:443", lost.Thumbprint);
        image.HttpSysBinding("0.0.0.0:4443", RepairScenarios.StaleHash);
        image.Site("S", 1, "*:443:", "*:4443:shop.example.com");
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        for (var i = 0; i < 4; i++) image.KeyFile($"old-{i}", rsa, ScanImage.OldGuid);
        image.Build();
        var plan = PlanFor(image);
        var changes = plan.Steps.Where(s => s.Kind == RepairStepKind.Change).Select(s => s.FindingId).ToList();
        Assert.Equal(["KD2008", "KD2004"], changes);
        Assert.Contains(plan.NeedsDecision, f => f.Id == "KD1001"); // never applied automatically

        var script = plan.ToPowerShell();
        Assert.Contains("param([switch]$Apply", script);
        Assert.Contains("# --- Needs a decision: KD1001", script);
        Assert.DoesNotContain("\nSet-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Cryptography", script); // only commented out
    }

    [Fact]
    public void AMissingCertificateWithNoReplacementIsAPersonsChoice()
    {
        using var image = new ScanImage();
        image.HttpSysBinding("0.0.0.0:443", RepairScenarios.StaleHash);
        image.Site("S", 1, "*:443:");
        image.Build();
        var plan = PlanFor(image);
        Assert.Empty(plan.Steps); // no lone snapshot step either
        Assert.Equal("KD2004", Assert.Single(plan.NeedsDecision).Id);
    }

    [Fact]
    public void AKeyFileIntactInTheSnapshotIsRestoredFromIt()
    {
        using var healthy = ScanImage.Healthy(out _);
        healthy.Build();
        using var snapshot = new FolderMachineSource(healthy.Root, MachineSourceKind.Image, "snapshot");
        using var image = RepairScenarios.ByFinding["KD1003"]();
        var plan = PlanFor(image, snapshot);
        var change = Assert.Single(plan.Steps, s => s.Kind == RepairStepKind.Change);
        var restore = Assert.IsType<CopyKeyFileAction>(change.Action);
        Assert.Equal(change.Subject, restore.Target);
        Assert.True(restore.ReplaceDamaged);
        Assert.Equal($"keydoctor repair copy-file {change.Subject} \"%ProgramData%\\{change.Subject["ProgramData\\".Length..]}\" --snapshot \"%SNAPSHOT%\" --sha256 {restore.Sha256} --replace-damaged",
                     Line(change, Shell.Cmd));
        Assert.IsType<BackupAction>(plan.Steps[change.Order - 2].Action);
        Assert.IsType<RestoreBackupAction>(plan.Steps[change.Order + 1].Action);

        // A snapshot whose copy is damaged too is no source: a copy a person brings is planned instead (an input).
        using var damaged = new FolderMachineSource(image.Root, MachineSourceKind.Image, "snapshot");
        var fallback = Assert.IsType<CopyKeyFileAction>(Assert.Single(PlanFor(image, damaged).Steps, s => s.Kind == RepairStepKind.Change).Action);
        Assert.Equal($"keyfile-{Path.GetFileName(change.Subject.Replace('\\', '/'))}", fallback.Source.Input);
    }

    [Fact]
    public void PlanIsTheSameTwiceWrittenOnlyWhereAskedAndReadBackFromTheScript()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var first = Cli.Run("repair", "plan", image.Root, "--json");
        var second = Cli.Run("repair", "plan", image.Root, "--json");
        Assert.Equal(1, first.ExitCode);
        Assert.Equal(first.Stdout, second.Stdout);
        using (var json = JsonDocument.Parse(first.Stdout))
        {
            Assert.Equal(RepairPlan.FormatName, json.RootElement.GetProperty("format").GetString());
            Assert.Equal(5, json.RootElement.GetProperty("steps").GetArrayLength());
        }

        var script = Path.Combine(image.Root, "..", Path.GetFileName(image.Root) + "-plan.ps1");
        try
        {
            Assert.Equal(1, Cli.Run("repair", "plan", image.Root, "-o", script).ExitCode);
            var text = File.ReadAllText(script);
            Assert.Contains("if ($Apply) {", text);
            Assert.Equal([0xEF, 0xBB, 0xBF], File.ReadAllBytes(script)[..3]); // Windows PowerShell 5.1 reads UTF-8 only with its BOM
            Assert.Equal(2, Cli.Run("repair", "plan", image.Root, "-o", script).ExitCode); // never overwrites
            var read = RepairPlan.Parse(text);
            Assert.Equal(RepairPlan.Parse(first.Stdout).ToJson(), read.ToJson());
            Assert.IsType<RemoveCustomMetadataAction>(read.Steps.Single(s => s.Kind == RepairStepKind.Change).Action);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("# just a script\nWrite-Host hi")]
    [InlineData("{\"format\":\"something-else\",\"steps\":[],\"needsDecision\":[]}")]
    [InlineData("{\"format\":\"keydoctor-repair-plan\",\"version\":99,\"steps\":[],\"needsDecision\":[]}")]
    [InlineData("<#KEYDOCTOR-PLAN\n{\"format\":\"keydoctor-repair-plan\"")]
    [InlineData("{\"format\":\"keydoctor-repair-plan\",\"steps\":[{\"order\":1,\"action\":{\"type\":\"formatDisk\"}}],\"needsDecision\":[]}")]
    [InlineData("{\"format\":\"keydoctor-repair-plan\",\"steps\":[{\"order\":1,\"kind\":\"backup\",\"findingId\":\"all\",\"subject\":\"m\",\"title\":\"t\",\"powerShell\":\"x\"}],\"needsDecision\":[]}")]
    [InlineData("{\"format\":\"keydoctor-repair-plan\",\"steps\":[{\"order\":2,\"kind\":\"backup\",\"findingId\":\"all\",\"subject\":\"m\",\"title\":\"t\",\"powerShell\":\"x\",\"action\":{\"type\":\"snapshot\"}}],\"needsDecision\":[]}")]
    public void ABadPlanIsAnInputErrorNotACrash(string text)
    {
        Assert.Throws<Formats.MalformedDataException>(() => RepairPlan.Parse(text));
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, text);
            var result = Cli.Run("repair", "apply", file, "--image", Path.GetTempPath(), "--yes");
            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith("keydoctor: ", result.Stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The script changes nothing without -Apply, and a finding's rollback runs only when one of its own steps fails
    /// (inside the catch of its try), never after a change that passed its check.
    /// </summary>
    [Fact]
    public void TheScriptIsADryRunAndRollsBackOnlyWhatFailed()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var plan = PlanFor(image);
        var lines = plan.ToPowerShell().Split('\n').Select(l => l.TrimEnd('\r')).TakeWhile(l => !l.StartsWith("<#KEYDOCTOR-PLAN", StringComparison.Ordinal)).ToList();
        var depth = 0;
        var inCatch = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("if ($Apply) {", StringComparison.Ordinal)) depth++;
            if (line == "    } catch {") inCatch = true;
            if (line.StartsWith("} else { Write-Host \"dry run:", StringComparison.Ordinal)) { depth--; inCatch = false; }
            var isCode = line.Length > 0 && !line.TrimStart().StartsWith('#') && !line.StartsWith("param(", StringComparison.Ordinal)
                         && !line.StartsWith("$ErrorActionPreference", StringComparison.Ordinal) && !line.StartsWith("if ($Apply)", StringComparison.Ordinal)
                         && !line.StartsWith("if (-not $BackupRoot)", StringComparison.Ordinal) && !line.StartsWith("} else", StringComparison.Ordinal);
            if (isCode) Assert.True(depth == 1, $"runs without -Apply: {line}");
            foreach (var rollback in plan.Steps.Where(s => s.Kind == RepairStepKind.Rollback))
                if (line.Trim() == Line(rollback, Shell.PowerShell)) Assert.True(inCatch, $"rollback outside a catch: {line}");
        }
        Assert.Contains(lines, l => l.StartsWith("param([switch]$Apply", StringComparison.Ordinal) && l.Contains("[string]$RunId = (Get-Date -Format 'yyyyMMdd-HHmmss')"));
    }

    [Fact]
    public void TheScriptCarriesThePlanEvenWhenATextWouldCloseItsComment()
    {
        var plan = new RepairPlan
        {
            Steps = [new RepairStep(1, RepairStepKind.Change, "KD2005", "a #> b", "title #>") { Action = new LiveOnlyAction("#> <#", [ShellCommand.Run("cmd", "#>")]) }],
            NeedsDecision = [new RepairDecision("KD1001", "guid", "decide #>")],
            Source = "image #>",
        };
        foreach (var script in new[] { plan.ToPowerShell(), plan.ToCmd() })
        {
            var read = RepairPlan.Parse(script);
            Assert.Equal(plan.ToJson(), read.ToJson());
            Assert.Equal("a #> b", read.Steps[0].Subject);
        }
    }

    /// <summary>A step's commands as the given shell writes them, one per line.</summary>
    private static string Line(RepairStep step, Shell shell) => new ShellRenderer(shell).Lines(step.Commands);

    private static string Normalise(string json, string root)
    {
        var names = new Dictionary<string, string>();
        string Name(string value, string kind) =>
            names.TryGetValue(value, out var name) ? name : names[value] = $"<{kind}-{names.Count(n => n.Value.StartsWith($"<{kind}-", StringComparison.Ordinal)) + 1}>";
        json = json.Replace(root, "<image>");
        json = BlobPattern().Replace(json, "\\\"Blob\\\"=hex:<certificate blob>"); // a fresh certificate every run
        json = Sha256Pattern().Replace(json, m => Name(m.Value, "sha256"));
        json = ThumbprintPattern().Replace(json, m => Name(m.Value, "thumbprint"));
        return HexBytesPattern().Replace(json, m => Name(m.Value.ToUpperInvariant().Replace(",", ""), "thumbprint"));
    }

    /// <summary>A registry certificate Blob inside a JSON string: hex pairs, commas and escaped line continuations.</summary>
    [GeneratedRegex(@"\\""Blob\\""=hex:[0-9a-f,\\rn ]+")]
    private static partial Regex BlobPattern();

    [GeneratedRegex("(?<![0-9A-Fa-f])[0-9A-F]{64}(?![0-9A-Fa-f])")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("(?<![0-9A-Fa-f])[0-9A-F]{40}(?![0-9A-Fa-f])")]
    private static partial Regex ThumbprintPattern();

    [GeneratedRegex("(?<=hex:)([0-9a-f]{2},){19}[0-9a-f]{2}")]
    private static partial Regex HexBytesPattern();
}
