using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyDoctor.Crypto.KeySets;

namespace KeyDoctor.Tests.Crypto;

public sealed class KeysConvertCommandTests
{
    [Fact]
    public void ConvertsXmlToPvkAndBackWithoutPrintingTheKey()
    {
        var folder = Directory.CreateTempSubdirectory("kd-convert-").FullName;
        try
        {
            using var rsa = RSA.Create(1024);
            var d = rsa.ExportParameters(true).D!;
            var xmlPath = Path.Combine(folder, "iis.xml");
            File.WriteAllText(xmlPath, rsa.ToXmlString(true));

            var pvkPath = Path.Combine(folder, "iis.pvk");
            var toPvk = Cli.Run("keys", "convert", xmlPath, "-o", pvkPath, "--json");
            Assert.Equal(0, toPvk.ExitCode);
            using var json = JsonDocument.Parse(toPvk.Stdout);
            Assert.Equal("pvk", json.RootElement.GetProperty("format").GetString());
            Assert.Equal(1024, json.RootElement.GetProperty("keys")[0].GetProperty("bits").GetInt32());
            Assert.DoesNotContain(Convert.ToBase64String(d), toPvk.Stdout + toPvk.Stderr);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pvkPath));

            var pemPath = Path.Combine(folder, "iis.key");
            Assert.Equal(0, Cli.Run("keys", "convert", pvkPath, "-o", pemPath).ExitCode);
            Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", File.ReadAllText(pemPath));
            var backPath = Path.Combine(folder, "back.xml");
            Assert.Equal(0, Cli.Run("keys", "convert", pemPath, "-o", backPath).ExitCode);
            Assert.Equal(d, KeySetXml.Read(File.ReadAllBytes(backPath)).Exchange!.Parameters.D);

            var again = Cli.Run("keys", "convert", xmlPath, "-o", pvkPath);
            Assert.Equal(2, again.ExitCode);
            Assert.Contains("never overwrites", again.Stderr);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void GarbageInputIsExitCode2()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("<RSAKeyValue><Modulus>AQAB</Modulus></RSAKeyValue>"));
            var result = Cli.Run("keys", "convert", path, "-o", path + ".pvk");
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("Exponent", result.Stderr);
            Assert.False(File.Exists(path + ".pvk"));
        }
        finally { File.Delete(path); }
    }
}

public sealed class KeysExportImportTests
{
    [Fact]
    public void ExportAndImportSayTheyAreForWindowsElsewhere()
    {
        if (OperatingSystem.IsWindows()) return; // the live key store is exercised on Windows only
        var export = Cli.Run("keys", "export", "iisWasKey", "-o", Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")));
        Assert.Equal(2, export.ExitCode);
        Assert.Contains("for Windows", export.Stderr);
        var import = Cli.Run("keys", "import", "nothing.xml", "--container", "x");
        Assert.Equal(2, import.ExitCode);
        Assert.Contains("for Windows", import.Stderr);
    }
}
