using System.Text.Json;
using KeyDoctor.Machine;

namespace KeyDoctor.Tests.Machine;

public sealed class CollectCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-collect-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void PlanIsShownOnEveryOs()
    {
        var result = Cli.Run("collect", "--plan", "--json", "--since", "2026-11-01T00:00:00Z");
        Assert.Equal(0, result.ExitCode);
        using var plan = JsonDocument.Parse(result.Stdout);
        var commands = plan.RootElement.EnumerateArray().Select(s => s.GetProperty("command").GetString()).ToList();
        Assert.Contains(@"reg save HKLM\SYSTEM ""<bundle>\Windows\System32\config\SYSTEM"" /y", commands);
        Assert.Contains(commands, c => c!.StartsWith("wevtutil epl \"System\"", StringComparison.Ordinal) && c.Contains("2026-11-01T00:00:00.000Z"));

        var text = Cli.Run("snapshot", "--plan");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("CryptoAPI machine key containers", text.Stdout);
        Assert.DoesNotContain("wevtutil", text.Stdout);
    }

    [Fact]
    public void LiveCollectionOffWindowsSaysWhatToDoInstead()
    {
        if (OperatingSystem.IsWindows()) return; // Elsewhere this needs elevation; covered by the Windows build.
        var result = Cli.Run("collect", "-o", Path.Combine(_root, "b.zip"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--from", result.Stderr);
        Assert.False(File.Exists(Path.Combine(_root, "b.zip")));
    }

    [Fact]
    public void SnapshotOfAnImageIsABundleScanCanRead()
    {
        var image = Path.Combine(_root, "img");
        Directory.CreateDirectory(Path.Combine(image, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"));
        File.WriteAllText(Path.Combine(image, "ProgramData/Microsoft/Crypto/RSA/MachineKeys/a_b"), "k");
        // The registry as a .reg export (no hive files): it stands in for the SYSTEM and SOFTWARE hives.
        Directory.CreateDirectory(Path.Combine(image, "registry"));
        File.WriteAllText(Path.Combine(image, "registry", "machine.reg"), "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n\"MachineGuid\"=\"5c8a4e1b-2f3d-4a6b-9c7e-0d1f2a3b4c5d\"\r\n");
        var zip = Path.Combine(_root, "snap.zip");
        var result = Cli.Run("snapshot", "--from", image, "-o", zip, "--json");
        Assert.Equal(0, result.ExitCode);
        using var summary = JsonDocument.Parse(result.Stdout);
        Assert.Equal("snapshot", summary.RootElement.GetProperty("kind").GetString());
        using var source = MachineSource.Open(zip);
        Assert.Single(source.EnumerateFiles(WindowsPaths.MachineKeys));

        var again = Cli.Run("snapshot", "--from", image, "-o", zip);
        Assert.Equal(2, again.ExitCode); // never overwrites an existing bundle
    }

    [Fact]
    public void WithoutTheHivesCollectExitsTwoNamingThemAndLeavesOnlyAPartialBundleThatScansAsKD0001()
    {
        var image = Path.Combine(_root, "nohives");
        Directory.CreateDirectory(Path.Combine(image, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"));
        File.WriteAllText(Path.Combine(image, "ProgramData/Microsoft/Crypto/RSA/MachineKeys/a_b"), "k");
        var zip = Path.Combine(_root, "live.zip");
        var result = Cli.Run("collect", "--from", image, "-o", zip);

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(zip)); // no bundle that looks complete
        var partial = Path.Combine(_root, "live.partial.zip");
        Assert.True(File.Exists(partial));
        Assert.Contains(@"registry hive HKLM\SYSTEM", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(@"registry hive HKLM\SOFTWARE", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("elevated prompt", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(partial, result.Stderr, StringComparison.Ordinal);

        using (var source = (FolderMachineSource)MachineSource.Open(partial))
        {
            Assert.False(source.Manifest!.Complete);
            var system = Assert.Single(source.Manifest.Items, i => i.Description == @"registry hive HKLM\SYSTEM");
            Assert.Equal(CollectedItemStatus.Failed, system.Status);
            Assert.True(system.Core);
            Assert.Equal(@"reg save HKLM\SYSTEM ""<bundle>\Windows\System32\config\SYSTEM"" /y", system.Command);
            Assert.Equal(CollectedItemStatus.Collected, Assert.Single(source.Manifest.Items, i => i.BundlePath == WindowsPaths.MachineKeys).Status);
        }
        var scan = Cli.Run("scan", partial, "--json");
        Assert.Equal(1, scan.ExitCode);
        using var document = JsonDocument.Parse(scan.Stdout);
        var subjects = document.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("id").GetString() == "KD0001").Select(f => f.GetProperty("subject").GetString()).ToList();
        Assert.Contains(subjects, s => s!.StartsWith(@"registry hive HKLM\SYSTEM (not collected", StringComparison.Ordinal));
    }
}
