using System.Text.Json;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Tests.Certificates;

namespace KeyDoctor.Tests.Registry;

public class RegistryCommandTests
{
    [Fact]
    public void RegDumpJsonLinesHaveKeyNameTypeAndTypedData()
    {
        var result = Cli.Run("reg", "dump", Fixtures.Path("hives/regipy/SYSTEM"), "--key", @"ControlSet001\Control\Lsa", "--json");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var hive = RegistryHive.Open(Fixtures.Path("hives/regipy/SYSTEM"));
        Assert.Equal(hive.OpenKey(@"ControlSet001\Control\Lsa")!.DescendantsAndSelf().Sum(k => k.Values.Count), lines.Count);
        var pid = lines.Single(l => l.GetProperty("name").GetString() == "LsaPid");
        Assert.Equal(@"ControlSet001\Control\Lsa", pid.GetProperty("key").GetString());
        Assert.Equal("REG_DWORD", pid.GetProperty("type").GetString());
        Assert.Equal(592, pid.GetProperty("data").GetInt32());
        var packages = lines.Single(l => l.GetProperty("name").GetString() == "Security Packages").GetProperty("data");
        Assert.Equal(JsonValueKind.Array, packages.ValueKind);
        Assert.Equal("kerberos", packages[0].GetString());
        Assert.Equal("0030000000200000", lines.Single(l => l.GetProperty("name").GetString() == "Bounds").GetProperty("data").GetString());
    }

    [Fact]
    public void RegDumpTextShowsClassNamesAndDirtyRecoveryOnStderr()
    {
        var result = Cli.Run("reg", "dump", Fixtures.Path("hives/regipy/SYSTEM"), "--key", @"ControlSet001\Control\Lsa\JD");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("class=\"67cd88ed\"", result.Stdout, StringComparison.Ordinal);

        var dirty = Cli.Run("reg", "dump", Fixtures.Path("hives/regipy/SYSTEM_B"), "--key", "Select", "--json");
        Assert.Contains("24 log entries (2107-2130)", dirty.Stderr, StringComparison.Ordinal);
        Assert.All(dirty.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => JsonDocument.Parse(l));
    }

