using System.Security.Cryptography;
using System.Text.Json;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

/// <summary>`repair apply` and `repair rollback` on image folders, through the command line as a person runs them.</summary>
public sealed class RepairApplyTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kd-repair-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string WritePlan(ScanImage image, string? snapshot = null, string name = "plan.ps1")
    {
        var plan = Path.Combine(_work, name);
        var args = new List<string> { "repair", "plan", image.Root, "-o", plan };
        if (snapshot is not null) args.AddRange(["--snapshot", snapshot]);
        var result = Cli.Run([.. args]);
        Assert.True(result.ExitCode == 1, result.Stderr);
        return plan;
    }

    private Cli.Result Apply(string plan, ScanImage image, string run, params string[] more) =>
        Cli.Run(["repair", "apply", plan, "--image", image.Root, "--run-folder", Path.Combine(_work, run), "--yes", "--json", .. more]);

    /// <summary>Every file of a folder with its SHA-256, to compare whole trees byte for byte.</summary>
    private static SortedDictionary<string, string> Tree(string root) =>
        new(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    private string Snapshot(ScanImage image)
    {
        var zip = Path.Combine(_work, "before.zip");
        Assert.Equal(0, Cli.Run("snapshot", "--from", image.Root, "-o", zip).ExitCode);
        return zip;
    }

    private static JsonElement[] Outcomes(Cli.Result result) =>
        [.. JsonDocument.Parse(result.Stdout).RootElement.GetProperty("outcomes").EnumerateArray()];

    [Fact]
    public void ADamagedKeyFileIsRestoredFromTheSnapshotCheckedAndRolledBackByteForByte()
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        var healthy = Tree(image.Root);
        var snapshot = Snapshot(image);
        var keyFile = Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys")).Single();
        File.WriteAllBytes(keyFile, File.ReadAllBytes(keyFile)[..200]); // an abrupt shutdown
        var damaged = Tree(image.Root);
        var plan = WritePlan(image, snapshot);

        var applied = Apply(plan, image, "run1");
        Assert.True(applied.ExitCode == 0, applied.Stdout + applied.Stderr);
        var outcomes = Outcomes(applied);
        Assert.Contains(outcomes, o => o.GetProperty("kind").GetString() == "change" && o.GetProperty("outcome").GetString() == "done");
        Assert.Contains(outcomes, o => o.GetProperty("kind").GetString() == "verify" && o.GetProperty("outcome").GetString() == "done");
        Assert.Equal(healthy, Tree(image.Root)); // the key file is back, nothing else changed
        Assert.Equal(0, Cli.Run("scan", image.Root).ExitCode);

        var run = Path.Combine(_work, "run1");
        Assert.True(File.Exists(Path.Combine(run, "before-repair.zip")));
        Assert.Contains("KD1003", File.ReadAllText(Path.Combine(run, RepairRun.TranscriptFile)));
        if (!OperatingSystem.IsWindows())
        {
            // Key material and what the steps printed: owner-only, every file and folder of the run.
            foreach (var file in Directory.GetFiles(run, "*", SearchOption.AllDirectories))
                Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
            foreach (var folder in Directory.GetDirectories(run, "*", SearchOption.AllDirectories).Append(run))
                Assert.True(File.GetUnixFileMode(folder) == (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute), folder);
        }

        // Another folder is not the image this run changed: refused, nothing written there, the real rollback intact.
        var elsewhere = Directory.CreateDirectory(Path.Combine(_work, "elsewhere")).FullName;
        var wrong = Cli.Run("repair", "rollback", run, "--image", elsewhere);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("not image " + elsewhere, wrong.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));

        var rolledBack = Cli.Run("repair", "rollback", run, "--image", image.Root);
        Assert.True(rolledBack.ExitCode == 0, rolledBack.Stdout + rolledBack.Stderr);
        Assert.Contains("rolled back put back ProgramData", rolledBack.Stdout);
        Assert.Equal(damaged, Tree(image.Root));
        var again = Cli.Run("repair", "rollback", run, "--image", image.Root);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Nothing to roll back", again.Stdout);

        // The journal tells the run in plan order.
        var journal = RepairRun.Open(run);
        Assert.Equal(journal.Journal.Outcomes.Select(o => o.Order).Order(), journal.Journal.Outcomes.Select(o => o.Order));
        journal.Close();
    }

    [Fact]
    public void ApplyingTwiceChangesNothingTheSecondTime()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var plan = WritePlan(image);
        Assert.Equal(0, Apply(plan, image, "first").ExitCode);
        var after = Tree(image.Root);

        var second = Apply(plan, image, "second");
        Assert.Equal(0, second.ExitCode);
        Assert.All(Outcomes(second), o => Assert.Equal("skipped", o.GetProperty("outcome").GetString()));
        Assert.Equal(after, Tree(image.Root));
        Assert.False(File.Exists(Path.Combine(_work, "second", "before-repair.zip"))); // nothing to do: no snapshot either
    }

    [Fact]
    public void StaleCustomMetadataIsCutOutAndEveryOtherByteKept()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var config = Path.Combine(image.Root, "Windows/System32/inetsrv/config/applicationHost.config");
        var before = File.ReadAllText(config);
        var plan = WritePlan(image);
        var applied = Apply(plan, image, "run");
        Assert.Equal(0, applied.ExitCode);
        Assert.True(JsonDocument.Parse(applied.Stdout).RootElement.GetProperty("needsIisRestart").GetBoolean());
        var after = File.ReadAllText(config);
        var removed = "        <key path=\"LM/W3SVC/1\">\r\n" +
                      "            <property id=\"5506\" dataType=\"Binary\" userType=\"1\" attributes=\"None\" value=\"ABEiM0RVZneImaq7zN3u/wARIjM=\" />\r\n" +
                      "            <property id=\"5511\" dataType=\"String\" userType=\"1\" attributes=\"None\" value=\"MY\" />\r\n" +
                      "        </key>\r\n";
        Assert.Equal(before.Replace(removed, ""), after);
        Assert.Contains("<!-- written by an ABO tool -->", after);
        Assert.Contains("NCSA Common Log File Format", after);

        Assert.Equal(0, Cli.Run("repair", "rollback", Path.Combine(_work, "run"), "--image", image.Root).ExitCode);
        Assert.Equal(before, File.ReadAllText(config));
    }

    [Fact]
    public void RollbackLeavesAFileEditedSinceTheRepairAloneUnlessForced()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var config = Path.Combine(image.Root, "Windows/System32/inetsrv/config/applicationHost.config");
        var before = File.ReadAllText(config);
        Assert.Equal(0, Apply(WritePlan(image), image, "run").ExitCode);
        File.AppendAllText(config, "<!-- an admin's edit after the repair -->");
        var edited = File.ReadAllText(config);

        var refused = Cli.Run("repair", "rollback", Path.Combine(_work, "run"), "--image", image.Root);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("changed again after the repair", refused.Stdout);
        Assert.Equal(edited, File.ReadAllText(config));

        Assert.Equal(0, Cli.Run("repair", "rollback", Path.Combine(_work, "run"), "--image", image.Root, "--force").ExitCode);
        Assert.Equal(before, File.ReadAllText(config));
    }

    [Fact]
    public void RegistryChangesAreWrittenAsRegFilesForAPersonAndTheImageIsLeftAlone()
    {
        using var image = RepairScenarios.ByFinding["KD2004"]();
        var before = Tree(image.Root);
        var plan = WritePlan(image);
        var applied = Apply(plan, image, "run");
        Assert.True(applied.ExitCode == 1, applied.Stdout + applied.Stderr); // still to do: import the .reg on the server
        Assert.Contains(Outcomes(applied), o => o.GetProperty("kind").GetString() == "change" && o.GetProperty("outcome").GetString() == "written");
        Assert.Equal(before, Tree(image.Root));

        var reg = Directory.GetFiles(Path.Combine(_work, "run"), "*-KD2004.reg").Single();
        var undo = Directory.GetFiles(Path.Combine(_work, "run"), "*-KD2004-undo.reg").Single();
        const string BindingKey = @"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo\0.0.0.0:443";
        var key = RegExportReader.Parse(File.ReadAllBytes(reg)).OpenKey(BindingKey);
        Assert.NotNull(key);
        Assert.Equal(20, key!.GetValue("SslCertHash")!.Data.Length);
        Assert.NotEqual(RepairScenarios.StaleHash, Convert.ToHexString(key.GetValue("SslCertHash")!.Data.Span));
        var original = RegExportReader.Parse(File.ReadAllBytes(undo)).OpenKey(BindingKey)!;
        Assert.Equal(RepairScenarios.StaleHash, Convert.ToHexString(original.GetValue("SslCertHash")!.Data.Span));
    }

    [Fact]
    public void ACertificateThatLostItsKeyLinkIsRelinkedOfflineAndTheScanAgrees()
    {
        using var image = RepairScenarios.ByFinding["KD2001"]();
        var finding = Assert.Single(Cli.Run("scan", image.Root, "--json").Stdout.Split('\n'), l => l.Contains("its key is still in"));
        Assert.Contains(@"MachineKeys\\", finding);
        var applied = Apply(WritePlan(image), image, "run");
        Assert.True(applied.ExitCode == 1, applied.Stdout + applied.Stderr);
        Assert.Contains(Outcomes(applied), o => o.GetProperty("findingId").GetString() == "KD2001" && o.GetProperty("outcome").GetString() == "written");

        // Import the .reg the way regedit would (here: its Blob into the image's registry export), then scan again.
        var reg = RegExportReader.Parse(File.ReadAllBytes(Directory.GetFiles(Path.Combine(_work, "run"), "*-KD2001.reg").Single()));
        var certificates = reg.OpenKey(@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SystemCertificates\MY\Certificates")!;
        var certificate = Assert.Single(certificates.Subkeys);
        var blob = certificate.GetValue("Blob")!.Data.ToArray();
        var entry = Formats.Certificates.SerializedCertificateEntry.Parse(blob);
        Assert.Equal("c", entry.KeyProviderInfo!.ContainerName);
        Assert.Equal((24u, 0x20u, 1u), (entry.KeyProviderInfo.ProviderType, entry.KeyProviderInfo.Flags, entry.KeyProviderInfo.KeySpec));
        var machineReg = Path.Combine(image.Root, "registry", "machine.reg");
        var lines = File.ReadAllLines(machineReg).ToList();
        var at = lines.FindIndex(l => l.Contains($@"\Certificates\{certificate.Name}]", StringComparison.Ordinal));
        lines[at + 1] = $"\"Blob\"=hex:{Certificates.CertificateBlobBuilder.Hex(blob)}";
        File.WriteAllLines(machineReg, lines);
        var rescan = Cli.Run("scan", image.Root, "--json");
        Assert.True(rescan.ExitCode == 0, rescan.Stdout);

        // The undo .reg holds the Blob exactly as it was.
        var undo = RegExportReader.Parse(File.ReadAllBytes(Directory.GetFiles(Path.Combine(_work, "run"), "*-KD2001-undo.reg").Single()));
        Assert.Null(Formats.Certificates.SerializedCertificateEntry.Parse(undo.OpenKey(
            $@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SystemCertificates\MY\Certificates\{certificate.Name}")!.GetValue("Blob")!.Data.Span).KeyProviderInfo);
    }

    [Fact]
    public void AnAcceptedMachineGuidDecisionBecomesARegFileAndOnlyKD1001CanBeAccepted()
    {
        using var image = RepairScenarios.ByFinding["KD1001"]();
        var plan = Path.Combine(_work, "guid.json");
        Assert.Equal(1, Cli.Run("repair", "plan", image.Root, "--accept", "KD1001", "-o", plan).ExitCode);
        var parsed = RepairPlan.Parse(File.ReadAllText(plan));
        Assert.Empty(parsed.NeedsDecision);
        Assert.Equal(ScanImage.OldGuid, parsed.MachineGuidAfter);
        Assert.True(parsed.NeedsReboot);
        var change = Assert.Single(parsed.Steps, s => s.Kind == RepairStepKind.Change);
        Assert.DoesNotContain(change.Commands, c => c.ProgramName is "shutdown" or "Restart-Computer"); // the reboot waits for the end of the run
        Assert.Contains("--accept KD1001", change.Title);

        var applied = Apply(plan, image, "run");
        Assert.Equal(1, applied.ExitCode);
        var reg = RegExportReader.Parse(File.ReadAllBytes(Directory.GetFiles(Path.Combine(_work, "run"), "*-KD1001.reg").Single()));
        Assert.Equal(ScanImage.OldGuid, reg.OpenKey(@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography")!.GetValue("MachineGuid")!.AsString());
        var undo = RegExportReader.Parse(File.ReadAllBytes(Directory.GetFiles(Path.Combine(_work, "run"), "*-KD1001-undo.reg").Single()));
        Assert.Equal(ScanImage.Guid, undo.OpenKey(@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography")!.GetValue("MachineGuid")!.AsString());

        var refused = Cli.Run("repair", "plan", image.Root, "--accept", "KD2004");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("only KD1001", refused.Stderr);
    }

    [Fact]
    public void WhatOnlyTheLiveServerCanDoIsRefusedAndNothingChanges()
    {
        using var image = RepairScenarios.ByFinding["KD2008"]();
        var before = Tree(image.Root);
        var plan = WritePlan(image);
        var applied = Apply(plan, image, "run");
        Assert.Equal(1, applied.ExitCode);
        var refused = Assert.Single(Outcomes(applied));
        Assert.Equal("refused", refused.GetProperty("outcome").GetString());
        Assert.Contains("needs CryptoAPI on the server", refused.GetProperty("detail").GetString());
        Assert.Equal(before, Tree(image.Root));
    }

    [Fact]
    public void ABundleIsEvidenceAndAPlanForAnotherMachineIsRefused()
    {
        using var image = RepairScenarios.ByFinding["KD1004"](); // an extracted bundle: has a manifest
        var plan = WritePlan(image);
        var result = Apply(plan, image, "run");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("evidence", result.Stderr);

        using var other = RepairScenarios.ByFinding["KD2005"]();
        var otherPlan = WritePlan(other, name: "other.json");
        var text = File.ReadAllText(otherPlan).Replace(ScanImage.Guid, "00000000-1111-2222-3333-444444444444");
        File.WriteAllText(otherPlan, text);
        var refused = Apply(otherPlan, other, "run2");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("MachineGuid", refused.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_work, "run2"))); // refused before anything was written

        var zip = Path.Combine(_work, "a.zip");
        File.WriteAllBytes(zip, [0x50, 0x4B]);
        var notAFolder = Cli.Run("repair", "apply", otherPlan, "--image", zip, "--yes");
        Assert.Equal(2, notAFolder.ExitCode);
        Assert.Contains("is a file", notAFolder.Stderr);
    }

    [Fact]
    public void WithoutYesApplyAsksAndWithoutATerminalItSaysSo()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var plan = WritePlan(image);
        var before = Tree(image.Root);
        var result = Cli.Run("repair", "apply", plan, "--image", image.Root, "--run-folder", Path.Combine(_work, "run"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--yes", result.Stderr);
        Assert.Equal(before, Tree(image.Root));
    }

    [Fact]
    public void OnLinuxApplyWithoutAnImageSaysWhatToDo()
    {
        if (OperatingSystem.IsWindows()) return; // on Windows this would change the machine running the tests
        using var image = RepairScenarios.ByFinding["KD2005"]();
        var result = Cli.Run("repair", "apply", WritePlan(image), "--yes");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--image", result.Stderr);
        foreach (var command in new[] { new[] { "scan" }, ["repair", "plan"] })
        {
            var live = Cli.Run(command);
            Assert.Equal(2, live.ExitCode);
            Assert.Contains("only on Windows", live.Stderr);
        }
    }
}
