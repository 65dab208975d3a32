using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

/// <summary>
/// The runner's order and failure handling, with the live target driven by a fake command host (the Windows parts
/// are the same code; only process creation and the live collection are swapped).
/// </summary>
public sealed class RepairRunnerTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kd-runner-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>Records every command line (program and argv, space-joined); fails the ones that contain <see cref="FailWhen"/>.</summary>
    private sealed class FakeCommands : ICommandHost
    {
        public List<string> Scripts { get; } = [];
        public List<IReadOnlyList<string>> Argvs { get; } = [];
        public string? FailWhen { get; init; }

        public (int ExitCode, string Output) Run(string program, IReadOnlyList<string> arguments, bool interactive)
        {
            var line = string.Join(" ", arguments.Prepend(program));
            Scripts.Add(line);
            Argvs.Add([program, .. arguments]);
            return FailWhen is not null && line.Contains(FailWhen, StringComparison.Ordinal) ? (1, "Access is denied.") : (0, "ok");
        }
    }

    private static readonly Func<string, string?> Environment = name => name switch
    {
        "SystemDrive" => "C:",
        "ProgramData" => @"C:\ProgramData",
        "windir" => @"C:\Windows",
        _ => null,
    };

    private static LiveRepairTarget Live(ICommandHost host, Func<ScanResult> scan, RepairPlan? plan = null, bool canAsk = true) =>
        new(host, scan, new LiveTargetOptions { Environment = Environment, KeyDoctorPath = "keydoctor", KeyDoctorPrefix = [], CanAsk = canAsk, Inputs = plan?.Inputs ?? [] });

    /// <summary>Two findings on one server: a key file to restore and a stale customMetadata hash.</summary>
    private static (RepairPlan Plan, ScanResult Scan) TwoFindings(ScanImage image)
    {
        image.ExtraApplicationHost = RepairScenarios.StaleCustomMetadata;
        image.Build();
        using var source = MachineSource.Open(image.Root);
        var scan = Scanner.Scan(source);
        return (RepairPlanner.Plan(scan), scan);
    }

    /// <summary>A healthy server plus an HTTP.sys binding whose certificate was replaced by a renewal in the store (KD2004).</summary>
    private static ScanImage WithRenewedBinding()
    {
        var image = ScanImage.Healthy(out _);
        image.HttpSysBinding("0.0.0.0:4443", RepairScenarios.StaleHash);
        image.Certificate("CN=api.example.com", "api-key");
        image.Site("Api", 2, "*:4443:api.example.com");
        return image;
    }

    private RepairRun NewRun(string name) => RepairRun.Create(Path.Combine(_work, name), "test", null);

    [Fact]
    public void TheLiveTargetRunsEachStepAsThePlansPowerShellInOrder()
    {
        using var image = ScanImage.Healthy(out _);
        var (plan, scan) = TwoFindings(image);
        var shell = new FakeCommands();
        var scans = new Queue<ScanResult>([scan, scan with { Findings = [] }]);
        var target = Live(shell, () => scans.Count > 1 ? scans.Dequeue() : scans.Peek());
        var run = NewRun("live");
        var result = RepairRunner.Apply(plan, target, run);
        run.Close();

        Assert.False(result.Failed);
        var backup = Path.Combine(_work, "live", "backup"); // one backup folder per run, inside the run folder
        string[][] expected =
        [
            ["keydoctor", "snapshot", "-o", backup + @"\before-repair.zip"],
            ["keydoctor", "repair", "backup", "--to", backup + @"\002-KD2005", "--file", @"C:\Windows\System32\inetsrv\config\applicationHost.config"],
            ["keydoctor", "repair", "remove-metadata", @"C:\Windows\System32\inetsrv\config\applicationHost.config", "LM/W3SVC/1", "--property", "5506", "--property", "5511"],
        ];
        // Program and argv exactly as the plan's scripts show them; the check runs in process, the rollback is not needed.
        Assert.Equal(expected.Length, shell.Argvs.Count);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], shell.Argvs[i]);
        Assert.Contains(result.Outcomes, o => o.Kind == RepairStepKind.Verify && o.Outcome == StepOutcomeKind.Done);
        Assert.Contains("remove-metadata", File.ReadAllText(Path.Combine(_work, "live", RepairRun.TranscriptFile)));
    }

    /// <summary>
    /// The Windows tools a live repair runs, as the live host receives them (program and argv, recorded): icacls /save
    /// before an ACL change (KD1004), certutil -repairstore for a certificate whose key link is gone (KD2001); and
    /// when the tool fails, the step fails with a sentence naming the tool, its exit code and what it printed.
    /// </summary>
    [Theory]
    [InlineData("KD1004", "icacls", "/save", "/grant:r")]
    [InlineData("KD2001", "certutil", "-repairstore", "-repairstore")]
    public void TheLiveHostRunsTheWindowsToolsWithTheirExactArgvAndReportsTheirFailure(string id, string tool, string verb, string change)
    {
        using var image = RepairScenarios.ByFinding[id]();
        using var source = MachineSource.Open(image.Root);
        var scan = Scanner.Scan(source);
        var plan = RepairPlanner.Plan(scan);

        // The finding is there until the tool's change has run, then gone (the check passes).
        var shell = new FakeCommands();
        var fixedScan = scan with { Findings = [.. scan.Findings.Where(f => f.Id != id)] };
        var result = RepairRunner.Apply(plan, Live(shell, () => shell.Argvs.Any(a => a[0] == tool && a.Contains(change)) ? fixedScan : scan), NewRun(id + "-ok"));
        var argv = Assert.Single(shell.Argvs, a => a[0] == tool && a.Contains(verb));
        if (tool == "icacls")
        {
            Assert.Equal(@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys", argv[1]);
            Assert.Equal("/save", argv[2]);
            Assert.StartsWith(Path.Combine(_work, id + "-ok", "backup"), argv[3]);
        }
        else
        {
            var finding = Assert.Single(scan.Findings, f => f.Id == id);
            Assert.Equal(["certutil", "-repairstore", "MY", finding.Subject], argv.Take(4));
        }
        Assert.DoesNotContain(result.Outcomes, o => o.Outcome == StepOutcomeKind.Failed && o.Detail.Contains(tool, StringComparison.Ordinal));

        var failing = new FakeCommands { FailWhen = tool + " " };
        var failed = RepairRunner.Apply(plan, Live(failing, () => scan), NewRun(id + "-denied"));
        // The first failure is the tool's, with what it printed; a failed backup keeps its change from running at all.
        var outcome = failed.Outcomes.First(o => o.Outcome == StepOutcomeKind.Failed);
        Assert.Equal($"{tool} exited with 1: Access is denied.", outcome.Detail);
        Assert.DoesNotContain(failed.Outcomes, o => o is { Kind: RepairStepKind.Change, Outcome: StepOutcomeKind.Done });
    }

    [Fact]
    public void AFailedCheckRollsBackEveryChangeOfTheRunNewestFirstAndStops()
    {
        using var image = WithRenewedBinding();
        var (plan, scan) = TwoFindings(image);
        Assert.Equal(["KD2004", "KD2005"], plan.Steps.Where(s => s.Kind == RepairStepKind.Change).Select(s => s.FindingId));

        // KD2004's change "works" but KD2005's check still sees its finding: both changes are undone, newest first.
        var fixedOne = scan with { Findings = [.. scan.Findings.Where(f => f.Id != "KD2004")] };
        var scans = 0;
        var shell = new FakeCommands();
        var target = Live(shell, () => scans++ < 1 ? scan : fixedOne);
        var run = NewRun("failed");
        var result = RepairRunner.Apply(plan, target, run);
        run.Close();

        Assert.True(result.Failed);
        Assert.True(result.RolledBack);
        var rollbacks = result.Outcomes.Where(o => o.Kind == RepairStepKind.Rollback).Select(o => o.FindingId).ToList();
        Assert.Equal(["KD2005", "KD2004"], rollbacks);
        Assert.All(result.Outcomes.Where(o => o.Kind == RepairStepKind.Rollback), o => Assert.Equal(StepOutcomeKind.RolledBack, o.Outcome));
        var failedCheck = Assert.Single(result.Outcomes, o => o.Outcome == StepOutcomeKind.Failed);
        Assert.Equal(("KD2005", RepairStepKind.Verify), (failedCheck.FindingId, failedCheck.Kind));
        Assert.Contains(shell.Scripts, s => s.Contains("repair restore --from", StringComparison.Ordinal) && s.Contains("KD2005", StringComparison.Ordinal));
        // HTTP.sys goes back with netsh update: no service is restarted.
        Assert.Contains(shell.Scripts, s => s.StartsWith("netsh http update sslcert ipport=0.0.0.0:4443 certhash=" + RepairScenarios.StaleHash, StringComparison.Ordinal));
    }

    [Fact]
    public void AFailedCommandStopsTheRunBeforeItsCheckAndRollsItBack()
    {
        using var image = ScanImage.Healthy(out _);
        var (plan, scan) = TwoFindings(image);
        var shell = new FakeCommands { FailWhen = "remove-metadata" };
        var target = Live(shell, () => scan);
        var run = NewRun("command");
        var result = RepairRunner.Apply(plan, target, run);
        run.Close();

        var failed = Assert.Single(result.Outcomes, o => o.Outcome == StepOutcomeKind.Failed);
        Assert.Equal(RepairStepKind.Change, failed.Kind);
        Assert.Contains("Access is denied.", failed.Detail);
        Assert.DoesNotContain(result.Outcomes, o => o.Kind == RepairStepKind.Verify);
        Assert.Contains(result.Outcomes, o => o.Kind == RepairStepKind.Rollback && o.Outcome == StepOutcomeKind.RolledBack);

        // The journal keeps what happened, and a later live rollback has nothing left to undo.
        var reopened = RepairRun.Open(Path.Combine(_work, "command"));
        Assert.Equal(result.Outcomes.Count, reopened.Journal.Outcomes.Count);
        var again = RepairRunner.RollbackLive(plan, target, reopened);
        Assert.Empty(again.Restored);
        Assert.Empty(again.Problems);
        reopened.Close();
    }

    [Fact]
    public void APlanForAnotherMachineIsRefusedBeforeAnythingRuns()
    {
        using var image = ScanImage.Healthy(out _);
        var (plan, scan) = TwoFindings(image);
        var shell = new FakeCommands();
        var target = Live(shell, () => scan);
        var run = NewRun("other");
        Assert.Throws<InvalidOperationException>(() => RepairRunner.Apply(plan with { MachineGuid = Guid.Empty.ToString() }, target, run));
        run.Close();
        Assert.Empty(shell.Scripts);
    }

    [Fact]
    public void APfxImportAsksForItsPasswordAtTheConsoleAndIsRefusedWhereNobodyCanAnswer()
    {
        using var image = RepairScenarios.ByFinding["KD2008"]();
        using var source = MachineSource.Open(image.Root);
        var scan = Scanner.Scan(source);
        var pfx = Path.Combine(_work, "api.pfx");
        File.WriteAllBytes(pfx, [1]);
        var thumbprint = scan.Findings.Single(f => f.Id == "KD2008").Subject;
        var plan = RepairPlanner.Plan(scan, new RepairPlanOptions { Inputs = new Dictionary<string, string> { [$"pfx-{thumbprint}"] = pfx } });
        var change = Assert.Single(plan.Steps, s => s.Kind == RepairStepKind.Change);
        var import = Assert.Single(change.Commands);
        Assert.True(import.AsksForPassword);
        Assert.DoesNotContain(import.Arguments, a => a.Template is "-p" or "-password");

        var shell = new FakeCommands();
        var nobody = RepairRunner.Apply(plan, Live(shell, () => scan, plan, canAsk: false), NewRun("nobody"));
        var refused = Assert.Single(nobody.Outcomes);
        Assert.Equal(StepOutcomeKind.Refused, refused.Outcome);
        Assert.Contains("asks for a password at the console", refused.Detail);
        Assert.Empty(shell.Scripts);

        // A Windows path given while planning on another OS stays the path on the server.
        Assert.Equal(@"C:\certs\api.pfx", plan.WithInputs(new Dictionary<string, string> { [$"pfx-{thumbprint}"] = @"C:\certs\api.pfx" }).Inputs.Single().Value);
        var console = RepairRunner.Apply(plan, Live(shell, () => scan, plan), NewRun("console"));
        Assert.Contains(console.Outcomes, o => o.Kind == RepairStepKind.Change && o.Outcome == StepOutcomeKind.Done);
        Assert.Contains(shell.Argvs, argv => argv.SequenceEqual(["certutil", "-f", "-importpfx", "MY", pfx, "AT_KEYEXCHANGE"]));
    }

    [Fact]
    public void AServerWhoseGuidThePlanPutBackIsStillTheSameServer()
    {
        using var image = RepairScenarios.ByFinding["KD1001"]();
        using var source = MachineSource.Open(image.Root);
        var scan = Scanner.Scan(source);
        var plan = RepairPlanner.Plan(scan, new RepairPlanOptions { Accepted = new HashSet<string> { "KD1001" } });
        image.MachineGuid = ScanImage.OldGuid; // as after the first run put it back
        image.Build();
        using var after = MachineSource.Open(image.Root);
        var rescan = Scanner.Scan(after);
        var shell = new FakeCommands();
        var result = RepairRunner.Apply(plan, Live(shell, () => rescan), NewRun("again"));
        Assert.All(result.Outcomes, o => Assert.Equal(StepOutcomeKind.Skipped, o.Outcome));
        Assert.Empty(shell.Scripts);
    }

    [Fact]
    public void AFindingAnEarlierChangeFixedIsSkippedNotChangedAgain()
    {
        using var image = WithRenewedBinding();
        var (plan, scan) = TwoFindings(image);
        // The first change (KD2004) also makes KD2005 go away, as a GUID put back brings back the containers it names.
        var scans = 0;
        var shell = new FakeCommands();
        var target = Live(shell, () => scans++ < 1 ? scan : scan with { Findings = [] });
        var result = RepairRunner.Apply(plan, target, NewRun("earlier"));
        Assert.False(result.Failed);
        var skipped = Assert.Single(result.Outcomes, o => o.Outcome == StepOutcomeKind.Skipped);
        Assert.Equal(("KD2005", "fixed by an earlier step of this run"), (skipped.FindingId, skipped.Detail));
        Assert.DoesNotContain(shell.Scripts, s => s.Contains("remove-metadata", StringComparison.Ordinal));
    }

    [Fact]
    public void AnImportIsRefusedWhenItsContainerAppearedSinceThePlanWasMade()
    {
        using var image = RepairScenarios.ByFinding["KD1002"]();
        using var source = MachineSource.Open(image.Root);
        var scan = Scanner.Scan(source);
        var plan = RepairPlanner.Plan(scan, new RepairPlanOptions { Inputs = new Dictionary<string, string> { ["keyset-Microsoft_Internet_Information_Server"] = Path.Combine(_work, "iis.xml") } });
        Assert.Contains(plan.Steps, s => s.Commands.Any(c => c.Arguments.Any(a => a.Template == "import")));

        // Before the run, IISADMIN re-created the container (an exchange key only): the finding is still there, but
        // importing now would replace a container the plan never proved bad.
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        image.KeyFile("Microsoft Internet Information Server", rsa);
        using var now = MachineSource.Open(image.Root);
        var rescan = Scanner.Scan(now);
        Assert.Contains(rescan.Findings, f => f.Id == "KD1002");
        var shell = new FakeCommands();
        var result = RepairRunner.Apply(plan, Live(shell, () => rescan, plan), NewRun("appeared"));
        var refused = Assert.Single(result.Outcomes, o => o.Outcome == StepOutcomeKind.Refused);
        Assert.Contains("exists now, and the plan did not prove it bad", refused.Detail);
        Assert.DoesNotContain(shell.Argvs, argv => argv.Contains("import"));
    }

    [Fact]
    public void ARunFolderIsNeverReused()
    {
        var run = NewRun("once");
        run.Close();
        Assert.Throws<IOException>(() => NewRun("once"));
    }
}
