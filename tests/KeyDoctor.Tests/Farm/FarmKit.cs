using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Crypto.ProtectedConfig;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Tests.Certificates;

namespace KeyDoctor.Tests.Farm;

/// <summary>How one generated node departs from the farm (nothing: a proper member).</summary>
public sealed record FarmNodeOptions
{
    /// <summary>The node's own iisWasKey instead of the farm's (it never got the exported key).</summary>
    public bool OwnWasKey { get; init; }

    /// <summary>The HTTPS binding names the farm's certificate, but the certificate was never imported here.</summary>
    public bool CertificateMissing { get; init; }

    /// <summary>The certificate is here, but without its key file (imported from a .cer, or its key lost).</summary>
    public bool CertificateKeyMissing { get; init; }

    /// <summary>A customMetadata entry only this node has (an ABO script ran here).</summary>
    public bool ExtraCustomMetadata { get; init; }
}

/// <summary>
/// Generates the nodes of an IIS farm the way their disks look, with KeyDoctor's own writers: SOFTWARE and SYSTEM hives
/// (regf: MachineGuid, the MY store with the site certificate and its key link, ComputerName, the HTTP.sys binding),
/// CAPI key files for iisConfigurationKey, iisWasKey and the certificate's container, and one applicationHost.config
/// encrypted for real with the farm's keys (an app-pool password under IISWASOnlyAesProvider, a virtual-directory
/// password under AesProvider). Key files hold the public keys and placeholder DPAPI blobs: no private key is written.
/// Used by the farm tests and linked into the farm benchmark.
/// </summary>
public sealed class FarmKit : IDisposable
{
    public const string CertificateContainer = "shop-farm-2026";
    public const string Endpoint = "0.0.0.0:443";
    private static readonly byte[] IisAppId = new Guid("4dc3e181-e14b-4a21-b022-59fc669b0914").ToByteArray();

    private readonly DpapiBlob _placeholder = new()
    {
        MasterKeyGuid = new Guid("3c1d2e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"),
        DescriptionBytes = DpapiBlob.EncodeDescription("Private Key"),
        CryptAlgorithm = 0x6610, CryptAlgorithmBits = 256, Salt = new byte[32],
        HashAlgorithm = 0x800E, HashAlgorithmBits = 512, HmacSalt = new byte[32],
        CipherText = new byte[1184], Signature = new byte[64],
    };

