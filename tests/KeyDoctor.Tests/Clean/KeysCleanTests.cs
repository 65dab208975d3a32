using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyDoctor.Diagnosis.Clean;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Tests.Certificates;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Clean;

/// <summary>
/// `keys clean` on generated images: every kind of key in use is kept with what uses it, old orphans are quarantined,
/// recent ones kept, another MachineGuid's keys and damaged keys in use go to review; a plan applied and rolled back
/// leaves the folders byte for byte (and time for time) as they were.
/// </summary>
public sealed class KeysCleanTests : IDisposable
{
    private const string MachineKeys = @"ProgramData\Microsoft\Crypto\RSA\MachineKeys";
    private static readonly RSA Rsa = RSA.Create(2048);
    // 10:00 UTC of a day long ago: a leak day's 30 files (one a minute) stay on that day whenever the test runs
    // (from "now - 200 days", the late-evening runs spread them over a fourth day).
    private static readonly DateTime Old = DateTime.UtcNow.Date.AddDays(-200).AddHours(10);
    private readonly string _work = Directory.CreateTempSubdirectory("kd-clean-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>A CAPI key file for <paramref name="container"/> in <paramref name="folder"/>, last written <paramref name="modified"/>.</summary>
    private static string Capi(ScanImage image, string container, DateTime modified, string folder = MachineKeys, string? guid = null)
    {
        var path = image.KeyFileAt($@"{folder}\{ContainerName.CapiPrefix(container)}_{guid ?? image.MachineGuid}", container, Rsa);
        Age(path, modified);
        return path;
    }

    /// <summary>A CNG key file's header and name (all <c>keys clean</c> reads of a key nothing uses).</summary>
    private static string Cng(ScanImage image, string name, DateTime modified, string folder = @"ProgramData\Microsoft\Crypto\Keys")
    {
        var nameBytes = Encoding.Unicode.GetBytes(name + "\0");
        var content = new byte[CngKeyFileHeader.Length + nameBytes.Length + 16];
        BinaryPrimitives.WriteUInt32LittleEndian(content, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(8), (uint)nameBytes.Length);
        nameBytes.CopyTo(content, CngKeyFileHeader.Length);
        var path = image.Put($@"{folder}\{ContainerName.CngPrefix(name)}_{image.MachineGuid}", content);
        Age(path, modified);
        return path;
    }

    private static void Age(string path, DateTime time)
    {
        File.SetCreationTimeUtc(path, time);
        File.SetLastWriteTimeUtc(path, time);
        File.SetLastAccessTimeUtc(path, time);
    }

    /// <summary>A certificate with a key link at any registry key (a service's store, a policy store).</summary>
    private static void CertificateAt(ScanImage image, string registryStore, string container)
    {
        var certificate = CertificateBlobBuilder.CreateCertificate($"CN={container}");
        var link = CertificateBlobBuilder.KeyProviderInfo(container, "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1);
        image.Registry($"[{registryStore}\\Certificates\\{certificate.Thumbprint}]\r\n\"Blob\"=hex:{CertificateBlobBuilder.Hex(CertificateBlobBuilder.Blob(certificate, link))}");
    }

    /// <summary>A server with a key in use of every kind, orphans old and recent, another GUID's keys and a damaged key in use.</summary>
    private static ScanImage BloatedServer()
    {
        var image = ScanImage.Healthy(out _); // "shop-key": certificate in MY, bound to :443
        Age(Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys")).Single(), Old);
        image.Certificate("CN=hosting", "hosting-key", store: "WebHosting");
        image.Certificate("CN=rdp", "rdp-key", store: "Remote Desktop");
        image.Certificate("CN=peer", "peer-key", store: "TrustedPeople");
        image.Certificate("CN=sms", "sms-key", store: "SMS");
        CertificateAt(image, @"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\Services\MyAgent\SystemCertificates\MY", "agent-key");
        foreach (var container in new[] { "hosting-key", "rdp-key", "peer-key", "sms-key" })
            Age(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", $"{ContainerName.CapiPrefix(container)}_{image.MachineGuid}"), Old);
        Capi(image, "agent-key", Old);
        Capi(image, "iisConfigurationKey", Old);
        Capi(image, "TSSecKeySet1", Old);
        image.Providers = """<add name="AppProvider" type="Microsoft.ApplicationHost.RsaProtectedConfigurationProvider" keyContainerName="AppHostKey" useMachineContainer="true" />""";
        Capi(image, "AppHostKey", Old);
        image.Put(@"Windows\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config",
            """<?xml version="1.0"?><configuration><configProtectedData><providers><add name="Corp" type="System.Configuration.RsaProtectedConfigurationProvider" keyContainerName="CorpMachineConfigKey" useMachineContainer="true" /></providers></configProtectedData></configuration>""");
        Capi(image, "CorpMachineConfigKey", Old);
        image.ExtraApplicationHost = "";
        image.Put(@"inetpub\wwwroot\web.config",
            """<?xml version="1.0"?><configuration><configProtectedData><providers><add name="Site" type="System.Configuration.RsaProtectedConfigurationProvider" keyContainerName="SiteWebConfigKey" /></providers></configProtectedData></configuration>""");
        Capi(image, "SiteWebConfigKey", Old);
        // Leaks: 30 throw-away containers a day for three days, long ago; a CNG one; one in NetworkService's profile.
        for (var day = 0; day < 3; day++)
            for (var i = 0; i < 30; i++)
                Capi(image, $"le-{Guid.NewGuid():D}", Old.AddDays(day).AddMinutes(i));
        Cng(image, $"leak-cng-{Guid.NewGuid():D}", Old);
        Capi(image, $"svc-leak-{Guid.NewGuid():D}", Old, $@"Windows\ServiceProfiles\NetworkService\AppData\Roaming\Microsoft\Crypto\RSA\{WellKnownSids.NetworkService}");
        // Recent: kept whatever it is.
        Capi(image, "made-last-week", DateTime.UtcNow.AddDays(-7));
        // Another MachineGuid's key (a clone), and a used container whose file is damaged.
        Capi(image, "cloned-key", Old, guid: ScanImage.OldGuid);
        var damaged = Capi(image, "damaged-but-used", Old);
        image.Certificate("CN=damaged", "damaged-but-used", keyFile: false);
        File.WriteAllBytes(damaged, File.ReadAllBytes(damaged)[..100]);
        Age(damaged, Old);
        image.Build();
        return image;
    }

    private static Dictionary<string, CleanRow> Classify(ScanImage image, CleanOptions? options = null)
    {
        using var source = MachineSource.Open(image.Root);
        var cleaner = new KeyCleaner(source, options).Prepare();
        return cleaner.Classify().ToDictionary(r => r.Container ?? r.File);
    }

    [Fact]
    public void EveryKeyInUseIsKeptWithWhatUsesIt()
    {
        using var image = BloatedServer();
        var rows = Classify(image);
        foreach (var (container, usedBy) in new[]
                 {
                     ("shop-key", @"LocalMachine\MY"), ("hosting-key", @"LocalMachine\WebHosting"), ("rdp-key", @"LocalMachine\Remote Desktop"),
                     ("peer-key", @"LocalMachine\TrustedPeople"), ("sms-key", @"LocalMachine\SMS"), ("agent-key", @"Service MyAgent\MY"),
                     ("iisConfigurationKey", "system container iisConfigurationKey"), ("TSSecKeySet1", "system container TSSecKeySet1"),
                     ("AppHostKey", @"provider AppProvider in Windows\System32\inetsrv\config\applicationHost.config"),
                     ("CorpMachineConfigKey", "provider Corp in Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Config\\machine.config"),
                     ("SiteWebConfigKey", @"provider Site in inetpub\wwwroot\web.config"),
                 })
        {
            var row = rows[container];
            Assert.True(row.Action == CleanAction.Keep, $"{container}: {row.Action} {row.Reason}");
            Assert.Contains(usedBy, row.Reason);
        }
    }

    [Fact]
    public void OldOrphansAreQuarantinedInEveryStoreAndRecentOnesKept()
    {
        using var image = BloatedServer();
        var rows = Classify(image);
        var leaks = rows.Values.Where(r => r.Container?.StartsWith("le-", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(90, leaks.Count);
        Assert.All(leaks, r => Assert.Equal(CleanAction.Quarantine, r.Action));
        Assert.Equal(CleanAction.Quarantine, rows.Values.Single(r => r.Container?.StartsWith("leak-cng-", StringComparison.Ordinal) == true).Action);
        var service = rows.Values.Single(r => r.Container?.StartsWith("svc-leak-", StringComparison.Ordinal) == true);
        Assert.Equal(CleanAction.Quarantine, service.Action);
        Assert.Contains(@"ServiceProfiles\NetworkService", service.File);
        var recent = rows["made-last-week"];
        Assert.Equal(CleanAction.Keep, recent.Action);
        Assert.Contains("within the last 30 days", recent.Reason);
        // A shorter window lets it go.
        Assert.Equal(CleanAction.Quarantine, Classify(image, new CleanOptions { OlderThanDays = 3 })["made-last-week"].Action);
    }

    [Fact]
    public void APlanHoldsTheFirstOrphansInStoreAndNameOrderAndCountsTheRest()
    {
        using var image = BloatedServer();
        using var source = MachineSource.Open(image.Root);
        var cleaner = new KeyCleaner(source, new CleanOptions { PlanLimit = 50 }).Prepare();
        var orphans = cleaner.Classify().Where(r => r.Action == CleanAction.Quarantine).ToList();
        Assert.Equal(92, orphans.Count);
        var planned = cleaner.PlannedOrphans.SelectMany(o => o.Names.Select(n => WindowsPaths.Combine(o.Store, n))).ToList();
        Assert.Equal(orphans.Take(50).Select(r => r.File), planned);
        Assert.Equal(42, cleaner.OrphansNotPlanned);
        Assert.Equal(cleaner.PlannedOrphans.Select(o => o.Store), cleaner.PlannedOrphans.Select(o => o.Store).Distinct());

        var all = new KeyCleaner(source, new CleanOptions { PlanLimit = 1_000_000 }).Prepare();
        _ = all.Classify().Count();
        Assert.Equal(orphans.Select(r => r.File), all.PlannedOrphans.SelectMany(o => o.Names.Select(n => WindowsPaths.Combine(o.Store, n))));
        Assert.Equal(0, all.OrphansNotPlanned);
    }

    [Fact]
    public void AKeyCreatedAfterTheLastBootIsKept()
    {
        using var image = BloatedServer();
        // Made 40 days ago (outside the 30-day window), after a boot 60 days ago: the server has not restarted since.
        Capi(image, "made-since-boot", DateTime.UtcNow.AddDays(-40));
        var row = Classify(image, new CleanOptions { LastBoot = DateTimeOffset.UtcNow.AddDays(-60) })["made-since-boot"];
        Assert.Equal(CleanAction.Keep, row.Action);
        Assert.Contains("after the last boot", row.Reason);
    }

    [Fact]
    public void AnotherMachineGuidsKeyAndADamagedKeyInUseGoToReview()
    {
        using var image = BloatedServer();
        var rows = Classify(image);
        var cloned = rows["cloned-key"];
        Assert.Equal(CleanAction.Review, cloned.Action);
        Assert.Contains(ScanImage.OldGuid, cloned.Reason);
        Assert.Contains("KD1001", cloned.Reason);
        var damaged = rows.Values.Single(r => r.File.Contains(ContainerName.CapiPrefix("damaged-but-used"), StringComparison.Ordinal));
        Assert.Equal(CleanAction.Review, damaged.Action);
        Assert.Contains("damaged", damaged.Reason);
        Assert.Contains(@"certificate", damaged.Reason); // names what uses it
        Assert.Contains(@"LocalMachine\MY", damaged.Reason);
    }

    [Fact]
    public void WithoutTheCertificateStoresNothingIsCalledAnOrphan()
    {
        using var image = BloatedServer();
        File.Delete(Path.Combine(image.Root, "registry/machine.reg"));
        var rows = Classify(image);
        Assert.DoesNotContain(rows.Values, r => r.Action == CleanAction.Quarantine);
        Assert.Contains("certificate stores", rows.Values.First(r => r.Container?.StartsWith("le-", StringComparison.Ordinal) == true).Reason);
    }

    [Fact]
    public void TheLeakIsShapedByDayPatternAndCreator()
    {
        using var image = BloatedServer();
        var leak = Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"))
            .Select(f => (File: f, Name: CapiContainer(f))).First(f => f.Name?.StartsWith("le-", StringComparison.Ordinal) == true);
        var log = Path.Combine(image.Root, "Windows/System32/winevt/Logs/Security.evtx");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        using (var output = File.Create(log))
            EvtxWriter.Write(output,
            [
                Security(4688, 1, [EventDataValue.String("NewProcessId", "0x1a2c"), EventDataValue.String("NewProcessName", @"C:\apps\leaky\Leaky.exe")]),
                Security(5058, 2, [EventDataValue.String("SubjectUserSid", "S-1-5-82-1"), EventDataValue.String("SubjectUserName", "LeakyPool"),
                    EventDataValue.String("SubjectDomainName", "IIS APPPOOL"), EventDataValue.String("ClientProcessId", "6700"),
                    EventDataValue.String("KeyName", leak.Name!), EventDataValue.String("KeyFilePath", leak.File.Replace('/', '\\'))]),
            ]);
        using var source = MachineSource.Open(image.Root);
        var cleaner = new KeyCleaner(source).Prepare();
        _ = cleaner.Classify().Count();
        var summary = cleaner.Summarize();
        Assert.Equal(92, summary.Quarantine);
        var pattern = summary.Patterns[0];
        Assert.Equal("le-{GUID}", pattern.Pattern);
        Assert.Equal(90, pattern.Files);
        Assert.Equal(30, pattern.PerDay);
        Assert.Matches(@"^~3\d keys/day since \d{4}-\d\d-\d\d$", summary.Rate); // 92 orphans over three days
        Assert.Equal(3, summary.Days.Count(d => d.Files >= 30));
        var creator = Assert.Single(summary.Creators);
        Assert.Equal(@"IIS APPPOOL\LeakyPool (S-1-5-82-1)", creator.Account);
        Assert.Equal(@"C:\apps\leaky\Leaky.exe (pid 6700)", creator.Process);
    }

    private static string? CapiContainer(string path) =>
        KeyCleaner.ReadContainerName(File.ReadAllBytes(path), KeyProviderKind.Capi);

    private static EventToWrite Security(int id, ulong record, IReadOnlyList<EventDataValue> data) => new()
    {
        Provider = "Microsoft-Windows-Security-Auditing", EventId = id, RecordId = record, Channel = "Security", Computer = "WEB01",
        TimeCreated = Old.AddHours(1), Data = data,
    };

    [Fact]
    public void ThePatternOfAContainerNameHidesItsVariableParts()
    {
        Assert.Equal("le-{GUID}", KeyCleaner.PatternOf($"le-{Guid.NewGuid():D}"));
        Assert.Equal("tmp{N}-{HEX}", KeyCleaner.PatternOf("tmp42-9f8e7d6c5b4a"));
        Assert.Equal("iisWasKey", KeyCleaner.PatternOf("iisWasKey"));
    }

    /// <summary>Every file of a folder with its SHA-256 and last-write time.</summary>
    private static SortedDictionary<string, (string Sha256, DateTime Modified)> Tree(string root) =>
        new(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => (Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))), File.GetLastWriteTimeUtc(f))),
            StringComparer.Ordinal);

    [Fact]
    public void ThePlanQuarantinesTheOrphansAndRollbackPutsBackEveryByteAndTime()
    {
        using var image = BloatedServer();
        var before = Tree(image.Root);
        var plan = Path.Combine(_work, "clean.json");
        var cleaned = Cli.Run("keys", "clean", image.Root, "-o", plan, "--json");
        Assert.True(cleaned.ExitCode == 1, cleaned.Stderr);
        var document = JsonDocument.Parse(cleaned.Stdout).RootElement;
        var files = document.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(Directory.EnumerateFiles(image.Root, "*_*", SearchOption.AllDirectories).Count(), files.Count);
        Assert.All(files, f => Assert.Contains(f.GetProperty("action").GetString(), new[] { "keep", "quarantine", "review" }));
        var orphans = files.Where(f => f.GetProperty("action").GetString() == "quarantine").Select(f => f.GetProperty("file").GetString()!).ToList();
        Assert.Equal(92, orphans.Count);
        Assert.Equal(92, document.GetProperty("summary").GetProperty("quarantine").GetInt64());
        Assert.Equal(before, Tree(image.Root)); // planning changes nothing

        var run = Path.Combine(_work, "run");
        var applied = Cli.Run("repair", "apply", plan, "--image", image.Root, "--run-folder", run, "--yes", "--json");
        Assert.True(applied.ExitCode == 0, applied.Stdout + applied.Stderr);
        foreach (var orphan in orphans) Assert.False(File.Exists(Path.Combine(image.Root, orphan.Replace('\\', '/'))), orphan);
        var after = Tree(image.Root);
        Assert.Equal(before.Count - 92, after.Count);
        Assert.All(after, f => Assert.Equal(before[f.Key], f.Value)); // everything else untouched
        var manifests = Directory.GetFiles(Path.Combine(run, "quarantine"), "manifest.jsonl", SearchOption.AllDirectories);
        Assert.Equal(3, manifests.Length); // MachineKeys, Crypto\Keys, NetworkService's RSA folder
        var line = File.ReadLines(manifests[0]).Skip(1).First();
        using (var entry = JsonDocument.Parse(line))
            foreach (var property in new[] { "name", "size", "sha256", "createdUtc", "modifiedUtc", "accessedUtc" })
                Assert.True(entry.RootElement.TryGetProperty(property, out _), property);

        var rolledBack = Cli.Run("repair", "rollback", run, "--image", image.Root, "--json");
        Assert.True(rolledBack.ExitCode == 0, rolledBack.Stdout + rolledBack.Stderr);
        Assert.Equal(before, Tree(image.Root));

        // Applying again after the rollback does it again; a second rollback is a no-op.
        Assert.Equal(0, Cli.Run("repair", "rollback", run, "--image", image.Root).ExitCode);
    }

    [Fact]
    public void AFileChangedSinceThePlanIsLeftWhereItIs()
    {
        using var image = BloatedServer();
        var plan = Path.Combine(_work, "clean.json");
        Assert.Equal(1, Cli.Run("keys", "clean", image.Root, "-o", plan).ExitCode);
        var leak = Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"))
            .First(f => CapiContainer(f)?.StartsWith("le-", StringComparison.Ordinal) == true);
        File.SetLastWriteTimeUtc(leak, DateTime.UtcNow.AddMinutes(1)); // something opened and rewrote it since
        var applied = Cli.Run("repair", "apply", plan, "--image", image.Root, "--run-folder", Path.Combine(_work, "run"), "--yes");
        Assert.True(applied.ExitCode == 0, applied.Stdout + applied.Stderr);
        Assert.True(File.Exists(leak));
    }

    [Fact]
    public void TextOutputGivesTheSummaryFirstAndThePlanRefusesScripts()
    {
        using var image = BloatedServer();
        var text = Cli.Run("keys", "clean", image.Root);
        Assert.Equal(1, text.ExitCode);
        var first = text.Stdout.Split('\n')[0];
        Assert.Matches(@"^\d+ key files \(.*\): \d+ keep, 92 orphans to quarantine \(.*\), 2 to review$", first.TrimEnd('\r'));
        Assert.Matches(@"The leak: ~3\d keys/day since", text.Stdout);
        var script = Cli.Run("keys", "clean", image.Root, "-o", Path.Combine(_work, "clean.ps1"));
        Assert.Equal(2, script.ExitCode);
        Assert.Contains(".json", script.Stderr);
    }

    [Fact]
    public void AnImageWithOnlyRegistryExportsIsDatedByThemAndGivesTheSameBytesEveryRun()
    {
        // The demo holds .reg exports, no hive files: the age rule's reference is the exports' last write, never the clock.
        var demo = Path.Combine(Fixtures.RepoRoot, "demo", "web01");
        var first = Cli.Run("keys", "clean", demo, "--json");
        var second = Cli.Run("keys", "clean", demo, "--json");
        Assert.Equal(first.Stdout, second.Stdout);
        using var json = JsonDocument.Parse(first.Stdout);
        var reference = json.RootElement.GetProperty("summary").GetProperty("reference");
        Assert.Equal("the last write of the image's registry exports", reference.GetProperty("source").GetString());
        var exports = Directory.GetFiles(Path.Combine(demo, "registry"), "*.reg").Max(f => new DateTimeOffset(File.GetLastWriteTimeUtc(f)));
        Assert.Equal(exports, reference.GetProperty("time").GetDateTimeOffset());
    }
}

public sealed class BloatedKeyFolderTests
{
    [Fact]
    public void KD1007_AFolderOfMoreThanTenThousandKeyFilesIsFlaggedAndThePlannerOffersKeysClean()
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        using var rsa = RSA.Create(2048);
        for (var i = 0; i < 10_001; i++) // intact key files: a leak, not damage (KD1003 stays quiet)
            image.KeyFileAt($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.CapiPrefix($"le-{i}")}_{image.MachineGuid}", $"le-{i}", rsa);
        // One scan: the plan offers the clean-up as a decision, with the finding's commands.
        var plan = Cli.Run("repair", "plan", image.Root, "--json");
        var decision = JsonDocument.Parse(plan.Stdout).RootElement.GetProperty("needsDecision").EnumerateArray()
            .Single(d => d.GetProperty("id").GetString() == "KD1007");
        Assert.Equal(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys", decision.GetProperty("subject").GetString());
        Assert.Contains("keys clean", decision.GetProperty("decision").GetString());
        Assert.Contains("keys", decision.GetProperty("commands").GetRawText());
    }
}
