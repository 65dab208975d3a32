using System.Text.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Tests.Certificates;

namespace KeyDoctor.Tests.Iis;

/// <summary>The whole chain on an image: IIS binding → HTTP.sys binding → certificate → key link → key file.</summary>
public sealed class IisSslChainTests : IDisposable
{
    private const string Guid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    private readonly string _image = Directory.CreateTempSubdirectory("kd-iis-chain-").FullName;

    public void Dispose() => Directory.Delete(_image, recursive: true);

    private void Put(string relative, string text)
    {
        var path = Path.Combine(_image, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private string BuildImage(bool keyFilePresent, bool httpSysBindingPresent)
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate("CN=shop.example.com");
        var blob = CertificateBlobBuilder.Blob(certificate,
            CertificateBlobBuilder.KeyProviderInfo("shop-key", "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1));
        var hash = CertificateBlobBuilder.Hex(Convert.FromHexString(certificate.Thumbprint));
        Put("registry/machine.reg",
            "Windows Registry Editor Version 5.00\r\n\r\n" +
            $"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n\"MachineGuid\"=\"{Guid}\"\r\n\r\n" +
            $"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\MY\\Certificates\\{certificate.Thumbprint}]\r\n" +
            $"\"Blob\"=hex:{CertificateBlobBuilder.Hex(blob)}\r\n\r\n" +
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000001\r\n\r\n" +
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo]\r\n\r\n" +
            (httpSysBindingPresent
                ? "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo\\0.0.0.0:443]\r\n" +
                  $"\"SslCertHash\"=hex:{hash}\r\n\"SslCertStoreName\"=\"MY\"\r\n\r\n"
                : ""));
        Put("Windows/System32/inetsrv/config/applicationHost.config", """
            <?xml version="1.0" encoding="UTF-8"?>
            <configuration><system.applicationHost><sites>
              <site name="Shop" id="1"><bindings><binding protocol="https" bindingInformation="*:443:" sslFlags="0" /></bindings></site>
            </sites></system.applicationHost></configuration>
            """);
        Directory.CreateDirectory(Path.Combine(_image, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"));
        if (keyFilePresent) Put($"ProgramData/Microsoft/Crypto/RSA/MachineKeys/{ContainerName.CapiPrefix("shop-key")}_{Guid}", "key");
        return certificate.Thumbprint;
    }

    [Fact]
    public void HealthyChainIsShownLinkByLink()
    {
        var thumbprint = BuildImage(keyFilePresent: true, httpSysBindingPresent: true);
        var result = Cli.Run("iis", _image, "--json");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(Guid, json.RootElement.GetProperty("machineGuid").GetString());
        var ssl = json.RootElement.GetProperty("sites")[0].GetProperty("bindings")[0].GetProperty("ssl");
        Assert.Equal(thumbprint, ssl.GetProperty("httpSysBinding").GetProperty("certificateThumbprint").GetString());
        Assert.Equal("CN=shop.example.com", ssl.GetProperty("certificate").GetProperty("subject").GetString());
        Assert.Equal("shop-key", ssl.GetProperty("certificate").GetProperty("keyContainerName").GetString());
        Assert.True(ssl.GetProperty("keyFile").GetProperty("exists").GetBoolean());
    }

    [Fact]
    public void MissingKeyFileAndMissingHttpSysBindingAreFindings()
    {
        BuildImage(keyFilePresent: false, httpSysBindingPresent: true);
        var noKey = Cli.Run("iis", _image, "--json");
        Assert.Equal(1, noKey.ExitCode);
        Assert.Contains("\"KD2008\"", noKey.Stdout);

        Directory.Delete(_image, recursive: true);
        Directory.CreateDirectory(_image);
        BuildImage(keyFilePresent: true, httpSysBindingPresent: false);
        var noBinding = Cli.Run("iis", _image, "--json");
        Assert.Equal(1, noBinding.ExitCode);
        Assert.Contains("\"KD2006\"", noBinding.Stdout);
    }

    [Theory]
    [InlineData(false, true, "KD2008")]
    [InlineData(true, false, "KD2006")]
    public void ScanAndIisReportTheSameFinding(bool keyFilePresent, bool httpSysBindingPresent, string id)
    {
        BuildImage(keyFilePresent, httpSysBindingPresent);

        using var source = MachineSource.Open(_image);
        var scanned = Assert.Single(Scanner.Scan(source).Findings, f => f.Id == id);
        var inspected = Assert.Single(IisInspector.InspectImage(_image, RegistryMachineLookup.ForImage(_image)).Findings, f => f.Id == id);

        Assert.Equal((scanned.Descriptor, scanned.Subject, scanned.Message, scanned.Severity),
            (inspected.Descriptor, inspected.Subject, inspected.Message, inspected.Severity));
    }
}
