using System.Text.Json;

namespace KeyDoctor.Tests.KeyFiles;

/// <summary>`keys list` on an image root reads the MachineGuid from the image's registry.</summary>
public sealed class KeysListImageTests : IDisposable
{
    private readonly string _image = Directory.CreateTempSubdirectory("kd-keys-image-").FullName;

    public void Dispose() => Directory.Delete(_image, recursive: true);

    [Fact]
    public void GuidSuffixesAreCheckedAgainstTheImagesMachineGuid()
    {
        var wiki = Fixtures.Path("keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
        var machineKeys = Path.Combine(_image, "ProgramData", "Microsoft", "Crypto", "RSA", "MachineKeys");
        Directory.CreateDirectory(machineKeys);
        File.Copy(wiki, Path.Combine(machineKeys, Path.GetFileName(wiki)));
        Directory.CreateDirectory(Path.Combine(_image, "registry"));
        File.WriteAllText(Path.Combine(_image, "registry", "software.reg"),
            "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
            "\"MachineGuid\"=\"11111111-2222-3333-4444-555555555555\"\r\n");

        var result = Cli.Run("keys", "list", _image, "--json");
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("guid-mismatch", json.RootElement[0].GetProperty("status").GetString());
        Assert.Contains("11111111-2222-3333-4444-555555555555", result.Stderr);

        var explicitGuid = Cli.Run("keys", "list", _image, "--json", "--machine-guid", "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
        using var ok = JsonDocument.Parse(explicitGuid.Stdout);
        Assert.Equal("ok", ok.RootElement[0].GetProperty("status").GetString()); // the option wins over the image
    }

    [Fact]
    public void ABundleIsListedWithTheTimesItsManifestRecordedAndPathsInsideIt()
    {
        var wiki = Fixtures.Path("keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
        var machineKeys = Path.Combine(_image, "ProgramData", "Microsoft", "Crypto", "RSA", "MachineKeys");
        Directory.CreateDirectory(machineKeys);
        var key = Path.Combine(machineKeys, Path.GetFileName(wiki));
        File.Copy(wiki, key);
        File.SetLastWriteTimeUtc(key, new DateTime(2020, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        Directory.CreateDirectory(Path.Combine(_image, "registry"));
        File.WriteAllText(Path.Combine(_image, "registry", "software.reg"),
            "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
            "\"MachineGuid\"=\"4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b\"\r\n");
        var output = Directory.CreateTempSubdirectory("kd-keys-bundle-").FullName;
        try
        {
            var bundle = Path.Combine(output, "web01.zip");
            Assert.Equal(0, Cli.Run("collect", "--from", _image, "-o", bundle).ExitCode);
            var extracted = Path.Combine(output, "web01");
            System.IO.Compression.ZipFile.ExtractToDirectory(bundle, extracted); // files dated today, the manifest keeps 2020

            foreach (var source in new[] { bundle, extracted })
            {
                var result = Cli.Run("keys", "list", source, "--json");
                Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
                Assert.Contains("from the bundle's SOFTWARE registry", result.Stderr);
                using var json = JsonDocument.Parse(result.Stdout);
                var row = Assert.Single(json.RootElement.EnumerateArray());
                Assert.Equal(Path.Join(source, "ProgramData/Microsoft/Crypto/RSA/MachineKeys", Path.GetFileName(wiki)), row.GetProperty("path").GetString());
                Assert.Equal("2020-03-04T05:06:07Z", row.GetProperty("modified").GetString());
                Assert.Equal(result.Stdout, Cli.Run("keys", "list", source, "--json").Stdout);
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void ADriveWithoutItsKeyStoresIsAnInputErrorNotAFolderOfBrokenKeys()
    {
        Directory.CreateDirectory(Path.Combine(_image, "Windows", "System32"));
        File.WriteAllText(Path.Combine(_image, "pagefile.sys"), "not a key");
        var result = Cli.Run("keys", "list", _image);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"keydoctor: {_image} looks like a Windows system drive but holds none of its key stores", result.Stderr);

        // Without a folder it is this machine's stores: only on Windows.
        if (!OperatingSystem.IsWindows())
        {
            var live = Cli.Run("keys", "list");
            Assert.Equal(2, live.ExitCode);
            Assert.Contains("without one, 'keys list' reads the key stores of the Windows machine it runs on", live.Stderr);
        }
    }

    [Fact]
    public void AServer2003ImageListsItsMachineKeys()
    {
        // NT 5 keeps machine keys under Documents and Settings\All Users\Application Data, not ProgramData.
        var wiki = Fixtures.Path("keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
        var machineKeys = Path.Combine(_image, "Documents and Settings", "All Users", "Application Data", "Microsoft", "Crypto", "RSA", "MachineKeys");
        Directory.CreateDirectory(machineKeys);
        File.Copy(wiki, Path.Combine(machineKeys, Path.GetFileName(wiki)));

        var result = Cli.Run("keys", "list", _image, "--json");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var row = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(Path.GetFileName(wiki), row.GetProperty("file").GetString());
    }
}
