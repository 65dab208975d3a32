using System.Text.Json;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Tests.KeyFiles;

/// <summary>Same folder, same bytes: rows and verdicts never depend on thread timing or directory order.</summary>
public sealed class KeysListOrderTests
{
    [Fact]
    public void JsonIsSortedByPathAndTheSameEveryRun()
    {
        using var folder = new KeyFixtures.TempFolder();
        var capi = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        // Enough files that two workers interleave; names in an order the directory will not keep.
        var random = new Random(17);
        foreach (var i in Enumerable.Range(0, 300).OrderBy(_ => random.Next()))
            folder.Write(Path.Combine("MachineKeys", $"{i * 7919 % 100000:x32}_{Guid.Empty:D}"), i % 5 == 0 ? capi[..500] : capi);

        var machineKeys = Path.Combine(folder.Path, "MachineKeys");
        // Access times older than the write time: the first read moves them (relatime), so a report of them would differ.
        foreach (var file in Directory.EnumerateFiles(machineKeys)) File.SetLastAccessTimeUtc(file, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var first = Cli.Run("keys", "list", machineKeys, "--json");
        using var json = JsonDocument.Parse(first.Stdout);
        var paths = json.RootElement.EnumerateArray().Select(r => r.GetProperty("path").GetString()!).ToList();
        Assert.Equal(300, paths.Count);
        Assert.Equal(paths.Order(StringComparer.Ordinal), paths);
        for (var run = 0; run < 4; run++) Assert.Equal(first.Stdout, Cli.Run("keys", "list", machineKeys, "--json").Stdout);
        Assert.Equal(Cli.Run("keys", "list", machineKeys).Stdout, Cli.Run("keys", "list", machineKeys).Stdout);
    }

    [Fact]
    public void DuplicateEvidenceNamesTheLowestGuidsWhateverTheDirectoryOrder()
    {
        using var folder = new KeyFixtures.TempFolder();
        var capi = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        const string prefix = "79e1ac78150e8bea8ad238e14d63145b";
        // Twelve copies of one container: more GUIDs than the tally keeps (8), written highest first.
        var guids = Enumerable.Range(1, 12).Select(i => new Guid($"{i:x8}-0000-0000-0000-000000000000")).ToList();
        foreach (var guid in Enumerable.Reverse(guids)) folder.Write(Path.Combine("MachineKeys", $"{prefix}_{guid:D}"), capi);

        var reports = KeyStoreScanner.Scan(KeyStoreFolder.Locate(Path.Combine(folder.Path, "MachineKeys")).Single()).ToList();
        var evidence = reports[^1].Problems.Single(p => p.Status == KeyFileStatus.DuplicateContainer).Evidence;
        Assert.Equal($"prefix {prefix} exists under 12 GUIDs; also under {string.Join(", ", guids.Take(8).Select(g => g.ToString("D")))}, ...", evidence);
        Assert.Equal(guids.Select(g => $"{prefix}_{g:D}"), reports.Select(r => r.FileName));
    }
}