    [Fact]
    public void BadInputIsOneLineAndExitTwo()
    {
        var notAHive = Cli.Run("reg", "dump", Fixtures.Path("hives/ez/NotAHive"));
        Assert.Equal(2, notAHive.ExitCode);
        Assert.Single(notAHive.Stderr.Trim().Split('\n'));
        Assert.Equal(2, Cli.Run("reg", "dump", Fixtures.Path("hives/regipy/SAM"), "--key", "No\\Such").ExitCode);
        var damaged = Cli.Run("reg", "dump", Fixtures.Path("hives/regipy/corrupted_system_hive"), "--json");
        Assert.Equal(1, damaged.ExitCode);
        Assert.Contains("233 problem(s)", damaged.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void CertsListAndShowReadAnExport()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate("CN=shop.example");
        var info = CertificateBlobBuilder.KeyProviderInfo("shop-key", "Microsoft Software Key Storage Provider", 0, 0x20, 0);
        var blob = CertificateBlobBuilder.Blob(certificate, info, "shop");
        var hash = CertificateBlobBuilder.Hex(Convert.FromHexString(certificate.Thumbprint));
        var text = WindowsRegistryTests.MachineExport(blob, certificate.Thumbprint, hash);
        var path = Path.Combine(Path.GetTempPath(), $"keydoctor-{Guid.NewGuid():N}.reg");
        try
        {
            File.WriteAllBytes(path, RegExportWriter.ToFileBytes(text));
            var list = Cli.Run("certs", "list", path, "--json");
            Assert.Equal(0, list.ExitCode);
            var document = JsonDocument.Parse(list.Stdout).RootElement;
            Assert.Equal(WindowsRegistryTests.MachineGuid, document.GetProperty("machineGuid").GetString());
            var entry = document.GetProperty("certificates")[0];
            Assert.Equal(certificate.Thumbprint, entry.GetProperty("thumbprint").GetString());
            Assert.Equal("CN=shop.example", entry.GetProperty("subject").GetString());
            var key = entry.GetProperty("key");
            Assert.Equal("shop-key", key.GetProperty("container").GetString());
            Assert.True(key.GetProperty("machineKey").GetBoolean());
            Assert.EndsWith("_" + WindowsRegistryTests.MachineGuid, key.GetProperty("expectedKeyFileName").GetString(), StringComparison.Ordinal);
            Assert.Equal(@"ProgramData\Microsoft\Crypto\Keys", key.GetProperty("expectedKeyFileDirectory").GetString());

            var spaced = string.Join(' ', Enumerable.Range(0, 20).Select(i => certificate.Thumbprint.Substring(i * 2, 2).ToLowerInvariant()));
            var show = Cli.Run("certs", "show", spaced, "--from", path);
            Assert.Equal(0, show.ExitCode);
            Assert.Contains("Subject: CN=shop.example", show.Stdout, StringComparison.Ordinal);
            Assert.Contains("Cert Hash(sha1): " + spaced, show.Stdout, StringComparison.Ordinal);
            Assert.Contains("Key Container = shop-key", show.Stdout, StringComparison.Ordinal);
            Assert.Contains("KeySpec = 0 (0 (CNG))", show.Stdout, StringComparison.Ordinal);
            Assert.Contains("CERT_FRIENDLY_NAME_PROP_ID(11), 10 bytes: shop", show.Stdout, StringComparison.Ordinal);

            var missing = Cli.Run("certs", "show", new string('a', 40), "--from", path);
            Assert.Equal(2, missing.ExitCode);
        }
        finally { File.Delete(path); }
    }
}

public class RegistryImageTests
{
    [Fact]
    public void CertsListFindsTheSoftwareHiveOfAnImageFolderInAnyCase()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate("CN=image.example");
        var software = new WritableKey("ROOT");
        software.Add(@"Microsoft\Cryptography").SetString("MachineGuid", WindowsRegistryTests.MachineGuid);
        var info = CertificateBlobBuilder.KeyProviderInfo("image-key", "Microsoft Enhanced RSA and AES Cryptographic Provider", 24, 0x20, 1);
        software.Add($@"Microsoft\SystemCertificates\My\Certificates\{certificate.Thumbprint}")
            .Set("Blob", RegistryValueType.Binary, CertificateBlobBuilder.Blob(certificate, info));
        var root = Path.Combine(Path.GetTempPath(), $"keydoctor-image-{Guid.NewGuid():N}");
        try
        {
            var config = Directory.CreateDirectory(Path.Combine(root, "WINDOWS", "system32", "Config")).FullName;
            File.WriteAllBytes(Path.Combine(config, "software"), RegfWriter.Write(software, "SOFTWARE"));
            var result = Cli.Run("certs", "list", root, "--store", "MY", "--json");
            Assert.Equal(0, result.ExitCode);
            var document = System.Text.Json.JsonDocument.Parse(result.Stdout).RootElement;
            var entry = document.GetProperty("certificates")[0];
            Assert.Equal("My", entry.GetProperty("store").GetString());
            Assert.Equal("CN=image.example", entry.GetProperty("subject").GetString());
            Assert.Equal("AT_KEYEXCHANGE", entry.GetProperty("key").GetProperty("keySpecName").GetString());
            Assert.Equal(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys", entry.GetProperty("key").GetProperty("expectedKeyFileDirectory").GetString());
            var text = Cli.Run("certs", "list", root);
            Assert.Contains("1 certificate(s)", text.Stdout, StringComparison.Ordinal);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    private const string Garble = "\\\"[]=,:\r\n@-x0";

    [Fact]
    public void TruncatedAndGarbledExportsNeverCrash()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        var text = WindowsRegistryTests.MachineExport(CertificateBlobBuilder.Blob(certificate, null), certificate.Thumbprint, "00,11");
        var random = new Random(3);
        for (var i = 0; i < 400; i++)
        {
            var chars = text[..random.Next(text.Length)].ToCharArray();
            for (var j = 0; j < 3 && chars.Length > 0; j++) chars[random.Next(chars.Length)] = Garble[random.Next(Garble.Length)];
            try
            {
                var file = RegExportReader.ParseText(new string(chars));
                var registry = WindowsRegistry.FromExport(file);
                _ = registry.MachineGuid;
                _ = registry.HttpSysBindings;
                _ = registry.Certificates();
                foreach (var key in file.Root.DescendantsAndSelf()) foreach (var value in key.Values) _ = value.Decode();
            }
            catch (KeyDoctor.Formats.MalformedDataException) { }
        }
    }
}
