using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Evt;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Tests.Certificates;

namespace KeyDoctor.Tests.Scan;

/// <summary>The causes issue 25 found missing or wrong: each scenario as an administrator meets it.</summary>
public sealed class CauseTests
{
    private const string AliceSid = "S-1-5-21-1004336348-1177238915-682003330-1001";

    /// <summary>The master key the sample DPAPI blob of <see cref="ScanImage"/>'s key files names.</summary>
    private const string SampleMasterKey = "1eccdbd2-4771-4360-8b19-9d6060a061dc";

    private static ScanResult Scan(ScanImage image)
    {
        image.Build();
        using var source = MachineSource.Open(image.Root);
        return Scanner.Scan(source);
    }

    private static ScanResult Scan(string root)
    {
        using var source = MachineSource.Open(root);
        return Scanner.Scan(source);
    }

    // --- Server 2003 / IIS 6 layout, .Evt logs

    [Fact]
    public void AServer2003LayoutOfTheDemoScansLikeTheDemo()
    {
        var copy = Directory.CreateTempSubdirectory("kd-demo2003-").FullName;
        try
        {
            CopyDirectory(Path.Combine(Fixtures.RepoRoot, "demo", "web01"), copy);
            // NT 5: machine keys under All Users\Application Data, the System log as SysEvent.Evt in system32\config.
            var allUsers = Path.Combine(copy, "Documents and Settings", "All Users", "Application Data");
            Directory.CreateDirectory(allUsers);
            Directory.Move(Path.Combine(copy, "ProgramData", "Microsoft"), Path.Combine(allUsers, "Microsoft"));
            Directory.Delete(Path.Combine(copy, "ProgramData"), recursive: true);
            var evtx = Path.Combine(copy, "Windows", "System32", "winevt", "Logs", "System.evtx");
            var config = Path.Combine(copy, "Windows", "System32", "config");
            Directory.CreateDirectory(config);
            File.WriteAllBytes(Path.Combine(config, "SysEvent.Evt"), EvtFrom(evtx));
            Directory.Delete(Path.Combine(copy, "Windows", "System32", "winevt"), recursive: true);

            var demo = Scan(Path.Combine(Fixtures.RepoRoot, "demo", "web01"));
            var legacy = Scan(copy);
            Assert.Equal(WindowsLayout.Legacy, legacy.State.Layout);
            Assert.Equal(Tally(demo), Tally(legacy));
            Assert.DoesNotContain(legacy.Findings, f => f.Id == "KD0001" && f.Subject.Contains("MachineKeys", StringComparison.Ordinal));
            Assert.Contains(legacy.Findings, f => f.Id == "KD4001" && f.Subject.EndsWith("SysEvent.Evt#" + f.Subject.Split('#')[1], StringComparison.Ordinal)
                                                  && f.CausedBy.Any(r => r.Id == "KD1002"));
            Assert.All(legacy.Findings.SelectMany(f => f.Evidence).Where(e => e.Location?.Contains("MachineKeys", StringComparison.Ordinal) == true),
                e => Assert.StartsWith(@"Documents and Settings\All Users\Application Data", e.Location));

            // The plan's steps (KD1001 accepted: the IIS key set is re-created in MachineKeys) name the layout's key
            // folder, never Vista's %ProgramData%, which does not exist on Server 2003.
            using (var source = MachineSource.Open(copy))
            {
                var plan = KeyDoctor.Repair.RepairPlanner.Plan(Scanner.Scan(source), new KeyDoctor.Repair.RepairPlanOptions { Accepted = new HashSet<string> { "KD1001" } });
                var json = System.Text.Json.JsonSerializer.Serialize(plan, KeyDoctor.Repair.RepairJson.Context.RepairPlan);
                Assert.Contains(@"Documents and Settings\\All Users\\Application Data\\Microsoft\\Crypto\\RSA\\MachineKeys", json);
                Assert.DoesNotContain("ProgramData", json);
            }
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static string Tally(ScanResult result) =>
        string.Join(" ", result.Findings.Where(f => f.Id != "KD0001").GroupBy(f => (f.Id, f.Severity)).OrderBy(g => g.Key.Id, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Severity).Select(g => $"{g.Key.Id}/{g.Key.Severity}x{g.Count()}"));

    /// <summary>The events of an EVTX file as a Server 2003 .Evt log holds them (insertion strings, binary data).</summary>
    private static byte[] EvtFrom(string evtxPath)
    {
        using var reader = EvtxReader.Open(evtxPath);
        var records = new List<EvtRecordToWrite>();
        foreach (var result in reader.ReadRecords())
            if (result.Record is { } record)
                records.Add(new EvtRecordToWrite
                {
                    RecordNumber = (uint)records.Count + 1,
                    TimeGenerated = record.TimeCreated ?? DateTime.UnixEpoch,
                    EventIdentifier = ((uint)(record.Qualifiers ?? 0) << 16) | (uint)record.EventId,
                    EventType = EvtEventType.Error,
                    SourceName = record.Provider ?? "Service Control Manager",
                    ComputerName = "WEB01",
                    Strings = record.Data.Where(d => d.Name != "Binary").Select(d => d.Value).ToList(),
                    Data = record.Data.FirstOrDefault(d => d.Name == "Binary").Value is { Length: > 0 } hex ? Convert.FromHexString(hex) : [],
                });
        return EvtWriter.Write(records, 64 * 1024);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    // --- non-English 7024, WAS

    private static EvtRecordToWrite Event(uint number, uint identifier, string source, string[] strings, byte[]? data = null) => new()
    {
        RecordNumber = number,
        TimeGenerated = new DateTime(2025, 3, 1, 8, 0, 0, DateTimeKind.Utc).AddMinutes(number),
        EventIdentifier = identifier,
        EventType = EvtEventType.Error,
        SourceName = source,
        ComputerName = "WEB01",
        Strings = strings,
        Data = data ?? [],
    };

    [Fact]
    public void AGermanServersIisAdminFailureIsRecognisedByItsServiceKeyNameAndLinkedToTheContainer()
    {
        using var image = ScanImage.Healthy(out _);
        image.Metabase();
        image.Put(@"Windows\System32\config\SysEvent.Evt", EvtWriter.Write(
        [
            // "Der Dienst "IIS-Verwaltungsdienst" wurde mit folgendem dienstspezifischem Fehler beendet: %%-2146893818."
            Event(1, 0xC0001B70, "Service Control Manager", ["IIS-Verwaltungsdienst", "%%2148073478"], Encoding.Unicode.GetBytes("IISADMIN\0")),
            // A service of no interest failing with a non-crypto error stays out.
            Event(2, 0xC0001B70, "Service Control Manager", ["Druckwarteschlange", "%%5"], Encoding.Unicode.GetBytes("Spooler\0")),
        ], 8192));
        var events = Scan(image).Findings.Where(f => f.Id == "KD4001").ToList();
        var finding = Assert.Single(events);
        Assert.Equal("IISADMIN", finding.Properties["service"]);
        Assert.Contains("0x80090006", finding.Message);
        Assert.Contains(finding.CausedBy, r => r.Id == "KD1002");
    }

    [Fact]
    public void A7024WithACryptoErrorIsKeptWhateverTheServiceIsCalled()
    {
        using var image = ScanImage.Healthy(out _);
        image.Put(@"Windows\System32\config\SysEvent.Evt", EvtWriter.Write(
            [Event(1, 0xC0001B70, "Service Control Manager", ["Service d'administration IIS", "%%2148073483"])], 8192));
        var finding = Assert.Single(Scan(image).Findings, f => f.Id == "KD4001");
        Assert.Contains("0x8009000B", finding.Message);
    }

    [Fact]
    public void WasEventsForAnApplicationPoolAreRead()
    {
        using var image = ScanImage.Healthy(out _);
        image.Put(@"Windows\System32\config\SysEvent.Evt", EvtWriter.Write(
        [
            Event(1, 0xC00013C1, "WAS", ["Shop", "0x8009000B"]), // 5057: identity invalid
            Event(2, 0xC00013C3, "WAS", ["Shop"]),               // 5059: disabled after failures
        ], 8192));
        var events = Scan(image).Findings.Where(f => f.Id == "KD4001").ToList();
        Assert.Contains(events, f => f.Properties["eventId"] == "5057" && f.Message.Contains("application pool Shop", StringComparison.Ordinal));
        Assert.Contains(events, f => f.Properties["eventId"] == "5059");
    }

    // --- DPAPI master keys

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void KD1005_AKeyFilesMasterKeyMustBeInTheSystemsProtectFolder(bool present)
    {
        using var image = ScanImage.Healthy(out _);
        var folder = @"Windows\System32\Microsoft\Protect\S-1-5-18\User";
        image.Put($@"{folder}\{(present ? SampleMasterKey : "00000000-1111-2222-3333-444444444444")}",
            Fixtures.Bytes($"keys/mimikatz-wiki/{SampleMasterKey}"));
        var findings = Scan(image).Findings.Where(f => f.Id == "KD1005").ToList();
        if (present)
        {
            Assert.Empty(findings);
            return;
        }
        var finding = Assert.Single(findings);
        Assert.Equal(SampleMasterKey, finding.Properties["masterKey"]);
        Assert.Equal("missing", finding.Properties["state"]);
        Assert.Equal(Severity.Error, finding.Severity); // a bound certificate's key depends on it
        Assert.Contains(SampleMasterKey, finding.Fix!.Cmd);
    }

    // --- the IIS 6 container re-created by IISADMIN

    [Fact]
    public void KD1002_AContainerThatIsNotTheMetabasesKeyIsCritical()
    {
        using var image = ScanImage.Healthy(out _);
        var (_, signature) = image.Metabase();
        // IISADMIN found no container and made a new one: it parses, has both keys, and holds other keys.
        using var recreated = RSA.Create(512);
        image.KeyFile("Microsoft Internet Information Server", recreated, spec: KeySpec.Signature);
        var finding = Assert.Single(Scan(image).Findings, f => f.Id == "KD1002");
        Assert.Equal(Severity.Critical, finding.Severity);
        Assert.Contains("exists but is not the key that protects this metabase", finding.Message);
        Assert.True(finding.Properties.ContainsKey("replaceProof"));

        image.KeyFile("Microsoft Internet Information Server", signature, spec: KeySpec.Signature);
        Assert.DoesNotContain(Scan(image).Findings, f => f.Id == "KD1002");
    }

    // --- keys outside the machine store

    [Fact]
    public void KD2002_AKeyLinkWithoutTheMachineFlagWhoseProfileIsGoneIsAUserKeyNotADeletedOne()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=shop.example.com", "{dragged-key}", keyFile: false, machineKeySet: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        image.ProfileListEntry(AliceSid, @"C:\Documents and Settings\alice");
        var findings = Scan(image).Findings;
        Assert.DoesNotContain(findings, f => f.Id == "KD2008");
        var finding = Assert.Single(findings, f => f.Id == "KD2002");
        Assert.Equal(AliceSid, finding.Properties["userSid"]);
        Assert.Equal("true", finding.Properties["profileAbsent"]);
        Assert.Contains("recover", finding.Fix!.Cmd);
        Assert.DoesNotContain("-user -exportpfx", finding.Fix.Cmd); // the certificate is not assumed in CurrentUser\My
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KD2002_TheKeyIsFoundInTheUsersProfileOnEveryLayout(bool server2003)
    {
        using var image = new ScanImage();
        var (certificate, key) = image.Certificate("CN=shop.example.com", "{dragged-key}", keyFile: false, machineKeySet: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        var profile = server2003 ? @"Documents and Settings\alice\Application Data" : @"Users\alice\AppData\Roaming";
        var keyFile = image.KeyFileAt($@"{profile}\Microsoft\Crypto\RSA\{AliceSid}\{ContainerName.CapiPrefix("{dragged-key}")}_{ScanImage.Guid}", "{dragged-key}", key);
        image.Build();
        if (server2003)
        {
            var allUsers = Path.Combine(image.Root, "Documents and Settings", "All Users", "Application Data");
            Directory.CreateDirectory(allUsers);
            Directory.Move(Path.Combine(image.Root, "ProgramData", "Microsoft"), Path.Combine(allUsers, "Microsoft"));
        }
        var findings = Scan(image.Root).Findings;
        var finding = Assert.Single(findings, f => f.Id == "KD2002");
        Assert.Equal(AliceSid, finding.Properties["userSid"]);
        Assert.EndsWith(Path.GetFileName(keyFile), finding.Properties["keyFile"]);
        Assert.StartsWith(profile.Split('\\')[0], finding.Properties["keyFile"]);
        Assert.Contains("-repairstore", finding.Fix!.Cmd); // linked to the user's key by its public key, wherever the certificate is
        Assert.DoesNotContain(findings, f => f.Id == "KD2008");
    }

    [Fact]
    public void KD2012_AKeyInLocalSystemsOwnStoreIsFoundAndNamed()
    {
        using var image = new ScanImage();
        var (certificate, key) = image.Certificate("CN=shop.example.com", "system-key", keyFile: false, machineKeySet: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        image.KeyFileAt($@"ProgramData\Microsoft\Crypto\RSA\S-1-5-18\{ContainerName.CapiPrefix("system-key")}_{ScanImage.Guid}", "system-key", key);
        var findings = Scan(image).Findings;
        var finding = Assert.Single(findings, f => f.Id == "KD2012");
        Assert.Equal(Severity.Warning, finding.Severity); // HTTP.sys (SYSTEM) still opens it
        Assert.Contains(@"RSA\S-1-5-18", finding.Message);
        Assert.DoesNotContain(findings, f => f.Id is "KD2008" or "KD2002");
    }

    [Fact]
    public void KD2014_AKeyHeldByTheTpmIsNotAMissingKeyFile()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=shop.example.com", "tpm-key", keyFile: false, provider: "Microsoft Platform Crypto Provider");
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        var findings = Scan(image).Findings;
        Assert.DoesNotContain(findings, f => f.Id == "KD2008");
        var finding = Assert.Single(findings, f => f.Id == "KD2014");
        Assert.DoesNotContain("importpfx", finding.Fix!.Cmd);
    }

    // --- a renewed certificate still bound

    [Fact]
    public void KD2013_TheRenewalPropertyNamesTheSuccessorAndTheFixBindsIt()
    {
        using var image = new ScanImage();
        var (successor, _) = image.Certificate("CN=shop.example.com", "new-key");
        var renewal = CertificateBlobBuilder.Property(64, Convert.FromHexString(successor.Thumbprint)); // CERT_RENEWAL_PROP_ID
        var (old, _) = image.Certificate("CN=shop.example.com", "old-key", moreProperties: [renewal]);
        image.HttpSysBinding("0.0.0.0:443", old.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        var finding = Assert.Single(Scan(image).Findings, f => f.Id == "KD2013");
        Assert.Contains(successor.Thumbprint, finding.Message);
        Assert.Contains("netsh http update sslcert", finding.Fix!.Cmd);
        Assert.Contains(successor.Thumbprint.ToLowerInvariant(), finding.Fix.Cmd!.ToLowerInvariant());
    }

    // --- KD2003's fix

    [Fact]
    public void KD2003_TheFixOffersReissueAndRecoverNotOnlyAPfx()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=shop.example.com", "sig-key", keySpec: 2);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        var finding = Assert.Single(Scan(image).Findings, f => f.Id == "KD2003");
        Assert.Contains("keydoctor recover", finding.Fix!.Cmd);
        Assert.Contains("re-issue", finding.Fix.Summary, StringComparison.OrdinalIgnoreCase);
    }

    // --- per-key-file ACLs

    [Theory]
    [InlineData("O:BAG:SYD:(A;;FA;;;SY)(A;;FA;;;BA)", null)]
    [InlineData("O:BAG:SYD:(A;;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)", "S-1-5-18")]
    public void KD1006_AKeyFileSystemCannotReadIsAnError(string sddl, string? missing)
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        var keyFile = Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys")).Single();
        var zip = image.Bundle(new BundleManifest
        {
            Files = { new BundleEntry(WindowsPaths.Combine(WindowsPaths.MachineKeys, Path.GetFileName(keyFile))) { Sddl = sddl } },
        });
        try
        {
            using var source = MachineSource.Open(zip);
            var findings = Scanner.Scan(source).Findings.Where(f => f.Id == "KD1006").ToList();
            if (missing is null)
            {
                Assert.Empty(findings);
                return;
            }
            var finding = Assert.Single(findings);
            Assert.Equal(Severity.Error, finding.Severity);
            Assert.Contains(missing, finding.Properties["accounts"]);
            Assert.Contains($"*{missing}:(F)", finding.Fix!.Cmd);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    // --- KD1001 after the carry-forward

    [Fact]
    public void KD1001_KeysCarriedForwardToTheOriginalGuidAreNoEvidenceOfAChange()
    {
        using var image = ScanImage.Healthy(out _);
        // KD1001's repair: each key made under the other GUID copied to this GUID's name, the originals kept until reboot.
        for (var i = 0; i < 5; i++)
        {
            using var rsa = RSA.Create(1024);
            image.KeyFile($"key-{i}", rsa, ScanImage.OldGuid);
            image.KeyFile($"key-{i}", rsa);
        }
        Assert.DoesNotContain(Scan(image).Findings, f => f.Id == "KD1001");
        // Without their twins they are evidence again.
        for (var i = 0; i < 5; i++)
            File.Delete(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", $"{ContainerName.CapiPrefix($"key-{i}")}_{ScanImage.Guid}"));
        Assert.Contains(Scan(image).Findings, f => f.Id == "KD1001");
    }

    // --- Central Certificate Store

    [Theory]
    [InlineData(null, "the provider is not configured")]
    [InlineData(2048, null)]
    [InlineData(1024, "was not encrypted with this server's 1024-bit iisWasKey")]
    public void KD3010_TheCentralCertificateStoreMustBeOnAndItsSecretsMadeWithThisServersKey(int? wasKeyBits, string? expected)
    {
        using var image = new ScanImage { SslFlags = "2" };
        image.Site("Shop", 1, "*:443:shop.example.com");
        if (wasKeyBits is { } bits)
        {
            using var wasKey = RSA.Create(bits);
            image.KeyFile("iisWasKey", wasKey);
            var secret = string.Join(",", Enumerable.Repeat("5a", 256)); // a 2048-bit RSA ciphertext
            image.Registry($$"""
                [HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\IIS\CentralCertProvider]
                "Enabled"=dword:00000001
                "CertStoreLocation"="\\\\files\\certs"
                "UserName"="CONTOSO\\ccs-reader"
                "Password"=hex:{{secret}}
                "PrivateKeyPassword"=hex:{{secret}}
                """.ReplaceLineEndings("\r\n"));
        }
        var findings = Scan(image).Findings.Where(f => f.Id == "KD3010").ToList();
        if (expected is null)
        {
            Assert.Empty(findings);
            return;
        }
        var finding = Assert.Single(findings);
        Assert.Contains(expected, finding.Message);
        Assert.Contains("Read-Host -AsSecureString", finding.Fix!.Cmd);
        Assert.DoesNotContain(finding.Evidence, e => e.Value?.Contains("5a5a", StringComparison.OrdinalIgnoreCase) == true);
    }
}
