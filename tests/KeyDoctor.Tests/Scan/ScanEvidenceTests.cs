using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Machine;

namespace KeyDoctor.Tests.Scan;

public sealed class ScanEvidenceTests
{
    [Fact]
    public void KD4001_IisAdmin7024IsDecodedAndLinkedToTheIis6Container()
    {
        using var image = ScanImage.Healthy(out _);
        var (exchange, signature) = Iis.IisSamples.MetabaseKeys();
        var (sessionKey, secret) = Iis.IisSamples.MetabaseBlobs(exchange, signature);
        image.Put(@"Windows\System32\inetsrv\MetaBase.xml", Iis.IisSamples.Metabase(sessionKey, secret));
        var log = Path.Combine(image.Root, "Windows/System32/winevt/Logs/System.evtx");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        using (var output = File.Create(log))
            EvtxWriter.Write(output,
            [
                new EventToWrite
                {
                    Provider = "Service Control Manager", ProviderGuid = new Guid("555908d1-a6d7-4695-8e1e-26931d2012f4"),
                    EventSourceName = "Service Control Manager", EventId = 7024, Qualifiers = 49152, Level = 2,
                    TimeCreated = new DateTime(2026, 11, 20, 6, 0, 0, DateTimeKind.Utc), RecordId = 42, Computer = "WEB01", Channel = "System",
                    Data = [EventDataValue.String("param1", "IIS Admin Service"), EventDataValue.String("param2", "%%2148073478")],
                },
                new EventToWrite
                {
                    Provider = "Service Control Manager", EventId = 7024, Level = 2,
                    TimeCreated = new DateTime(2026, 11, 20, 6, 1, 0, DateTimeKind.Utc), RecordId = 43, Computer = "WEB01", Channel = "System",
                    Data = [EventDataValue.String("param1", "Print Spooler"), EventDataValue.String("param2", "%%5")],
                },
            ]);
        image.Build();
        using var source = MachineSource.Open(image.Root);
        var result = Scanner.Scan(source);
        var evidence = Assert.Single(result.Findings, f => f.Id == "KD4001"); // the spooler is not this tool's business
        Assert.Contains("0x80090006 NTE_BAD_SIGNATURE", evidence.Message);
        Assert.Equal(42ul, evidence.Evidence[0].RecordId);
        Assert.Equal(["KD1002"], evidence.CausedBy.Select(r => r.Id));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void KD1004_CompressedMachineKeysAndChangedAclFromABundle(bool broken)
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        var zip = image.Bundle(new BundleManifest
        {
            Directories =
            {
                new BundleEntry(WindowsPaths.MachineKeys)
                {
                    Attributes = broken ? NtfsAttributes.Compressed : NtfsAttributes.None,
                    // Windows' default, written the way Get-Acl prints it.
                    Sddl = broken ? "O:SYG:SYD:PAI(A;;FA;;;BA)(A;;FA;;;SY)" : "O:SYG:SYD:PAI(A;;0x12019f;;;S-1-1-0)(A;;0x1f01ff;;;S-1-5-32-544)",
                },
            },
        });
        try
        {
            using var source = MachineSource.Open(zip);
            var findings = Scanner.Scan(source).Findings.Where(f => f.Id == "KD1004").ToList();
            if (!broken)
            {
                Assert.Empty(findings);
                return;
            }
            Assert.Equal(2, findings.Count);
            Assert.Contains(findings, f => f.Message.Contains("compressed"));
            Assert.Contains(findings, f => f.Message.Contains("differ from Windows' default") && f.Fix!.Cmd!.Contains("icacls"));
            Assert.DoesNotContain(Scanner.Scan(source).Findings, f => f.Subject == "NTFS attributes and ACLs");
        }
        finally
        {
            File.Delete(zip);
        }
    }

    [Fact]
    public void ScanNeverWritesItsInput()
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        var before = Hashes(image.Root);
        Assert.Equal(0, Cli.Run("scan", image.Root).ExitCode);
        Assert.Equal(before, Hashes(image.Root));
    }

    private static Dictionary<string, string> Hashes(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(root, f),
            f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
}
