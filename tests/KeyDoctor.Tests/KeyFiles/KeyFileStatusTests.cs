using KeyDoctor.Formats;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Tests.KeyFiles;

/// <summary>Every integrity status, each on the real files or a file derived from one (written to a temp folder).</summary>
public class KeyFileStatusTests
{
    private static readonly Guid RealGuid = Guid.Parse("4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
    private static readonly Guid OtherGuid = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private const string RealPrefix = "79e1ac78150e8bea8ad238e14d63145b";
    private const string IisPrefix = "c2319c42033a5ca7f44e731bfd3fa2b5";

    private static byte[] Capi() => KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);

    private static KeyFileReport Inspect(string name, byte[] data, Guid? machineGuid = null, KeyProviderKind? hint = null) =>
        KeyFileInspector.Inspect(name, data, data.Length, hint, machineGuid).Report;

    private static KeyFileProblem Only(KeyFileReport report, KeyFileStatus status)
    {
        var problem = Assert.Single(report.Problems);
        Assert.Equal(status, problem.Status);
        Assert.Equal(status, report.Status);
        return problem;
    }

    [Fact]
    public void RealFilesAreOk()
    {
        var capi = Inspect(KeyFixtures.MimikatzCapiName, Capi(), RealGuid);
        Assert.Equal(KeyFileStatus.Ok, capi.Status);
        Assert.Empty(capi.Problems);
        Assert.Equal(KeyProviderKind.Capi, capi.Kind);
        Assert.Equal("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", capi.Container);
        Assert.Equal([KeySpec.KeyExchange], capi.KeySpecs);
        Assert.Equal(2048, capi.KeyBits);
        Assert.Equal(65537ul, capi.Exponent);
        Assert.Equal(KeyFixtures.MimikatzSpkiSha256, capi.PublicKeySha256);
        Assert.Equal([Guid.Parse("1eccdbd2-4771-4360-8b19-9d6060a061dc")], capi.MasterKeyGuids);

        var chrome = Inspect(KeyFixtures.ChromeCngName, KeyFixtures.Bytes(KeyFixtures.ChromeCng),
            Guid.Parse("f26c165b-53c8-414e-8abb-ec5f0f52df22"));
        Assert.Equal(KeyFileStatus.Ok, chrome.Status);
        Assert.Equal(KeyProviderKind.Cng, chrome.Kind);
        Assert.Equal("Google Chromekey1", chrome.Container);
        Assert.Equal("Google Chromekey1", chrome.WellKnown!.Name);
        Assert.Empty(chrome.KeySpecs);
        Assert.Null(chrome.KeyBits);
        Assert.Equal([Guid.Parse("fb1190c1-123d-45f8-95f4-32aee28fe2eb")], chrome.MasterKeyGuids);

        var ecdsa = Inspect(KeyFixtures.EcdsaCngName, KeyFixtures.Bytes(KeyFixtures.EcdsaCng));
        Assert.Equal(KeyFileStatus.Ok, ecdsa.Status);
        Assert.Equal("ECDSA_P256", ecdsa.Algorithm);
        Assert.Equal(256, ecdsa.KeyBits);
        Assert.Equal(KeyFixtures.EcdsaSpkiSha256, ecdsa.PublicKeySha256);
    }

    [Fact]
    public void ZeroLengthFileIsStillNamedFromItsPrefix()
    {
        var report = Inspect($"{IisPrefix}_{RealGuid}", [], hint: KeyProviderKind.Capi);
        Assert.Equal("0 bytes", Only(report, KeyFileStatus.ZeroLength).Evidence);
        Assert.Equal("Microsoft Internet Information Server", report.WellKnown!.Name);
        Assert.Equal("zero-length", KeyFileStatusNames.Of(report.Status));
    }

