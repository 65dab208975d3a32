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
}
