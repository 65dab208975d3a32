using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;
using KeyDoctor.Machine;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Procmon;

/// <summary>`scan --trace` and captures in a bundle's traces folder: KD6001-KD6003, each from a generated capture, and none from the real ones.</summary>
public class ScanTraceTests
{
    private static ScanResult Scan(string root, params string[] traces)
    {
        using var source = MachineSource.Open(root);
        return Scanner.Scan(source, traces: traces);
    }

    /// <summary>The healthy shop server, and the trace path of its certificate's key file.</summary>
    private static ScanImage HealthyShop(out X509Certificate2 certificate, out string keyFile)
    {
        var image = ScanImage.Healthy(out certificate);
        image.Build();
        keyFile = $@"{SeedCaptures.MachineKeys}\{ContainerName.CapiPrefix("shop-key")}_{ScanImage.Guid}";
        return image;
    }

    [Fact]
    public void Seed002_TheTraceProvesTheMachineGuidMismatchAndConfirmsKD1001()
    {
        using var image = new ScanImage { MachineGuid = SeedCaptures.NewGuid };
        using var rsa = RSA.Create(1024);
        image.KeyFile("Microsoft Internet Information Server", rsa, SeedCaptures.OldGuid);
        image.Build();
        var capture = SeedCaptures.Seed002();
        try
        {
            var result = Cli.Run("scan", image.Root, "--trace", capture, "--json");
            Assert.Equal(1, result.ExitCode);
            using var document = JsonDocument.Parse(result.Stdout);
            var findings = document.RootElement.GetProperty("findings").EnumerateArray().ToList();
            var kd6001 = Assert.Single(findings, f => f.GetProperty("id").GetString() == "KD6001");
            var lookedUp = $"{SeedCaptures.IisPrefix}_{SeedCaptures.NewGuid}";
            Assert.Equal(lookedUp, kd6001.GetProperty("subject").GetString());
            Assert.Equal(
                $"inetinfo.exe (PID 1234, NT AUTHORITY\\SYSTEM) looked for {lookedUp} (container \"Microsoft Internet Information Server\") under MachineGuid " +
                $"{SeedCaptures.NewGuid} and got NAME NOT FOUND and then created an empty container under that name; the container's key file is " +
                $"{SeedCaptures.IisPrefix}_{SeedCaptures.OldGuid}, under the GUID before",
                kd6001.GetProperty("message").GetString());
            Assert.Equal(SeedCaptures.OldGuid, kd6001.GetProperty("properties").GetProperty("originalGuid").GetString());
            Assert.Equal(["KD1001"], kd6001.GetProperty("causedBy").EnumerateArray().Select(r => r.GetString()));
            Assert.Equal(SeedCaptures.NewGuid, kd6001.GetProperty("causes")[0].GetProperty("subject").GetString());
            var evidence = kd6001.GetProperty("evidence").EnumerateArray().Select(e => e.GetProperty("description").GetString()!).ToList();
            Assert.Contains(evidence, e => e.Contains("RegQueryValue HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid: SUCCESS"));
            Assert.Contains(evidence, e => e.Contains($"CreateFile {SeedCaptures.XpMachineKeys}\\{lookedUp}: NAME NOT FOUND"));
            var trace = Assert.Single(document.RootElement.GetProperty("machine").GetProperty("traces").EnumerateArray());
            Assert.Equal("pml", trace.GetProperty("format").GetString());
            Assert.Equal(6, trace.GetProperty("events").GetInt32());

            var text = Cli.Run("scan", image.Root, "--trace", capture);
            Assert.Contains("KD6001", text.Stdout);
            Assert.Contains("because of KD1001:", text.Stdout);
            Assert.Contains("1 Process Monitor capture(s), 6 events", text.Stdout.ReplaceLineEndings("")); // the machine line wraps
        }
        finally
        {
            File.Delete(capture);
        }
    }