    [Fact]
    public void TruncatedFileKeepsItsContainerName()
    {
        var report = Inspect(KeyFixtures.MimikatzCapiName, Capi()[..2000]);
        var problem = Only(report, KeyFileStatus.Truncated);
        Assert.Equal("header declares 2247 bytes, the file has 2000 (ends 0xF7 bytes short, at 0x7D0)", problem.Evidence);
        Assert.Equal("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", report.Container);

        var shortHeader = Inspect(KeyFixtures.MimikatzCapiName, Capi()[..20]);
        Assert.Equal("20 bytes, the CAPI header alone is 40", Only(shortHeader, KeyFileStatus.Truncated).Evidence);

        var cng = Inspect(KeyFixtures.ChromeCngName, KeyFixtures.Bytes(KeyFixtures.ChromeCng)[..900]);
        Assert.Equal("header declares 960 bytes, the file has 900 (ends 0x3C bytes short, at 0x384)",
            Only(cng, KeyFileStatus.Truncated).Evidence);
        Assert.Equal("Google Chromekey1", cng.Container);
    }

    [Fact]
    public void OtherContentIsNotAKeyFile()
    {
        var text = Inspect($"{RealPrefix}_{RealGuid}", "hello, world"u8.ToArray());
        Assert.Equal("first DWORD 0x6C6C6568 at 0x0 is neither 2 (CAPI) nor 1 (CNG)", Only(text, KeyFileStatus.NotAKeyFile).Evidence);

        var masterKey = Inspect("dd26f81a-4ed9-49fd-8b45-42723d8ae006", KeyFixtures.Bytes("keys/nemesis/masterkey_system.bin"),
            hint: KeyProviderKind.Capi);
        Assert.StartsWith("a DPAPI master-key file (dd26f81a-4ed9-49fd-8b45-42723d8ae006), not a key file; CAPI header:",
            Only(masterKey, KeyFileStatus.NotAKeyFile).Evidence);
        var blob = Inspect("blob.bin", KeyFixtures.Bytes("keys/nemesis/dpapi_blob.bin"));
        Assert.StartsWith("a bare DPAPI blob, not a key file;", Only(blob, KeyFileStatus.NotAKeyFile).Evidence);
        Assert.Null(blob.Kind);

        var bytes = Capi();
        bytes[8] = 0; bytes[9] = 0x10; bytes[10] = 0x10; // name length 0x00101000
        var header = Inspect(KeyFixtures.MimikatzCapiName, bytes);
        Assert.Equal("CAPI header: name length 1052672 at 0x8 is not plausible", Only(header, KeyFileStatus.NotAKeyFile).Evidence);
    }

    [Fact]
    public void BrokenPrivateKeyBlobIsDpapiBlobMalformed()
    {
        var bytes = Capi();
        bytes[0x17D + 4] ^= 0xFF; // first byte of the provider GUID
        var report = Inspect(KeyFixtures.MimikatzCapiName, bytes);
        var problem = Only(report, KeyFileStatus.DpapiBlobMalformed);
        Assert.StartsWith("PrivateKeyBlob (KeyExchange) at 0x17D (1614 bytes): provider", problem.Evidence);
        Assert.EndsWith("(at 0x181)", problem.Evidence);
        // The clear-text part is still reported.
        Assert.Equal(2048, report.KeyBits);

        var cng = KeyFixtures.Bytes(KeyFixtures.ChromeCng);
        cng[0x2A4 + 0xA5] = 0xFF; // cipher-text length (at 0x348) of the private-key blob: 0xFF30, far past the end
        var cngReport = Inspect(KeyFixtures.ChromeCngName, cng);
        Assert.Equal("PrivateKeyBlob at 0x2A4 (284 bytes): cipher text length 65328 exceeds the 116 bytes left (at 0x348)",
            Only(cngReport, KeyFileStatus.DpapiBlobMalformed).Evidence);
    }