    public FarmKit(string? root = null)
    {
        Root = root ?? Directory.CreateTempSubdirectory("kd-farm-").FullName;
        Directory.CreateDirectory(Root);
        var request = new CertificateRequest("CN=shop.example.com", CertificateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509SubjectAlternativeNameExtension(new[] { "shop.example.com" }.Aggregate(new SubjectAlternativeNameBuilder(), (b, n) => { b.AddDnsName(n); return b; }).Build().RawData));
        Certificate = request.CreateSelfSigned(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero));
        ApplicationHostConfig = SharedConfiguration(ConfigurationKey, WasKey);
    }

    public string Root { get; }
    public RSA ConfigurationKey { get; } = RSA.Create(2048);
    public RSA WasKey { get; } = RSA.Create(2048);
    public RSA CertificateKey { get; } = RSA.Create(2048);
    public X509Certificate2 Certificate { get; }

    /// <summary>The one applicationHost.config of the farm (encrypted once, on the node that set the passwords).</summary>
    public string ApplicationHostConfig { get; }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }

    /// <summary>Writes one node into Root/<paramref name="folder"/> and returns its path.</summary>
    public string Node(string folder, string computerName, string machineGuid, FarmNodeOptions? options = null)
    {
        options ??= new FarmNodeOptions();
        var root = Path.Combine(Root, folder);
        void Put(string windowsPath, byte[] content)
        {
            var path = Path.Combine(root, windowsPath.Replace('\\', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
        }
        void KeyFile(string container, RSA rsa)
        {
            var parameters = rsa.ExportParameters(false);
            var pair = new CapiKeyPairContent(CapiRsaPublicKey.Create(parameters.Modulus, 65537), _placeholder, _placeholder);
            Put($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.CapiPrefix(container)}_{machineGuid}",
                CapiKeyFileWriter.Write(new CapiKeyFileContent(container) { Exchange = pair }));
        }

        using var ownWasKey = options.OwnWasKey ? RSA.Create(2048) : null;
        KeyFile("iisConfigurationKey", ConfigurationKey);
        KeyFile("iisWasKey", ownWasKey ?? WasKey);
        if (!options.CertificateMissing && !options.CertificateKeyMissing) KeyFile(CertificateContainer, CertificateKey);

        var software = new WritableKey("ROOT");
        software.Add(@"Microsoft\Cryptography").SetString("MachineGuid", machineGuid);
        var certificates = software.Add(@"Microsoft\SystemCertificates\MY\Certificates");
        if (!options.CertificateMissing)
            certificates.Add(Certificate.Thumbprint).Set("Blob", RegistryValueType.Binary, CertificateBlobBuilder.Blob(Certificate,
                CertificateBlobBuilder.KeyProviderInfo(CertificateContainer, "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1)));
        Put(@"Windows\System32\config\SOFTWARE", RegfWriter.Write(software, "SOFTWARE"));

        var system = new WritableKey("ROOT");
        system.Add("Select").SetDWord("Current", 1);
        system.Add(@"ControlSet001\Control\ComputerName\ComputerName").SetString("ComputerName", computerName);
        system.Add(@"ControlSet001\Services\HTTP\Parameters\SslBindingInfo\" + Endpoint)
            .Set("SslCertHash", RegistryValueType.Binary, Convert.FromHexString(Certificate.Thumbprint))
            .SetString("SslCertStoreName", "MY")
            .Set("AppId", RegistryValueType.Binary, IisAppId);
        Put(@"Windows\System32\config\SYSTEM", RegfWriter.Write(system, "SYSTEM"));

        var config = ApplicationHostConfig;
        if (options.ExtraCustomMetadata)
            config = config.Replace("<sites>", "<customMetadata><key path=\"LM/W3SVC/1\"><property id=\"5506\" dataType=\"Binary\" userType=\"1\" attributes=\"None\" value=\"" +
                                               Convert.ToBase64String(Convert.FromHexString(Certificate.Thumbprint)) + "\" /></key></customMetadata><sites>", StringComparison.Ordinal);
        Put(@"Windows\System32\inetsrv\config\applicationHost.config", Encoding.UTF8.GetBytes(config));
        return root;
    }

    /// <summary>The farm of the issue: a clone pair, a node with its own iisWasKey, a node missing the bound certificate.</summary>
    public (string Web01, string Web02, string Web03, string Web04) BrokenFarm()
    {
        const string cloned = "6a1f0c3e-7b2d-4e8f-9a10-2b3c4d5e6f70";
        return (Node("web01", "WEB01", cloned), Node("web02", "WEB02", cloned),
            Node("web03", "WEB03", "7b2e1d4f-8c3e-4f90-ab21-3c4d5e6f7081", new FarmNodeOptions { OwnWasKey = true }),
            Node("web04", "WEB04", "8c3f2e50-9d4f-4a01-bc32-4d5e6f708192", new FarmNodeOptions { CertificateMissing = true }));
    }

    /// <summary>A proper farm: own MachineGuids, shared keys, the certificate with its key on every node.</summary>
    public IReadOnlyList<string> ProperFarm(int nodes = 3) =>
        Enumerable.Range(1, nodes).Select(i => Node($"web{i:00}", $"WEB{i:00}", NodeGuid(i))).ToList();

    /// <summary>A stable, distinct MachineGuid per node number.</summary>
    public static string NodeGuid(int node) => new Guid(MD5.HashData(BitConverter.GetBytes(node))).ToString("D");

    private static string SharedConfiguration(RSA configurationKey, RSA wasKey)
    {
        var aesSession = RandomNumberGenerator.GetBytes(16);
        var wasSession = RandomNumberGenerator.GetBytes(16);
        var aesBlob = Convert.ToBase64String(ProtectedConfigCrypto.WrapSessionKey(aesSession, configurationKey, useOaep: false));
        var wasBlob = Convert.ToBase64String(ProtectedConfigCrypto.WrapSessionKey(wasSession, wasKey, useOaep: true));
        var poolPassword = Convert.ToBase64String(ProtectedConfigCrypto.EncryptValue(wasSession, "pool-password"));
        var vdirPassword = Convert.ToBase64String(ProtectedConfigCrypto.EncryptValue(aesSession, "vdir-password"));
        return $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <configuration>
              <configProtectedData>
                <providers>
                  <add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" cspProviderName="" useMachineContainer="true" useOAEP="false" sessionKey="{aesBlob}" />
                  <add name="IISWASOnlyAesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisWasKey" cspProviderName="" useMachineContainer="true" useOAEP="true" sessionKey="{wasBlob}" />
                </providers>
              </configProtectedData>
              <system.applicationHost>
                <applicationPools>
                  <add name="Shop"><processModel identityType="SpecificUser" userName="CONTOSO\svc-shop" password="[enc:IISWASOnlyAesProvider:{poolPassword}:enc]" /></add>
                </applicationPools>
                <sites>
                  <site name="Shop" id="1">
                    <application path="/" applicationPool="Shop"><virtualDirectory path="/" physicalPath="\\files\shop" userName="CONTOSO\svc-files" password="[enc:AesProvider:{vdirPassword}:enc]" /></application>
                    <bindings><binding protocol="https" bindingInformation="*:443:" sslFlags="0" /></bindings>
                  </site>
                </sites>
              </system.applicationHost>
            </configuration>
            """;
    }
}
