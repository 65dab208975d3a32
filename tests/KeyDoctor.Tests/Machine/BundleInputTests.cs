using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Machine;

/// <summary>
/// A bundle given to the commands that read an image folder: read as the image it holds, with every path shown inside
/// the zip as the user named it (never the private folder it was extracted to), and the same rows as the image gives.
/// </summary>
public sealed class BundleInputTests : IDisposable
{
    private readonly ScanImage _image = new();
    private readonly string _work = Directory.CreateTempSubdirectory("kd-bundle-input-").FullName;

    public void Dispose()
    {
        _image.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Collect()
    {
        _image.Certificate("CN=shop.contoso.com", "shop-key");
        foreach (var file in Directory.EnumerateFiles(_image.Root, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(file, new DateTime(2025, 2, 3, 4, 5, 6, DateTimeKind.Utc)); // the server's times, recorded by collect
        _image.Put(@"Windows\System32\winevt\Logs\System.evtx", Fixtures.Bytes("evtx/system.evtx"));
        _image.Put(@"Windows\System32\winevt\Logs\Security.evtx", Fixtures.Bytes("evtx/security.evtx"));
        _image.Build();
        var bundle = Path.Combine(_work, "web01.zip");
        var collected = Cli.Run("collect", "--from", _image.Root, "-o", bundle);
        Assert.True(collected.ExitCode == 0, collected.Stdout + collected.Stderr);
        return bundle;
    }

    [Fact]
    public void EventsOfABundleAreTheImagesWithTheirFilesNamedInsideTheZip()
    {
        var bundle = Collect();
        var fromBundle = Cli.Run("events", bundle, "--json");
        var fromImage = Cli.Run("events", _image.Root, "--json");
        Assert.Equal(0, fromBundle.ExitCode);
        Assert.Contains($"\"file\":\"{bundle}/Windows/System32/winevt/Logs/Security.evtx\"", fromBundle.Stdout);
        Assert.Equal(fromImage.Stdout.Replace(_image.Root, bundle), fromBundle.Stdout);
        Assert.DoesNotContain("keydoctor-", fromBundle.Stdout + fromBundle.Stderr);
        Assert.Equal(fromImage.Stderr, fromBundle.Stderr);
    }

    [Fact]
    public void CertificatesOfABundleAreTheImages()
    {
        var bundle = Collect();
        var fromBundle = Cli.Run("certs", "list", bundle, "--json");
        Assert.Equal(0, fromBundle.ExitCode);
        Assert.Contains("CN=shop.contoso.com", fromBundle.Stdout);
        Assert.Equal(Cli.Run("certs", "list", _image.Root, "--json").Stdout.Replace(_image.Root, bundle), fromBundle.Stdout);
        Assert.Equal(Cli.Run("certs", "list", _image.Root).Stdout, Cli.Run("certs", "list", bundle).Stdout);
    }

    [Fact]
    public void ADamagedBundleIsNamedAsTheUserGaveIt()
    {
        var bundle = Collect();
        var damaged = Path.Combine(_work, "damaged.zip");
        File.WriteAllBytes(damaged, File.ReadAllBytes(bundle)[..5000]);
        foreach (var command in new[] { "events", "certs list" })
        {
            var result = Cli.Run([.. command.Split(' '), damaged]);
            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith($"keydoctor: cannot read {damaged} as bundle zip:", result.Stderr);
        }
    }

    [Fact]
    public void TheIisViewOfABundleIsTheImagesWithItsFilesNamedInsideTheZip()
    {
        _image.Site("Shop", 1, "*:443:");
        var bundle = Collect();
        foreach (var format in new[] { "--json", "--text" })
        {
            string[] options = format == "--json" ? ["--json"] : [];
            var fromBundle = Cli.Run(["iis", bundle, .. options]);
            var fromImage = Cli.Run(["iis", _image.Root, .. options]);
            Assert.Equal(fromImage.ExitCode, fromBundle.ExitCode);
            Assert.Contains(Path.Join(bundle, "Windows/System32/inetsrv/config/applicationHost.config"), fromBundle.Stdout);
            Assert.DoesNotContain("keydoctor-", fromBundle.Stdout + fromBundle.Stderr);
            Assert.Equal(fromImage.Stdout.Replace(_image.Root, bundle), fromBundle.Stdout);
        }
    }

    [Fact]
    public void AFileInsideABundleIsReadAsPrintedWithTheTimesItsManifestRecorded()
    {
        var bundle = Collect();
        var keyFile = Directory.GetFiles(Path.Combine(_image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys")).Single();
        var relative = Path.GetRelativePath(_image.Root, keyFile);
        // Extracting gives files new times: the ones shown are those collect recorded, here set on the image first.
        var shown = Cli.Run("keys", "show", Path.Join(bundle, relative), "--json");
        Assert.Equal(0, shown.ExitCode);
        Assert.Equal(Cli.Run("keys", "show", keyFile, "--json").Stdout.Replace(_image.Root, bundle), shown.Stdout);

        // Any letter case inside the zip, as on Windows; the shown path is the one found.
        var events = Cli.Run("events", Path.Join(bundle, "windows/system32/WINEVT/logs/security.evtx"), "--json");
        Assert.Equal(0, events.ExitCode);
        Assert.Equal(Cli.Run("events", Path.Combine(_image.Root, "Windows/System32/winevt/Logs/Security.evtx"), "--json").Stdout, events.Stdout);

        var reg = Cli.Run("reg", "dump", Path.Join(bundle, "registry/machine.reg"), "--json");
        Assert.Equal(Cli.Run("reg", "dump", Path.Combine(_image.Root, "registry/machine.reg"), "--json").Stdout, reg.Stdout);

        var folder = Cli.Run("keys", "list", Path.Join(bundle, "programdata/microsoft/crypto/rsa/machinekeys"), "--json");
        Assert.True(folder.ExitCode is 0 or 1, folder.Stderr);
        Assert.Contains($"\"path\": \"{Path.Join(bundle, relative)}\"", folder.Stdout);
        Assert.Contains("\"modified\": \"2025-02-03T04:05:06Z\"", folder.Stdout);

        var missing = Cli.Run("keys", "show", Path.Join(bundle, "ProgramData/nope"));
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith($"keydoctor: there is no file {Path.Join(bundle, "ProgramData/nope")}:", missing.Stderr);
    }

    [Fact]
    public void ReadingOneHiveSaysWhatToDoWithABundle()
    {
        var bundle = Collect();
        var reg = Cli.Run("reg", "dump", bundle);
        Assert.Equal(2, reg.ExitCode);
        Assert.Contains($"not a hive: give one of the hives inside it, e.g. {Path.Join(bundle, "Windows", "System32", "config", "SYSTEM")}", reg.Stderr);
    }
}