    [Fact]
    public void BrokenPublicKeyIsPublicKeyMalformed()
    {
        var bytes = Capi();
        bytes[0x61] = (byte)'X'; // 'RSA1' -> 'XSA1'
        var report = Inspect(KeyFixtures.MimikatzCapiName, bytes);
        Assert.Equal("PublicKey (KeyExchange) at 0x61 (284 bytes): magic 0x31415358 is not 'RSA1' (at 0x61)",
            Only(report, KeyFileStatus.PublicKeyMalformed).Evidence);
        Assert.Null(report.PublicKeySha256);
        Assert.Equal([Guid.Parse("1eccdbd2-4771-4360-8b19-9d6060a061dc")], report.MasterKeyGuids);
    }

    [Fact]
    public void BytesAfterTheLastSectionAreTrailingData()
    {
        var bytes = Capi().Concat(new byte[10]).ToArray();
        Assert.Equal("10 bytes after the last declared section, from 0x8C7 to 0x8D1",
            Only(Inspect(KeyFixtures.MimikatzCapiName, bytes), KeyFileStatus.TrailingData).Evidence);
    }

    [Fact]
    public void ContentUnderAnotherContainersNameIsNameMismatch()
    {
        var report = Inspect($"{IisPrefix}_{RealGuid}", Capi());
        Assert.Equal($"stored name 'ffb75517-bc6c-4a40-8f8b-e2c555e30e34' at 0x28 hashes to {RealPrefix}, the file name has {IisPrefix}",
            Only(report, KeyFileStatus.NameMismatch).Evidence);
        Assert.Equal("Microsoft Internet Information Server", report.WellKnown!.Name);

        var renamed = Inspect("backup-copy.key", Capi());
        Assert.Contains("file name is not <32 hex>_<GUID>", Only(renamed, KeyFileStatus.NameMismatch).Evidence);
    }

    [Fact]
    public void SuffixOtherThanTheMachineGuidIsGuidMismatch()
    {
        var report = Inspect(KeyFixtures.MimikatzCapiName, Capi(), OtherGuid);
        Assert.Equal($"file-name suffix {RealGuid}, MachineGuid {OtherGuid}", Only(report, KeyFileStatus.GuidMismatch).Evidence);
    }

    [Fact]
    public void ScanFlagsEveryStatusInOneFolderAndTheDuplicates()
    {
        using var folder = new KeyFixtures.TempFolder();
        var machineKeys = Path.Combine(folder.Path, "MachineKeys");
        string Write(string name, byte[] data) => folder.Write(Path.Combine("MachineKeys", name), data);
        Write(KeyFixtures.MimikatzCapiName, Capi());
        Write($"{RealPrefix}_{OtherGuid}", Capi()); // same container under a second GUID
        Write($"{IisPrefix}_{RealGuid}", []);
        Write($"d6d986f09a1ee04e24c949879fdb506c_{RealGuid}", Capi()[..1000]);
        Write("not-a-key.txt", "hello, world"u8.ToArray());

        var tally = PrefixTally.Build(machineKeys);
        Assert.Equal(5, tally.FileCount);
        Assert.Equal(3, tally.PrefixCount);
        Assert.Equal(1, tally.RepeatedPrefixCount);

        var reports = KeyStoreScanner.Scan(KeyStoreFolder.Locate(machineKeys).Single(),
                new KeyStoreScanOptions { MachineGuid = RealGuid, Workers = 2, QueueCapacity = 2 })
            .ToDictionary(r => r.FileName);
        Assert.Equal(5, reports.Count);

        var original = reports[KeyFixtures.MimikatzCapiName];
        Assert.Equal(KeyFileStatus.DuplicateContainer, original.Status);
        Assert.Equal($"prefix {RealPrefix} exists under 2 GUIDs; also under {OtherGuid}", Assert.Single(original.Problems).Evidence);
        Assert.True(original.ModifiedUtc > DateTime.UtcNow.AddHours(-1));
        Assert.Equal(2247, original.Size);

        var copy = reports[$"{RealPrefix}_{OtherGuid}"];
        Assert.Equal([KeyFileStatus.GuidMismatch, KeyFileStatus.DuplicateContainer], copy.Problems.Select(p => p.Status));
        Assert.Equal(KeyFileStatus.GuidMismatch, copy.Status);
        Assert.Equal($"prefix {RealPrefix} exists under 2 GUIDs; also under {RealGuid}", copy.Problems[1].Evidence);

        Assert.Equal(KeyFileStatus.ZeroLength, reports[$"{IisPrefix}_{RealGuid}"].Status);
        var truncated = reports[$"d6d986f09a1ee04e24c949879fdb506c_{RealGuid}"];
        Assert.Equal([KeyFileStatus.Truncated, KeyFileStatus.NameMismatch], truncated.Problems.Select(p => p.Status));
        Assert.Equal("NetFrameworkConfigurationKey", truncated.WellKnown!.Name);
        Assert.Equal(KeyFileStatus.NotAKeyFile, reports["not-a-key.txt"].Status);
    }

