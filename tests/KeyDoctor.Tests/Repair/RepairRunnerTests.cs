using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

/// <summary>
/// The runner's order and failure handling, with the live target driven by a fake PowerShell (the Windows parts
/// are the same code; only powershell.exe and the live collection are swapped).
/// </summary>
public sealed class RepairRunnerTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kd-runner-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>Records every script; fails the ones that contain <see cref="FailWhen"/>.</summary>
    private sealed class FakePowerShell : IPowerShellHost
    {
        public List<string> Scripts { get; } = [];
        public string? FailWhen { get; init; }

        public (int ExitCode, string Output) Run(string script)
        {
            Scripts.Add(script);
            return FailWhen is not null && script.Contains(FailWhen, StringComparison.Ordinal) ? (1, "Access is denied.") : (0, "ok");
        }
    }

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
        var shell = new FakePowerShell();
        var scans = new Queue<ScanResult>([scan, scan with { Findings = [] }]);
        var target = new LiveRepairTarget(shell, () => scans.Count > 1 ? scans.Dequeue() : scans.Peek(), snapshot: null);
        var run = NewRun("live");
        var result = RepairRunner.Apply(plan, target, run);
        run.Close();

        Assert.False(result.Failed);
        string[] expected = ["keydoctor snapshot -o \"C:\\kd\\backup\\$RunId\\before-repair.zip\"", "New-Item -ItemType Directory -Force \"C:\\kd\\backup\\$RunId\\KD2005", "appcmd.exe clear config"];
        Assert.Equal(expected.Length, shell.Scripts.Count); // the check runs in process, the rollback is not needed
        for (var i = 0; i < expected.Length; i++) Assert.Contains(expected[i], shell.Scripts[i]);
        Assert.StartsWith("$ErrorActionPreference = 'Stop'", shell.Scripts[0]);
        Assert.Contains("Set-Alias keydoctor", shell.Scripts[0]);
        Assert.All(shell.Scripts, s => Assert.Contains("$RunId = 'live'", s)); // one backup folder per run, named after it
        Assert.All(shell.Scripts, s => Assert.Contains("if ($LASTEXITCODE) { exit $LASTEXITCODE }", s));
        Assert.Contains(result.Outcomes, o => o.Kind == RepairStepKind.Verify && o.Outcome == StepOutcomeKind.Done);
        Assert.Contains("appcmd.exe clear config", File.ReadAllText(Path.Combine(_work, "live", RepairRun.TranscriptFile)));
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
        var shell = new FakePowerShell();
        var target = new LiveRepairTarget(shell, () => scans++ < 1 ? scan : fixedOne, snapshot: null);
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
        Assert.Contains(shell.Scripts, s => s.Contains("else { Copy-Item -LiteralPath \"C:\\kd\\backup\\$RunId\\KD2005-", StringComparison.Ordinal));
        Assert.Contains(shell.Scripts, s => s.Contains("reg import \"C:\\kd\\backup\\$RunId\\KD2004-2\\http.reg\"", StringComparison.Ordinal));
    }

    [Fact]
    public void AFailedCommandStopsTheRunBeforeItsCheckAndRollsItBack()
    {
        using var image = ScanImage.Healthy(out _);
        var (plan, scan) = TwoFindings(image);
        var shell = new FakePowerShell { FailWhen = "clear config" };
        var target = new LiveRepairTarget(shell, () => scan, snapshot: null);
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
        var shell = new FakePowerShell();
        var target = new LiveRepairTarget(shell, () => scan, snapshot: null);
        var run = NewRun("other");
        Assert.Throws<InvalidOperationException>(() => RepairRunner.Apply(plan with { MachineGuid = Guid.Empty.ToString() }, target, run));
        run.Close();
        Assert.Empty(shell.Scripts);
    }

    [Fact]
    public void AStepWhoseInputsAreNotOnTheServerIsRefusedNotFailedAndPasswordsStayOutOfThePlan()
    {
        using var image = RepairScenarios.ByFinding["KD2008"]();
        using var source = MachineSource.Open(image.Root);
        var scan = Scanner.Scan(source);
        var plan = RepairPlanner.Plan(scan);
        var change = Assert.Single(plan.Steps, s => s.Kind == RepairStepKind.Change);
        var live = Assert.IsType<LiveOnlyAction>(change.Action);
        Assert.Equal([@"C:\kd\site.pfx", @"C:\kd\site.pfx.password"], live.RequiredInputs);
        Assert.Contains("certutil -f -p $password -importpfx MY C:\\kd\\site.pfx AT_KEYEXCHANGE", change.PowerShell);
        Assert.Contains("Get-Content -LiteralPath 'C:\\kd\\site.pfx.password'", change.PowerShell);

        var shell = new FakePowerShell();
        var missing = RepairRunner.Apply(plan, new LiveRepairTarget(shell, () => scan, null, fileExists: _ => false), NewRun("missing"));
        var refused = Assert.Single(missing.Outcomes);
        Assert.Equal(StepOutcomeKind.Refused, refused.Outcome);
        Assert.Contains(@"put C:\kd\site.pfx and C:\kd\site.pfx.password on the server first", refused.Detail);
        Assert.Empty(shell.Scripts);

        var present = RepairRunner.Apply(plan, new LiveRepairTarget(shell, () => scan, null, fileExists: _ => true), NewRun("present"));
        Assert.Contains(present.Outcomes, o => o.Kind == RepairStepKind.Change && o.Outcome == StepOutcomeKind.Done);
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
        var shell = new FakePowerShell();
        var result = RepairRunner.Apply(plan, new LiveRepairTarget(shell, () => rescan, null), NewRun("again"));
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
        var shell = new FakePowerShell();
        var target = new LiveRepairTarget(shell, () => scans++ < 1 ? scan : scan with { Findings = [] }, snapshot: null);
        var result = RepairRunner.Apply(plan, target, NewRun("earlier"));
        Assert.False(result.Failed);
        var skipped = Assert.Single(result.Outcomes, o => o.Outcome == StepOutcomeKind.Skipped);
        Assert.Equal(("KD2005", "fixed by an earlier step of this run"), (skipped.FindingId, skipped.Detail));
        Assert.DoesNotContain(shell.Scripts, s => s.Contains("clear config", StringComparison.Ordinal));
    }

    [Fact]
    public void ARunFolderIsNeverReused()
    {
        var run = NewRun("once");
        run.Close();
        Assert.Throws<IOException>(() => NewRun("once"));
    }
}
