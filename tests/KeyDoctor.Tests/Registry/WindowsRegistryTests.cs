using KeyDoctor.Formats.Registry;
using KeyDoctor.Tests.Certificates;

namespace KeyDoctor.Tests.Registry;

public class WindowsRegistryTests
{
    internal const string MachineGuid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";

    /// <summary>A .reg export of the parts of SOFTWARE and SYSTEM the diagnosis reads.</summary>
    internal static string MachineExport(byte[] blob, string thumbprint, string hash) =>
        "Windows Registry Editor Version 5.00\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
        $"\"MachineGuid\"=\"{MachineGuid}\"\r\n\r\n" +
        $"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\MY\\Certificates\\{thumbprint}]\r\n" +
        $"\"Blob\"=hex:{CertificateBlobBuilder.Hex(blob)}\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\Root\\Certificates]\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000002\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo\\0.0.0.0:8443]\r\n" +
        "\"SslCertHash\"=hex:00,11\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\HTTP\\Parameters\\SslBindingInfo\\0.0.0.0:443]\r\n" +
        $"\"SslCertHash\"=hex:{hash}\r\n" +
        "\"SslCertStoreName\"=\"MY\"\r\n" +
        "\"AppId\"=hex:4d,c3,e1,4d,22,d3,d1,11,a8,9a,00,a0,c9,05,52,9f\r\n" +
        "\"DefaultFlags\"=dword:00000000\r\n" +
        "\"DefaultCertCheckMode\"=dword:00000000\r\n" +
        "\"DefaultRevocationFreshnessTime\"=dword:00000000\r\n" +
        "\"DefaultRevocationUrlRetrievalTimeout\"=dword:00000000\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\HTTP\\Parameters\\SslBindingInfo\\[::]:443]\r\n" +
        "\"AppId\"=\"{4dc3e181-e14b-4a21-b022-59fc669b0914}\"\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\HTTP\\Parameters\\SslSniBindingInfo\\www.contoso.com:443]\r\n" +
        $"\"SslCertHash\"=hex:{hash}\r\n\"SslCertStoreName\"=\"WebHosting\"\r\n\"DefaultFlags\"=dword:00000001\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\HTTP\\Parameters\\SslCcsBindingInfo\\0.0.0.0:443]\r\n" +
        "\"DefaultFlags\"=dword:00000000\r\n\"Extra\"=\"kept\"\r\n";

    [Fact]
    public void MachineGuidCertificatesAndBindingsFromAnExport()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        var info = CertificateBlobBuilder.KeyProviderInfo("iis-site-key", "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1);
        var blob = CertificateBlobBuilder.Blob(certificate, info, "site");
        var hash = CertificateBlobBuilder.Hex(Convert.FromHexString(certificate.Thumbprint));
        var registry = WindowsRegistry.FromExport(RegExportReader.ParseText(MachineExport(blob, certificate.Thumbprint, hash)));

        Assert.Equal(MachineGuid, registry.MachineGuid);
        Assert.Equal("ControlSet002", registry.CurrentControlSetName); // Select\Current, not the first control set

        var certificates = registry.Certificates();
        var stored = Assert.Single(certificates);
        Assert.Equal(("LocalMachine", "MY", certificate.Thumbprint), (stored.Location, stored.Store, stored.Thumbprint));
        Assert.Empty(stored.Problems);
        Assert.Equal(@"Microsoft\SystemCertificates\MY\Certificates\" + certificate.Thumbprint, stored.RegistryPath);
        Assert.Equal("iis-site-key", stored.Entry!.KeyProviderInfo!.ContainerName);
        Assert.StartsWith(stored.Entry.KeyProviderInfo.ExpectedKeyFile(MachineGuid).Prefix, stored.Entry.KeyProviderInfo.ExpectedKeyFile(MachineGuid).FileName, StringComparison.Ordinal);
        Assert.Empty(registry.Certificates("root"));

        var bindings = registry.HttpSysBindings;
        Assert.Equal(4, bindings.Count);
        var ip = bindings[0];
        Assert.Equal((HttpSysBindingKind.IpPort, "0.0.0.0:443", "0.0.0.0", 443), (ip.Kind, ip.Endpoint, ip.Host, ip.Port));
        Assert.Equal(certificate.Thumbprint, ip.CertificateHash);
        Assert.Equal("MY", ip.CertificateStoreName);
        Assert.Equal(Guid.Parse("4de1c34d-d322-11d1-a89a-00a0c905529f"), ip.AppId);
        Assert.Equal(0u, ip.DefaultFlags);
        var v6 = bindings[1];
        Assert.Equal(("[::]", 443, (string?)null, "MY"), (v6.Host, v6.Port, v6.CertificateHash, v6.EffectiveStoreName));
        Assert.Equal(Guid.Parse("4dc3e181-e14b-4a21-b022-59fc669b0914"), v6.AppId);
        var sni = bindings[2];
        Assert.Equal((HttpSysBindingKind.Sni, "www.contoso.com", 443, "WebHosting", 1u), (sni.Kind, sni.Host, sni.Port, sni.CertificateStoreName, sni.DefaultFlags));
        var ccs = bindings[3];
        Assert.Equal(HttpSysBindingKind.CentralCertificateStore, ccs.Kind);
        Assert.Equal(["Extra"], ccs.OtherValues);
        Assert.Null(registry.LsaClassNames); // this export has no Control\Lsa (and .reg files carry no class names)
    }

    [Fact]
    public void RealSystemHiveGivesControlSetEmptyBindingsAndLsaClassNames()
    {
        var registry = new WindowsRegistry(null, RegistryHive.Open(Fixtures.Path("hives/regipy/SYSTEM")));
        Assert.Equal("ControlSet001", registry.CurrentControlSetName);
        Assert.NotNull(registry.CurrentControlSet?.OpenKey(@"Services\HTTP\Parameters\SslBindingInfo"));
        Assert.Empty(registry.HttpSysBindings);
        Assert.Equal(new LsaClassNames("67cd88ed", "8df2db5b", "e770d1f4", "b6cf2e27"), registry.LsaClassNames);
        Assert.Null(registry.MachineGuid);
        Assert.Empty(registry.Certificates());
    }

    [Theory]
    [InlineData("0.0.0.0:443", "0.0.0.0", 443)]
    [InlineData("[::]:443", "[::]", 443)]
    [InlineData("www.contoso.com:8443", "www.contoso.com", 8443)]
    [InlineData("443", null, 443)]
    [InlineData("odd", "odd", null)]
    public void EndpointsSplitIntoHostAndPort(string endpoint, string? host, int? port) =>
        Assert.Equal((host, port), HttpSysBindingReader.SplitEndpoint(endpoint));
}