    [Fact]
    public void Seed002_TheOlderFileOnTheMachineIsEnoughWhenTheCaptureDoesNotOpenIt()
    {
        using var image = new ScanImage { MachineGuid = SeedCaptures.NewGuid };
        using var rsa = RSA.Create(1024);
        image.KeyFile("Microsoft Internet Information Server", rsa, SeedCaptures.OldGuid);
        image.Build();
        var capture = SeedCaptures.Seed002(SeedCaptures.MachineKeys, touchOldFile: false);
        var unrelated = SeedCaptures.Seed002(SeedCaptures.MachineKeys, touchOldFile: false);
        try
        {
            var finding = Assert.Single(Scan(image.Root, capture).Findings, f => f.Id == "KD6001");
            Assert.Contains(finding.Evidence, e => e.Location == WindowsPaths.Combine(WindowsPaths.MachineKeys, $"{SeedCaptures.IisPrefix}_{SeedCaptures.OldGuid}"));

            // Without the older file anywhere, a container not found and created is only a new container, not a mismatch.
            using var fresh = new ScanImage { MachineGuid = SeedCaptures.NewGuid };
            fresh.Build();
            Assert.DoesNotContain(Scan(fresh.Root, unrelated).Findings, f => f.Id.StartsWith("KD6", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(capture);
            File.Delete(unrelated);
        }
    }

    [Fact]
    public void W3wpDeniedOnACertificatesKeyNamesTheProcessAccountAndCertificate()
    {
        using var image = HealthyShop(out var certificate, out var keyFile);
        var processes = new List<ProcmonProcess> { new() { Index = 0, ProcessId = 4242, Name = "w3wp.exe", User = @"IIS APPPOOL\Shop" } };
        var capture = SeedCaptures.Write("WEB02", processes,
        [
            new PmlEventToWrite { ProcessIndex = 0, Time = new DateTime(2024, 5, 1, 9, 0, 0, DateTimeKind.Utc), Class = ProcmonEventClass.FileSystem, Operation = 20, Path = keyFile, Status = 0xC0000022, DesiredAccess = 0x120089 },
            new PmlEventToWrite { ProcessIndex = 0, Time = new DateTime(2024, 5, 1, 9, 0, 1, DateTimeKind.Utc), Class = ProcmonEventClass.FileSystem, Operation = 20, Path = keyFile, Status = 0xC0000022, DesiredAccess = 0x120089 },
        ]);
        try
        {
            var finding = Assert.Single(Scan(image.Root, capture).Findings, f => f.Id == "KD6002");
            Assert.Equal(Severity.Error, finding.Severity);
            Assert.Equal($"w3wp.exe (PID 4242) running as IIS APPPOOL\\Shop was denied generic read on {keyFile} (container \"shop-key\"; the private key of certificate {certificate.Thumbprint} (CN=shop.example.com))", finding.Message);
            Assert.Equal(certificate.Thumbprint, finding.Properties["thumbprint"]);
            Assert.Equal(@"IIS APPPOOL\Shop", finding.Properties["account"]);
            Assert.Equal("0", finding.Properties["event"]); // the first denial, once
            Assert.Contains($"icacls \"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\\{ContainerName.CapiPrefix("shop-key")}_{ScanImage.Guid}\" /grant \"IIS APPPOOL\\Shop:R\"", finding.Fix!.Cmd);
        }
        finally
        {
            File.Delete(capture);
        }
    }

    [Fact]
    public void AccessDeniedFromAProcmonCsvExportGivesTheSameFinding()
    {
        using var image = HealthyShop(out var certificate, out var keyFile);
        var csv = Path.Combine(Path.GetTempPath(), $"kd-trace-{Guid.NewGuid():N}.csv");
        File.WriteAllText(csv, "\uFEFF\"Time of Day\",\"Process Name\",\"PID\",\"Operation\",\"Path\",\"Result\",\"Detail\",\"User\"\r\n" +
            $"\"9:00:00.0000000 AM\",\"w3wp.exe\",\"4242\",\"CreateFile\",\"{keyFile}\",\"ACCESS DENIED\",\"Desired Access: Generic Read, Disposition: Open, Options: Synchronous IO Non-Alert, Non-Directory File, Attributes: n/a, ShareMode: Read, AllocationSize: n/a\",\"IIS APPPOOL\\Shop\"\r\n");
        try
        {
            var finding = Assert.Single(Scan(image.Root, csv).Findings, f => f.Id == "KD6002");
            Assert.StartsWith($"w3wp.exe (PID 4242) running as IIS APPPOOL\\Shop was denied generic read on {keyFile} (container \"shop-key\"; the private key of certificate {certificate.Thumbprint}", finding.Message);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void AKeyFileDeletedByAntiVirusAndAScriptFromABundlesTracesFolder()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=shop.example.com", "shop-key", keyFile: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        image.Build();
        var shopKey = $@"{SeedCaptures.MachineKeys}\{ContainerName.CapiPrefix("shop-key")}_{ScanImage.Guid}";
        var otherKey = $@"{SeedCaptures.MachineKeys}\{ContainerName.CapiPrefix("old-backup-key")}_{ScanImage.Guid}";
        var processes = new List<ProcmonProcess>
        {
            new() { Index = 0, ProcessId = 3120, Name = "MsMpEng.exe", User = @"NT AUTHORITY\SYSTEM" },
            new() { Index = 1, ProcessId = 5150, Name = "cmd.exe", User = @"WEB01\Administrator", CommandLine = @"cmd /c del /q C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\*" },
        };
        var t = new DateTime(2024, 6, 2, 3, 0, 0, DateTimeKind.Utc);
        var capture = SeedCaptures.Write("WEB01", processes,
        [
            new PmlEventToWrite { ProcessIndex = 0, Time = t, Class = ProcmonEventClass.FileSystem, Operation = 20, Path = shopKey, OpenResult = 1, DesiredAccess = 0x110080 },
            new PmlEventToWrite { ProcessIndex = 0, Time = t.AddMilliseconds(1), Class = ProcmonEventClass.FileSystem, Operation = 26, SubOperation = 0xD, Delete = true, Path = shopKey },
            new PmlEventToWrite { ProcessIndex = 1, Time = t.AddSeconds(9), Class = ProcmonEventClass.FileSystem, Operation = 26, SubOperation = 0x40, Path = otherKey },
            // Not a deletion: the flag is off.
            new PmlEventToWrite { ProcessIndex = 1, Time = t.AddSeconds(10), Class = ProcmonEventClass.FileSystem, Operation = 26, SubOperation = 0xD, Delete = false, Path = $@"{SeedCaptures.MachineKeys}\{ContainerName.CapiPrefix("kept")}_{ScanImage.Guid}" },
        ]);
        var zip = Path.Combine(Path.GetTempPath(), $"kd-trace-bundle-{Guid.NewGuid():N}.zip");
        try
        {
            using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            {
                foreach (var file in Directory.EnumerateFiles(image.Root, "*", SearchOption.AllDirectories))
                    archive.CreateEntryFromFile(file, Path.GetRelativePath(image.Root, file).Replace('\\', '/'));
                archive.CreateEntryFromFile(capture, "traces/defender.pml");
                using var entry = archive.CreateEntry(BundleManifest.FileName).Open();
                entry.Write(new BundleManifest().ToJson());
            }
            var result = Cli.Run("scan", zip, "--json");
            Assert.Equal(1, result.ExitCode);
            using var document = JsonDocument.Parse(result.Stdout);
            var removed = document.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("id").GetString() == "KD6003").ToList();
            Assert.Equal(2, removed.Count);
            var defender = Assert.Single(removed, f => f.GetProperty("subject").GetString() == shopKey);
            Assert.Equal($"MsMpEng.exe (PID 3120, NT AUTHORITY\\SYSTEM), the Microsoft Defender anti-virus, deleted {shopKey} (the private key of certificate " +
                         $"{certificate.Thumbprint} (CN=shop.example.com)) at 2024-06-02 03:00:00Z; the file is missing from this machine now",
                defender.GetProperty("message").GetString());
            Assert.Equal("error", defender.GetProperty("severity").GetString()!.ToLowerInvariant());
            // The deletion is the cause; the missing key file of the certificate is its consequence.
            Assert.Empty(defender.GetProperty("causedBy").EnumerateArray());
            var missing = Assert.Single(document.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("id").GetString() == "KD2008");
            var cause = Assert.Single(missing.GetProperty("causes").EnumerateArray());
            Assert.Equal(("KD6003", shopKey), (cause.GetProperty("id").GetString(), cause.GetProperty("subject").GetString()));
            Assert.Equal(@"traces\defender.pml", defender.GetProperty("properties").GetProperty("trace").GetString());
            Assert.EndsWith(@"exclude %ProgramData%\Microsoft\Crypto from scanning by the Microsoft Defender anti-virus.", defender.GetProperty("fix").GetProperty("summary").GetString());
            var script = Assert.Single(removed, f => f.GetProperty("subject").GetString() == otherKey);
            Assert.Contains(@"cmd.exe (PID 5150, WEB01\Administrator), a cmd.exe script or command (command line: cmd /c del /q C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\*), deleted", script.GetProperty("message").GetString());
        }
        finally
        {
            File.Delete(capture);
            File.Delete(zip);
        }
    }

    [Fact]
    public void AKeyFileThatIsThereAgainIsAWarning()
    {
        using var image = HealthyShop(out _, out var shopKey);
        var capture = SeedCaptures.Write("WEB01", [new() { Index = 0, ProcessId = 77, Name = "cleanup.exe" }],
            [new PmlEventToWrite { ProcessIndex = 0, Time = DateTime.UnixEpoch, Class = ProcmonEventClass.FileSystem, Operation = 26, SubOperation = 0xD, Delete = true, Path = shopKey }]);
        try
        {
            var finding = Assert.Single(Scan(image.Root, capture).Findings, f => f.Id == "KD6003");
            Assert.Equal(Severity.Warning, finding.Severity);
            Assert.EndsWith("a file of that name is there again (restored or re-created)", finding.Message);
            Assert.Empty(finding.Fix!.Commands);
        }
        finally
        {
            File.Delete(capture);
        }
    }

    [Theory]
    [InlineData("LogFileUTC64Registry.pml")]
    [InlineData("LogFileUTC32Filesystem.pml")]
    [InlineData("LogFileUTC64Process.pml")]
    [InlineData("LogFileUTC64Registry.csv")]
    [InlineData("LogFileUTC32Filesystem.csv")]
    [InlineData("LogFileUTC64Process.csv")]
    public void TheRealCapturesGiveNoFalseFinding(string capture)
    {
        var demo = Path.Combine(Fixtures.RepoRoot, "demo", "web01");
        var without = Scan(demo).Findings;
        var with = Scan(demo, ProcmonFixtures.Path(capture));
        Assert.DoesNotContain(with.Findings, f => f.Id.StartsWith("KD6", StringComparison.Ordinal));
        Assert.Equal(without.Select(f => (f.Id, f.Subject, f.Message)), with.Findings.Select(f => (f.Id, f.Subject, f.Message)));
        var trace = Assert.Single(with.State.Traces);
        Assert.True(trace.Story.EventsRead > 1000);
    }

    [Fact]
    public void ADamagedCaptureIsUsedUpToTheDamageAndSaidSo()
    {
        var source = File.ReadAllBytes(ProcmonFixtures.Path("LogFileUTC64Process.pml"));
        using (var reader = new PmlReader(new MemoryStream(source)))
        {
            var tenth = BitConverter.ToUInt32(source, (int)reader.Header.EventOffsetsOffset + (10 * 5));
            BitConverter.GetBytes(77u).CopyTo(source, tenth + 8);
        }
        var path = Path.Combine(Path.GetTempPath(), $"kd-corrupt-{Guid.NewGuid():N}.pml");
        File.WriteAllBytes(path, source);
        using var image = HealthyShop(out _, out _);
        try
        {
            var result = Scan(image.Root, path);
            Assert.Equal(10, Assert.Single(result.State.Traces).Story.EventsRead);
            var kd0001 = Assert.Single(result.Findings, f => f.Id == "KD0001" && f.Subject == $"the capture {path}");
            Assert.Contains("damaged at offset 0x", kd0001.Message);
            Assert.Contains("the 10 events before it were used", kd0001.Message);

            var missing = Cli.Run("scan", image.Root, "--trace", path + ".missing");
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains($"no such capture: {path}.missing", missing.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
