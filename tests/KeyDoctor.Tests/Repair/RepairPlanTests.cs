using System.Text.Json;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

public sealed class RepairPlanTests
{
    private static RepairPlan PlanFor(ScanImage image)
    {
        image.Build();
        using var source = MachineSource.Open(image.Root);
        return RepairPlanner.Plan(Scanner.Scan(source));
    }

    [Fact]
    public void HealthyServerHasAnEmptyPlan()
    {
        using var image = ScanImage.Healthy(out _);
        Assert.True(PlanFor(image).IsEmpty);
        Assert.Equal(0, Cli.Run("repair", "plan", image.Root).ExitCode);
    }

    [Fact]
    public void EachChangeSitsBetweenABackupAndACheckWithItsRollback()
    {
        using var image = new ScanImage();
        image.HttpSysBinding("0.0.0.0:443", "0123456789ABCDEF0123456789ABCDEF01234567");
        image.Site("S", 1, "*:443:");
        var plan = PlanFor(image);
        Assert.Equal([RepairStepKind.Backup, RepairStepKind.Backup, RepairStepKind.Change, RepairStepKind.Verify, RepairStepKind.Rollback],
                     plan.Steps.Select(s => s.Kind));
        Assert.StartsWith("keydoctor snapshot", plan.Steps[0].PowerShell);
        Assert.Contains("netsh http update sslcert ipport=0.0.0.0:443", plan.Steps[2].PowerShell);
        Assert.Contains("reg import C:\\kd\\backup\\http.reg", plan.Steps[4].PowerShell);
        Assert.Equal(Enumerable.Range(1, plan.Steps.Count), plan.Steps.Select(s => s.Order));
    }

    [Fact]
    public void KeysAreFixedBeforeTheBindingsThatUseThemAndTheGuidIsAPersonsChoice()
    {
        using var image = new ScanImage();
        var (lost, _) = image.Certificate("CN=lost", "lost-key", keyFile: false);
        image.HttpSysBinding("0.0.0.0:443", lost.Thumbprint);
        image.HttpSysBinding("0.0.0.0:4443", "0123456789ABCDEF0123456789ABCDEF01234567");
        image.Site("S", 1, "*:443:", "*:4443:");
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        for (var i = 0; i < 4; i++) image.KeyFile($"old-{i}", rsa, ScanImage.OldGuid);
        var plan = PlanFor(image);
        var changes = plan.Steps.Where(s => s.Kind == RepairStepKind.Change).Select(s => s.FindingId).ToList();
        Assert.Equal(["KD2008", "KD2004"], changes);
        Assert.Contains(plan.NeedsDecision, f => f.Id == "KD1001"); // never applied automatically

        var script = plan.ToPowerShell("test image");
        Assert.Contains("param([switch]$Apply)", script);
        Assert.Contains("# --- Needs a decision: KD1001", script);
        Assert.DoesNotContain("\nSet-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Cryptography", script); // only commented out
    }

    [Fact]
    public void PlanIsTheSameTwiceAndWrittenOnlyWhereAsked()
    {
        using var image = new ScanImage();
        image.HttpSysBinding("0.0.0.0:443", "0123456789ABCDEF0123456789ABCDEF01234567");
        image.Site("S", 1, "*:443:");
        image.Build();
        var first = Cli.Run("repair", "plan", image.Root, "--json");
        var second = Cli.Run("repair", "plan", image.Root, "--json");
        Assert.Equal(1, first.ExitCode);
        Assert.Equal(first.Stdout, second.Stdout);
        using var json = JsonDocument.Parse(first.Stdout);
        Assert.Equal(5, json.RootElement.GetProperty("steps").GetArrayLength());

        var script = Path.Combine(image.Root, "..", Path.GetFileName(image.Root) + "-plan.ps1");
        try
        {
            Assert.Equal(1, Cli.Run("repair", "plan", image.Root, "-o", script).ExitCode);
            Assert.Contains("if ($Apply) {", File.ReadAllText(script));
            Assert.Equal(2, Cli.Run("repair", "plan", image.Root, "-o", script).ExitCode); // never overwrites
        }
        finally
        {
            File.Delete(script);
        }
    }
}
