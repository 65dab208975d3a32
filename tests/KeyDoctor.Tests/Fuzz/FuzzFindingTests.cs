using System.IO.Compression;
using KeyDoctor.Formats;
using KeyDoctor.Machine;

namespace KeyDoctor.Tests.Fuzz;

/// <summary>
/// The inputs of ../shared/fixtures/fuzz-findings (issue 26) through the command line: each ends as exit 2 with one
/// sentence naming the file and the entry, never "internal error" or a temporary path.
/// </summary>
public class FuzzFindingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-fuzz-findings-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("nul-in-entry-name.zip", "entry 'a\\x00b' has a NUL or control character in its name")]
    [InlineData("eocd-count-mismatch.zip", "the central directory is damaged")]
    [InlineData("local-header-corrupt.zip", "entry 'a' is damaged")]
    [InlineData("corrupt-deflate-data.zip", "entry 'a' is damaged")]
    [InlineData("dup-key.zip", "1f9a0155a378ff0b6406f09cab8d07c1_e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90' appears twice in the archive")]
    [InlineData("file-then-dir.zip", "which is a file in the archive")]
    [InlineData("long-name.zip", "has a path component of 300 characters")]
    [InlineData("liar-small-declared.zip", "entry 'Windows/liar.bin' has CRC-32 0xE38A6876, its header says 0x0E9B9B34")]
    public void HostileBundleIsAnInputErrorNamingFileAndEntry(string file, string expected)
    {
        var path = Fixtures.Path("fuzz-findings/bundles/" + file);
        var result = Cli.Run("scan", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"keydoctor: cannot read {path} as bundle zip: ", result.Stderr);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("internal error", result.Stderr);
        // The extraction folder (under the temp folder) is never shown; the fixture itself may be anywhere, /tmp too.
        Assert.DoesNotContain(Path.Combine(Path.GetTempPath(), "keydoctor-"), result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void BombUnderTheEntryRatioIsRefusedByTheTotalRatio()
    {
        // Each entry expands about 190:1 (under the 1000:1 entry limit), the archive as a whole too: the shape of the
        // 11 MB bundle that inflated to 2 GiB, at a size a test can build.
        var zip = Path.Combine(_root, "bomb.zip");
        var random = new Random(5);
        var data = new byte[8 << 20];
        for (var i = 0; i < data.Length; i += 4096) data[i + random.Next(4096)] = (byte)random.Next(256);
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            for (var i = 0; i < 4; i++)
                using (var s = archive.CreateEntry($"Windows/System32/config/HIVE{i}", CompressionLevel.SmallestSize).Open())
                    s.Write(data);
        var ratio = 4.0 * data.Length / new FileInfo(zip).Length;
        Assert.InRange(ratio, ReaderLimits.BundleMaxTotalCompressionRatio, ReaderLimits.BundleMaxCompressionRatio);

        var ex = Assert.Throws<MalformedDataException>(() => SafeZipExtractor.Extract(zip, Path.Combine(_root, "out")));
        Assert.Contains("BundleMaxTotalCompressionRatio", ex.Reason);
        Assert.Equal(zip, ex.FilePath);
        Assert.False(Directory.Exists(Path.Combine(_root, "out", "Windows")), "nothing is written before the totals are checked");
    }

    private string WritePassword()
    {
        var path = Path.Combine(_root, "password.txt");
        File.WriteAllText(path, "pfx-password\n");
        return path;
    }

    [Fact]
    public void MaxBundleSizeOptionSetsTheTotalLimit()
    {
        var bundle = Fixtures.Path("fuzz-findings/bundles/dup-key.zip");
        var tooSmall = Cli.Run("scan", bundle, "--max-bundle-size", "64KB");
        Assert.Equal(2, tooSmall.ExitCode);
        Assert.Contains("hold more than 65536 bytes uncompressed (the limit; raise it with --max-bundle-size", tooSmall.Stderr);

        // With room enough, the same bundle gets as far as its next problem (the duplicated entry).
        var enough = Cli.Run("scan", bundle, "--max-bundle-size", "1GB");
        Assert.Contains("appears twice", enough.Stderr);

        var wrong = Cli.Run("scan", bundle, "--max-bundle-size", "lots");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("--max-bundle-size 'lots' is not a size", wrong.Stderr);

        // Every command that reads bundles takes it (repair's subcommands through repair), and only those show it.
        foreach (var args in new[] { new[] { "repair", "plan", bundle }, ["keys", "list", bundle], ["keys", "clean", bundle], ["recover", bundle, "--all", "-o", Path.Combine(_root, "r"), "--password-file", WritePassword()],
                     ["audit", "report", bundle], ["diff", bundle, bundle] })
            Assert.Contains("raise it with --max-bundle-size", Cli.Run([.. args, "--max-bundle-size", "64KB"]).Stderr);
        foreach (var command in new[] { "explain", "keys name", "reg dump", "metabase verify" })
            Assert.DoesNotContain("--max-bundle-size", Cli.Run([.. command.Split(' '), "--help"]).Stdout);
        foreach (var command in new[] { "repair apply", "trace", "farm", "events", "certs list", "certs show" })
            Assert.Contains("--max-bundle-size", Cli.Run([.. command.Split(' '), "--help"]).Stdout);
    }

    [Fact]
    public void DefaultTotalLimitIsWhatARealBundleNeeds()
    {
        // A few GB: hives, logs and key stores; the 64 GiB it used to be let an 11 MB archive write 2 GiB.
        Assert.Equal(4L << 30, SafeZipExtractor.Limits.Default.MaxTotalBytes);
        Assert.Equal(ReaderLimits.BundleDefaultMaxTotalBytes, MachineSource.BundleLimits.MaxTotalBytes);
    }
}

/// <summary>fuzz-findings/certs/cert-entry-bad-validity.bin: a .reg export holding a certificate whose validity field is damaged.</summary>
public class DamagedCertificateTests : IDisposable
{
    private const string Thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";
    private static string Export => Fixtures.Path("fuzz-findings/certs/cert-entry-bad-validity.bin");
    private readonly string _root = Directory.CreateTempSubdirectory("kd-bad-cert-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void EntryWithDamagedValidityHasNoCertificateAndSaysWhy()
    {
        var blob = KeyDoctor.Formats.Registry.RegExportReader.Parse(File.ReadAllBytes(Export))
            .OpenKey($@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SystemCertificates\MY\Certificates\{Thumbprint}")!.GetValue("Blob")!;
        var entry = KeyDoctor.Formats.Certificates.SerializedCertificateEntry.Parse(blob.Data.Span);
        Assert.Null(entry.Certificate);
        Assert.Contains("cannot be decoded", entry.CertificateError);
        Assert.NotNull(entry.KeyProviderInfo); // the rest of the entry is still read
    }

    [Fact]
    public void CertsCommandReportsTheCertificateAsUnreadable()
    {
        var list = Cli.Run("certs", "list", Export);
        Assert.Equal(1, list.ExitCode);
        Assert.Contains($@"MY\{Thumbprint}: certificate unreadable: its fields cannot be decoded", list.Stdout);
        // Asked for that one certificate, which cannot be decoded: what was read is shown, then exit 2 with a sentence
        // naming the certificate, its store, the file and the offset of the damaged property.
        var show = Cli.Run("certs", "show", Thumbprint, "--from", Export);
        Assert.Equal(2, show.ExitCode);
        Assert.DoesNotContain("internal error", show.Stderr);
        Assert.Contains("Key Container = le-7f3e2a6c", show.Stdout);
        Assert.StartsWith($@"keydoctor: certificate {Thumbprint} in LocalMachine\MY of {Export} cannot be decoded (property 32 at offset 0x", show.Stderr);
        Assert.Contains("export the store again from the server", show.Stderr);
    }

    [Fact]
    public void ScanReportsTheCertificateAsEvidenceItCouldNotRead()
    {
        var registry = Directory.CreateDirectory(Path.Combine(_root, "registry")).FullName;
        File.Copy(Export, Path.Combine(registry, "SOFTWARE.reg"));
        var result = Cli.Run("scan", _root, "--json");
        Assert.DoesNotContain("internal error", result.Stderr);
        Assert.Contains("KD0001", result.Stdout);
        Assert.Contains($@"certificate {Thumbprint} in LocalMachine\\MY could not be read: its fields cannot be decoded", result.Stdout);
    }
}

/// <summary>Issue 21 item 5: a file's problem is exit 2 and one sentence with the file, for every reader that takes a path.</summary>
public class FileErrorSentenceTests
{
    [Fact]
    public void EventsOnAFileThatIsNotEvtxNamesTheFile()
    {
        var path = Fixtures.Path("hives/ez/NotAHive");
        var result = Cli.Run("events", path);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"keydoctor: cannot read {path} as evtx: not an EVTX file", result.Stderr);
        Assert.DoesNotContain("internal error", result.Stderr);
    }

    [Fact]
    public void ReadersGivenAPathNameItInTheirError()
    {
        var notXml = Fixtures.Path("hives/ez/NotAHive");
        Assert.Equal(notXml, Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => KeyDoctor.Formats.Iis.ApplicationHostConfig.Read(notXml)).FilePath);
        Assert.Equal(notXml, Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => KeyDoctor.Formats.Iis.Metabase.MetabaseXml.Read(notXml)).FilePath);
        Assert.Equal(notXml, Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => KeyDoctor.Formats.Registry.RegistryHive.Open(notXml)).FilePath);
        Assert.Equal(notXml, Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => KeyDoctor.Formats.Registry.RegExportReader.Read(notXml)).FilePath);
        Assert.Equal(notXml, Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => KeyDoctor.Formats.Evtx.EvtxReader.Open(notXml)).FilePath);
    }
}
