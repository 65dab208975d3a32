using System.Security.Cryptography;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Machine;
using KeyDoctor.Tests.Crypto;
using KeyDoctor.Tests.Iis;

namespace KeyDoctor.Tests.Aot;

/// <summary>
/// Every command's --json (and the main text views) through the shipped NativeAOT executable, compared byte for byte
/// with the same command run in-process: a reflection-based path (which NativeAOT cannot run) or a trimmed-away
/// member cannot come back unnoticed.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class AotComparisonTests(AotBinary binary) : IDisposable
{
    private static string Demo => Path.Combine(Fixtures.RepoRoot, "demo", "web01");
    private static string DemoKey => Path.Combine(Demo, "ProgramData", "Microsoft", "Crypto", "RSA", "MachineKeys",
        "c2319c42033a5ca7f44e731bfd3fa2b5_e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90");

    private readonly string _work = Directory.CreateTempSubdirectory("kd-aot-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("scan", "{demo}", "--json")]
    [InlineData("scan", "{demo}")]
    [InlineData("iis", "{demo}", "--json")]
    [InlineData("iis", "{demo}")]
    [InlineData("iis", "{fixtures}/iis/applicationHost.jexus-original.config", "--json")]
    [InlineData("explain", "0x80090016", "terminated with service-specific error 2148073478 (0x80090006)", "NTE_BAD_KEYSET", "--json")]
    [InlineData("explain", "0x80090016")]
    [InlineData("explain", "KD1002")] // the finding page, embedded in the native executable
    [InlineData("explain", "KD2003", "0x8009030D", "--json")]
    [InlineData("keys", "list", "{demo}", "--json")]
    [InlineData("keys", "list", "{demo}")]
    [InlineData("keys", "show", "{fixtures}/keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b", "--json")]
    [InlineData("keys", "show", "{fixtures}/keys/nemesis/7096db7aeb75c0d3497ecd56d355a695_f26c165b-53c8-414e-8abb-ec5f0f52df22", "--json")]
    [InlineData("keys", "show", "{fixtures}/keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b")]
    [InlineData("keys", "name", "iisWasKey", "--guid", "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b", "--json")]
    [InlineData("reg", "dump", "{fixtures}/hives/regipy/SYSTEM", "--json")]
    [InlineData("reg", "dump", "{fixtures}/hives/regipy/SYSTEM_B", "--key", "ControlSet001\\Control\\Lsa", "--json")]
    [InlineData("reg", "dump", "{fixtures}/hives/regipy/SYSTEM_B", "--key", "ControlSet001\\Control\\Lsa")]
    [InlineData("certs", "list", "{demo}", "--json")]
    [InlineData("certs", "list", "{demo}")]
    [InlineData("events", "{fixtures}/evtx/system.evtx", "--json")]
    [InlineData("events", "{demo}", "--json", "--xml")]
    [InlineData("events", "{fixtures}/evtx", "--id", "7024,36870,4663", "--json")]
    [InlineData("events", "{fixtures}/evtx/security.evtx")]
    [InlineData("collect", "--plan", "--json")]
    [InlineData("snapshot", "--plan", "--json")]
    [InlineData("diff", "{demo}", "{demo}", "--all", "--json")]
    [InlineData("audit", "report", "{fixtures}/evtx/cc0-4656-4663-4658-object-access.evtx", "--all", "--json")]
    [InlineData("audit", "report", "{fixtures}/evtx/security.evtx", "--json")] // 5058/5061 by key and process
    [InlineData("diff", "{demo}", "{demo}")]
    [InlineData("recover", "{demo}", "--all", "-o", "{work}/recovered", "--password-file", "{work}/pfx-password.txt", "--json")]
    [InlineData("keys", "convert", "{work}/iisWasKey.xml", "-o", "{work}/converted.pvk", "--json")]
    [InlineData("config", "verify", "--key", "{work}/iisWasKey.xml", "{work}/applicationHost.config", "--json")]
    [InlineData("config", "decrypt", "--key", "{work}/iisWasKey.xml", "{work}/applicationHost.config", "--json")]
    [InlineData("config", "rekey", "{work}/applicationHost.config", "--from", "{work}/iisWasKey.xml", "--to", "{work}/newKey.xml", "-o", "{work}/rekeyed.config", "--json")]
    [InlineData("metabase", "verify", "--key", "{work}/iis.xml", "{work}/MetaBase.xml", "--json")]
    [InlineData("metabase", "decrypt", "--key", "{work}/iis.xml", "{work}/MetaBase.xml", "--json")]
    [InlineData("metabase", "rekey", "{work}/MetaBase.xml", "--from", "{work}/iis.xml", "--to", "{work}/iis-new.xml", "-o", "{work}/MetaBase.rekeyed.xml", "--json")]
    [InlineData("collect", "--from", "{demo}", "-o", "{work}/web01.zip", "--json")]
    [InlineData("scan", "{demo}", "--store", "{work}/store.db", "--json")]
    [InlineData("farm", "--store", "{farm}/farm.db", "--json")]
    [InlineData("farm", "--store", "{farm}/farm.db")]
    [InlineData("farm", "{farm}/web01", "{farm}/web02", "{farm}/web03", "{farm}/web04", "--json")]
    [InlineData("history", "--store", "{farm}/farm.db", "--node", "WEB04", "--json")]
    public void NativeExecutableWritesWhatTheInProcessCommandWrites(params string[] template)
    {
        WriteInputs();
        if (template.Any(a => a.Contains("{farm}", StringComparison.Ordinal))) WriteFarm();
        var args = template.Select(a => a.Replace("{demo}", Demo).Replace("{fixtures}", Fixtures.Root).Replace("{work}", _work)
            .Replace("{farm}", Path.Combine(_work, "farm"))).ToArray();
        var expected = Cli.Run(args);
        RemoveOutputs(); // commands that write files must find the same empty place again
        var actual = binary.Invoke(_work, args);
        Assert.Equal(expected.Stderr, actual.Stderr);
        Assert.Equal(expected.ExitCode, actual.ExitCode);
        Assert.True(expected.Stdout == actual.Stdout, $"stdout differs for: keydoctor {string.Join(' ', template)}\n--- in-process\n{Head(expected.Stdout)}\n--- native\n{Head(actual.Stdout)}");
        Assert.NotEqual("", actual.Stdout);
    }

    [Fact]
    public void TheLanguageAndTimeZoneOfTheMachineChangeNoByte()
    {
        // Turkish (dotted and dotless i, comma decimals) at UTC+14: culture-sensitive casing, number or date formatting
        // (should InvariantGlobalization, in Directory.Build.props, ever go) and local-time conversion would all show.
        // The same bytes as under the test's own settings.
        var elsewhere = new Dictionary<string, string> { ["LANG"] = "tr_TR.UTF-8", ["LC_ALL"] = "tr_TR.UTF-8", ["TZ"] = "Pacific/Kiritimati" };
        string[][] commands =
        [
            ["scan", Demo], ["scan", Demo, "--json"], ["keys", "list", Demo], ["iis", Demo], ["certs", "list", Demo], ["diff", Demo, Demo, "--all"],
            ["events", Path.Combine(Fixtures.Root, "evtx", "system.evtx")], ["audit", "report", Path.Combine(Fixtures.Root, "evtx", "security.evtx")],
            ["reg", "dump", Path.Combine(Fixtures.Root, "hives", "regipy", "SYSTEM_B"), "--key", "ControlSet001\\Control\\Lsa"],
            ["explain", "0x80090016"], ["keys", "clean", Demo], ["repair", "plan", Demo],
        ];
        foreach (var args in commands)
        {
            var here = binary.Invoke(_work, args);
            var there = binary.Invoke(_work, elsewhere, args);
            Assert.True(here == there, $"keydoctor {string.Join(' ', args)} differs under tr_TR at UTC+14\n--- here\n{Head(here.Stdout + here.Stderr)}\n--- there\n{Head(there.Stdout + there.Stderr)}");
        }
    }

    [Fact]
    public void NativeExecutableWritesTheSameRepairPlan()
    {
        var expected = Cli.Run("repair", "plan", Demo, "--accept", "KD1001", "-o", Path.Combine(_work, "plan.json"), "--json");
        var plan = File.ReadAllText(Path.Combine(_work, "plan.json"));
        File.Delete(Path.Combine(_work, "plan.json"));
        var actual = binary.Invoke(_work, "repair", "plan", Demo, "--accept", "KD1001", "-o", Path.Combine(_work, "plan.json"), "--json");
        Assert.Equal((expected.ExitCode, expected.Stdout, expected.Stderr), (actual.ExitCode, actual.Stdout, actual.Stderr));
        Assert.Equal(plan, File.ReadAllText(Path.Combine(_work, "plan.json")));
    }

    [Fact]
    public void NativeBundleManifestReadsBackInProcess()
    {
        var bundle = Path.Combine(_work, "native.zip");
        var collected = binary.Invoke(_work, "collect", "--from", Demo, "-o", bundle);
        Assert.Equal(0, collected.ExitCode);
        var reference = Path.Combine(_work, "in-process.zip");
        Assert.Equal(0, Cli.Run("collect", "--from", Demo, "-o", reference).ExitCode);

        using var native = MachineSource.Open(bundle);
        using var inProcess = MachineSource.Open(reference);
        var nativeManifest = ((FolderMachineSource)native).Manifest!;
        var referenceManifest = ((FolderMachineSource)inProcess).Manifest!;
        // The same manifest but for the time it was made, the build that made it, and the time of each exported copy
        // (a saved hive or exported log is written at collection time).
        static string Timeless(BundleManifest manifest) => System.Text.Encoding.UTF8.GetString((manifest with
        {
            CreatedUtc = default, ToolVersion = null,
            Files = manifest.Files.Select(f => f with { LastWritten = f.Created is null ? null : f.LastWritten }).ToList(),
        }).ToJson());
        Assert.Equal(Timeless(referenceManifest), Timeless(nativeManifest));
        Assert.NotEmpty(nativeManifest.Files);
    }

    /// <summary>The broken farm (Farm.FarmKit), and its nodes' scans recorded in farm.db by the in-process command.</summary>
    private void WriteFarm()
    {
        var kit = new Farm.FarmKit(Path.Combine(_work, "farm")); // deleted with _work
        var (web01, web02, web03, web04) = kit.BrokenFarm();
        foreach (var node in new[] { web01, web02, web03, web04 })
        {
            var scan = Cli.Run("scan", node, "--store", Path.Combine(_work, "farm", "farm.db"));
            Assert.True(scan.ExitCode is 0 or 1, scan.Stderr);
        }
    }

    private static string Head(string text) => text.Length <= 3000 ? text : text[..3000] + "...";

    /// <summary>Key sets, a protected configuration and a metabase for the commands that need key material.</summary>
    private void WriteInputs()
    {
        File.WriteAllText(Path.Combine(_work, "pfx-password.txt"), "pfx-password\n");
        using var aesKey = RSA.Create(2048);
        using var wasKey = RSA.Create(2048);
        using var newKey = RSA.Create(2048);
        ConfigCommandTests.WriteConfig(_work, aesKey, wasKey, "S3cret!");
        File.WriteAllText(Path.Combine(_work, "iisWasKey.xml"), wasKey.ToXmlString(true));
        File.WriteAllText(Path.Combine(_work, "newKey.xml"), newKey.ToXmlString(false));

        using var exchange = RSA.Create(1024);
        using var signature = RSA.Create(1024);
        using var newExchange = RSA.Create(1024);
        using var newSignature = RSA.Create(1024);
        var sessionKey = MetabaseBlobWriter.SessionKey(RandomNumberGenerator.GetBytes(5), exchange, signature);
        var secret = MetabaseBlobWriter.EncryptedData([1, 2, 3, 4], [1, 2, 3, 4, 5], signature);
        File.WriteAllText(Path.Combine(_work, "MetaBase.xml"), IisSamples.Metabase(IisCryptoBlobWriter.ToHex(sessionKey), IisCryptoBlobWriter.ToHex(secret)));
        File.WriteAllText(Path.Combine(_work, "iis.xml"), KeySetXml.Write(KeySetOf(exchange, signature)));
        File.WriteAllText(Path.Combine(_work, "iis-new.xml"), KeySetXml.Write(KeySetOf(newExchange, newSignature)));
    }

    private static KeySet KeySetOf(RSA exchange, RSA signature) => new("Microsoft Internet Information Server",
    [
        new KeySetEntry(CapiKeyNumber.Exchange, exchange.ExportParameters(true)),
        new KeySetEntry(CapiKeyNumber.Signature, signature.ExportParameters(true)),
    ]);

    private void RemoveOutputs()
    {
        foreach (var name in new[] { "recovered", "converted.pvk", "rekeyed.config", "MetaBase.rekeyed.xml", "web01.zip", "store.db" })
        {
            var path = Path.Combine(_work, name);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
    }
}