    [Fact]
    public void UnreadableFileIsReportedNotThrown()
    {
        using var folder = new KeyFixtures.TempFolder();
        var link = Path.Combine(folder.Path, $"{RealPrefix}_{RealGuid}");
        File.CreateSymbolicLink(link, Path.Combine(folder.Path, "missing-target"));
        var report = KeyStoreScanner.ReadOne(link, new byte[KeyFileInspector.MaxKeyFileLength], KeyProviderKind.Capi, null, null);
        Assert.Equal(KeyFileStatus.Unreadable, report.Status);
    }

    [Fact]
    public void ImageRootLocatesTheKeyFoldersCaseInsensitively()
    {
        using var folder = new KeyFixtures.TempFolder();
        folder.Write(Path.Combine("programdata", "Microsoft", "crypto", "rsa", "MACHINEKEYS", KeyFixtures.MimikatzCapiName), Capi());
        folder.Write(Path.Combine("programdata", "Microsoft", "crypto", "Keys", KeyFixtures.ChromeCngName), KeyFixtures.Bytes(KeyFixtures.ChromeCng));
        var found = KeyStoreFolder.Locate(folder.Path);
        Assert.Equal(2, found.Count);
        Assert.EndsWith(Path.Combine("rsa", "MACHINEKEYS"), found[0].Path);
        Assert.Equal(KeyProviderKind.Capi, found[0].Kind);
        Assert.EndsWith(Path.Combine("crypto", "Keys"), found[1].Path);
        Assert.Equal(KeyProviderKind.Cng, found[1].Kind);
        Assert.Throws<KeyDoctor.Machine.InputPathException>(() => KeyStoreFolder.Locate(Path.Combine(folder.Path, "nope")));
    }

    [Fact]
    public void TruncatedAndBitFlippedCopiesNeverThrowAnythingElse()
    {
        foreach (var (name, original) in new[]
                 {
                     (KeyFixtures.MimikatzCapiName, Capi()),
                     (KeyFixtures.ChromeCngName, KeyFixtures.Bytes(KeyFixtures.ChromeCng)),
                     (KeyFixtures.EcdsaCngName, KeyFixtures.Bytes(KeyFixtures.EcdsaCng)),
                 })
        {
            for (var length = 0; length < original.Length; length += 7)
            {
                var report = Inspect(name, original[..length]);
                Assert.NotEqual(KeyFileStatus.Ok, report.Status);
            }
            var random = new Random(1234);
            for (var i = 0; i < 3000; i++)
            {
                var copy = (byte[])original.Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                Inspect(name, copy);
                foreach (var parse in new Action[] { () => CapiKeyFile.Parse(copy), () => CngKeyFile.Parse(copy) })
                {
                    try { parse(); }
                    catch (MalformedDataException) { }
                }
            }
        }
    }
}
