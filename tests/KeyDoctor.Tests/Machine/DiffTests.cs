using System.IO.Compression;
using System.Text.Json;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Diff;

namespace KeyDoctor.Tests.Machine;

public sealed class DiffTests : IDisposable
{
    private const string OldGuid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    private const string NewGuid = "11111111-2222-3333-4444-555555555555";
    private readonly string _root = Directory.CreateTempSubdirectory("kd-diff-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Image(string name, string guid, bool httpSysBinding, string encryptedPassword, bool secondBinding)
    {
        var image = Path.Combine(_root, name);
        void Put(string relative, string text)
        {
            var path = Path.Combine(image, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        var iis = ContainerName.CapiPrefix("Microsoft Internet Information Server");
        var machineKeys = Path.Combine(image, "ProgramData/Microsoft/Crypto/RSA/MachineKeys");
        Directory.CreateDirectory(machineKeys);
        File.Copy(Fixtures.Path("keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b"),
            Path.Combine(machineKeys, $"{iis}_{guid}"));
        Put("registry/machine.reg",
            "Windows Registry Editor Version 5.00\r\n\r\n" +
            $"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n\"MachineGuid\"=\"{guid}\"\r\n\r\n" +
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000001\r\n\r\n" +
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo]\r\n\r\n" +
            (httpSysBinding
                ? "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo\\0.0.0.0:443]\r\n\"SslCertHash\"=hex:01,02\r\n\r\n"
                : ""));
        Put("Windows/System32/inetsrv/config/applicationHost.config", $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <configuration><system.applicationHost>
              <applicationPools><add name="Shop"><processModel userName="shop" password="[enc:AesProvider:{encryptedPassword}:enc]" /></add></applicationPools>
              <sites><site name="Shop" id="1"><bindings>
                <binding protocol="https" bindingInformation="*:443:" sslFlags="0" />
                {(secondBinding ? "<binding protocol=\"http\" bindingInformation=\"*:80:\" />" : "")}
              </bindings></site></sites>
            </system.applicationHost></configuration>
            """);
        return image;
    }

    [Fact]
    public void ReportsWhatBrokeAcrossAPatchAndMasksSecrets()
    {
        var before = Image("before", OldGuid, httpSysBinding: true, "b2xkc2VjcmV0b2xkc2VjcmV0", secondBinding: true);
        var after = Image("after", NewGuid, httpSysBinding: false, "bmV3c2VjcmV0bmV3c2VjcmV0", secondBinding: false);
        using var a = MachineSource.Open(before);
        using var b = MachineSource.Open(after);
        var changes = MachineDiff.Compare(a, b);

        var recreated = Assert.Single(changes, c => c.Change == "re-created under another GUID");
        Assert.Contains("Microsoft Internet Information Server", recreated.Subject);
        Assert.EndsWith(NewGuid, recreated.After);
        Assert.Contains(changes, c => c is { Area: "MachineGuid", Before: OldGuid, After: NewGuid, Matters: true });
        Assert.Contains(changes, c => c is { Area: "HTTP.sys bindings", Change: "removed", Matters: true } && c.Subject.Contains("0.0.0.0:443"));
        Assert.Contains(changes, c => c is { Area: "IIS bindings", Change: "removed" } && c.Subject == "Shop: http *:80:");
        Assert.Contains(changes, c => c is { Area: "configuration", Change: "modified" } && c.Subject.Contains("system.applicationHost/applicationPools"));

        var cli = Cli.Run("diff", before, after, "--json", "--all");
        Assert.Equal(1, cli.ExitCode);
        Assert.DoesNotContain("b2xkc2VjcmV0", cli.Stdout); // encrypted values never appear, even as ciphertext
        Assert.DoesNotContain("bmV3c2VjcmV0", cli.Stdout);
        using var json = JsonDocument.Parse(cli.Stdout);
        Assert.True(json.RootElement.GetProperty("changes").GetArrayLength() >= 5);
    }

    [Fact]
    public void SameStateHasNoChanges()
    {
        var image = Image("same", OldGuid, httpSysBinding: true, "c2FtZQ==", secondBinding: true);
        var result = Cli.Run("diff", image, image);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("No changes.", result.Stdout);
    }

    [Fact]
    public void AclAndAttributeChangesComeFromBundleManifests()
    {
        string Bundle(string name, string sddl, NtfsAttributes attributes)
        {
            var zip = Path.Combine(_root, name + ".zip");
            var manifest = new BundleManifest
            {
                Files = { new BundleEntry($@"{WindowsPaths.MachineKeys}\a_{OldGuid}") { Length = 1, Sha256 = "aa", Sddl = sddl, Attributes = attributes } },
                Directories = { new BundleEntry(WindowsPaths.MachineKeys) { Sddl = sddl, Attributes = attributes } },
            };
            using var archive = ZipFile.Open(zip, ZipArchiveMode.Create);
            using (var s = archive.CreateEntry(BundleManifest.FileName).Open()) s.Write(manifest.ToJson());
            using (var s = archive.CreateEntry($"ProgramData/Microsoft/Crypto/RSA/MachineKeys/a_{OldGuid}").Open()) s.Write("k"u8);
            return zip;
        }
        var before = Bundle("b1", "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)", NtfsAttributes.Archive);
        // Same ACL written differently must not count; compression must.
        var same = Bundle("b2", "O:S-1-5-18G:S-1-5-18D:PAI(A;;0x12019f;;;S-1-1-0)(A;;0x1f01ff;;;S-1-5-32-544)", NtfsAttributes.Archive);
        var after = Bundle("b3", "O:SYG:SYD:PAI(A;;FA;;;BA)", NtfsAttributes.Archive | NtfsAttributes.Compressed);
        using (var a = MachineSource.Open(before))
        using (var b = MachineSource.Open(same))
            Assert.Empty(MachineDiff.Compare(a, b));
        using (var a = MachineSource.Open(before))
        using (var c = MachineSource.Open(after))
        {
            var changes = MachineDiff.Compare(a, c);
            Assert.Equal(2, changes.Count(x => x.Change == "ACL changed")); // the folder and the file
            Assert.Equal(2, changes.Count(x => x is { Change: "attributes changed", Matters: true }));
        }
    }

    [Fact]
    public void APatchNightsNewKeyFileUnderANewGuidAndAddedCertificateAreNamedWithoutFlags()
    {
        const string patchGuid = "99999999-8888-7777-6666-555555555555";
        using var image = KeyDoctor.Tests.Scan.ScanImage.Healthy(out _);
        image.Build();
        var before = Path.Combine(_root, "before-patch");
        CopyTree(image.Root, before);
        // The patch night: a certificate is added (its key made under a GUID the machine never had).
        var (added, key) = image.Certificate("CN=new.example.com", "new-key", keyFile: false);
        var newKeyFile = image.KeyFile("new-key", key, guid: patchGuid);
        image.Build();

        var text = Cli.Run("diff", before, image.Root);
        Assert.Equal(1, text.ExitCode);
        var keyName = Path.GetFileName(newKeyFile);
        Assert.Contains($"matters key files added under a new GUID ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\{keyName}", text.Stdout);
        Assert.Contains($"matters certificates added MY\\{added.Thumbprint}", text.Stdout);
        Assert.DoesNotContain("not listed", text.Stdout); // nothing left out by default

        var json = Cli.Run("diff", before, image.Root, "--json");
        using var document = JsonDocument.Parse(json.Stdout);
        var changes = document.RootElement.GetProperty("changes").EnumerateArray().ToList();
        var file = Assert.Single(changes, c => c.GetProperty("subject").GetString()!.Contains(keyName, StringComparison.Ordinal));
        Assert.Equal(("added under a new GUID", "matters"), (file.GetProperty("change").GetString(), file.GetProperty("mark").GetString()));
        var certificate = Assert.Single(changes, c => c.GetProperty("area").GetString() == "certificates");
        Assert.Equal(("added", "matters"), (certificate.GetProperty("change").GetString(), certificate.GetProperty("mark").GetString()));
        Assert.EndsWith(added.Thumbprint, certificate.GetProperty("subject").GetString());
        // The marks sort: every change that matters comes before any noise.
        var marks = changes.Select(c => c.GetProperty("mark").GetString()).ToList();
        Assert.Equal(marks.OrderBy(m => m == "noise"), marks);
    }

    [Fact]
    public void MattersOnlySaysHowManyChangesItLeftOut()
    {
        var before = Image("mo-before", OldGuid, httpSysBinding: true, "c2FtZQ==", secondBinding: true);
        var after = Image("mo-after", OldGuid, httpSysBinding: true, "c2FtZQ==", secondBinding: true);
        // Noise only: a key file added under the GUID the machine already has.
        File.WriteAllText(Path.Combine(after, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", $"{ContainerName.CapiPrefix("extra")}_{OldGuid}"), "x");
        var full = Cli.Run("diff", before, after);
        Assert.Equal(0, full.ExitCode);
        Assert.Contains("noise", full.Stdout);
        var shortened = Cli.Run("diff", before, after, "--matters-only");
        Assert.Contains("1 change(s) marked noise are not listed here", shortened.Stdout.ReplaceLineEndings(" "));
        using var json = JsonDocument.Parse(Cli.Run("diff", before, after, "--matters-only", "--json").Stdout);
        Assert.Equal(1, json.RootElement.GetProperty("changes").GetArrayLength()); // --json always has everything
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
