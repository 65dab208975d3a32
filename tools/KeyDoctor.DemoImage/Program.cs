// Writes the demo image in demo/web01: one IIS server after a bad day, built only with KeyDoctor's own writers
// (CAPI key files, .reg export, EVTX, MS-IMSA metabase blobs). The key files hold public keys and placeholder
// DPAPI blobs: no private key exists anywhere in the demo.
// Usage: dotnet run --project tools/KeyDoctor.DemoImage -- [output folder]   (default: demo/web01)
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.KeyFiles;

var root = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine("demo", "web01"));
if (Directory.Exists(root)) Directory.Delete(root, recursive: true);

const string currentGuid = "5c8a4e1b-2f3d-4a6b-9c7e-0d1f2a3b4c5d"; // what a re-imaged clone got
const string originalGuid = "e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90"; // what the keys were made under
var when = new DateTime(2026, 11, 20, 6, 12, 0, DateTimeKind.Utc);

void Put(string relative, byte[] content)
{
    var path = Path.Combine(root, relative.Replace('\\', '/'));
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    File.WriteAllBytes(path, content);
}

// A structurally valid DPAPI blob with random content: the demo must never hold a real private key.
var placeholder = new DpapiBlob
{
    MasterKeyGuid = new Guid("3c1d2e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"),
    DescriptionBytes = DpapiBlob.EncodeDescription("Private Key"),
    CryptAlgorithm = 0x6610, CryptAlgorithmBits = 256, Salt = RandomNumberGenerator.GetBytes(32),
    HashAlgorithm = 0x800E, HashAlgorithmBits = 512, HmacSalt = RandomNumberGenerator.GetBytes(32),
    CipherText = RandomNumberGenerator.GetBytes(1184), Signature = RandomNumberGenerator.GetBytes(64),
};

void KeyFile(string container, RSA rsa, string guid, bool exchange = true, bool signature = false)
{
    var p = rsa.ExportParameters(false);
    var pair = new CapiKeyPairContent(CapiRsaPublicKey.Create(p.Modulus, 65537), placeholder, placeholder);
    var content = new CapiKeyFileContent(container) { Exchange = exchange ? pair : null, Signature = signature ? pair : null };
    Put($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.CapiPrefix(container)}_{guid}", CapiKeyFileWriter.Write(content));
}

// The key store: everything was made under the original GUID; after the clone, IIS re-created nothing yet.
var iisExchange = RSA.Create(1024);
var iisSignature = RSA.Create(1024);
KeyFile("Microsoft Internet Information Server", iisExchange, originalGuid, exchange: true, signature: true);
KeyFile("iisConfigurationKey", RSA.Create(2048), originalGuid);
KeyFile("iisWasKey", RSA.Create(2048), originalGuid);
KeyFile("NetFrameworkConfigurationKey", RSA.Create(1024), originalGuid);
for (var i = 0; i < 12; i++) KeyFile($"demo-app-container-{i}", RSA.Create(1024), originalGuid);
// An anti-virus quarantine left one file cut short.
Put($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.CapiPrefix("demo-reporting")}_{originalGuid}", new byte[180]);

// Certificates: the shop's is fine; the API's key was never imported; the legacy one is AT_SIGNATURE.
var registry = new StringBuilder("Windows Registry Editor Version 5.00\r\n\r\n")
    .Append($"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n\"MachineGuid\"=\"{currentGuid}\"\r\n\r\n");
var bindings = new StringBuilder();
X509Certificate2 Certificate(string subject, string container, uint keySpec, bool keyFile, string endpoint)
{
    var rsa = RSA.Create(2048);
    var certificate = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        .CreateSelfSigned(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero));
    var containerBytes = Encoding.Unicode.GetBytes(container + "\0");
    var provider = Encoding.Unicode.GetBytes("Microsoft RSA SChannel Cryptographic Provider\0");
    var link = new[] { 28u, 28u + (uint)containerBytes.Length, 12u, 0x20u, 0u, 0u, keySpec }.SelectMany(BitConverter.GetBytes)
        .Concat(containerBytes).Concat(provider).ToArray();
    byte[] Property(uint id, byte[] value) => [.. BitConverter.GetBytes(id), .. BitConverter.GetBytes(1u), .. BitConverter.GetBytes((uint)value.Length), .. value];
    var blob = Property(2, link).Concat(Property(3, SHA1.HashData(certificate.RawData))).Concat(Property(32, certificate.RawData)).ToArray();
    registry.Append($"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\MY\\Certificates\\{certificate.Thumbprint}]\r\n")
        .Append("\"Blob\"=hex:").Append(string.Join(",", blob.Select(b => b.ToString("x2")))).Append("\r\n\r\n");
    if (keyFile) KeyFile(container, rsa, currentGuid, exchange: keySpec == 1, signature: keySpec == 2);
    bindings.Append($"[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo\\{endpoint}]\r\n")
        .Append("\"SslCertHash\"=hex:").Append(string.Join(",", Convert.FromHexString(certificate.Thumbprint).Select(b => b.ToString("x2"))))
        .Append("\r\n\"SslCertStoreName\"=\"MY\"\r\n\"AppId\"=hex:81,e1,c3,4d,4b,e1,21,4a,b0,22,59,fc,66,9b,09,14\r\n\r\n");
    return certificate;
}
Certificate("CN=shop.contoso.com", "shop-contoso-2026", 1, keyFile: true, "0.0.0.0:443");
Certificate("CN=api.contoso.com", "api-contoso-2026", 1, keyFile: false, "0.0.0.0:8443");
Certificate("CN=legacy.contoso.com", "legacy-contoso", 2, keyFile: true, "0.0.0.0:9443");
// A renewal deleted this certificate but left HTTP.sys pointing at it.
bindings.Append("[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo\\0.0.0.0:4443]\r\n")
    .Append("\"SslCertHash\"=hex:9f,3a,1c,44,7e,20,b6,5d,0c,81,e2,93,4a,6f,d8,17,2b,c5,e0,01\r\n\"SslCertStoreName\"=\"MY\"\r\n\r\n");
registry.Append("[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000001\r\n\r\n")
    .Append("[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo]\r\n\r\n")
    .Append(bindings);
Put(@"registry\web01.reg", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(registry.ToString())]);

// IIS 7+ configuration: AesProvider secrets under iisConfigurationKey; a stale 5506 hash from an old ABO script.
var wrapped = RSA.Create(2048).Encrypt(RandomNumberGenerator.GetBytes(32), RSAEncryptionPadding.Pkcs1);
Array.Reverse(wrapped); // CAPI keeps RSA cipher text little-endian
byte[] simpleBlob = [0x01, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, .. wrapped];
var encrypted = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
Put(@"Windows\System32\inetsrv\config\applicationHost.config", Encoding.UTF8.GetBytes($"""
    <?xml version="1.0" encoding="UTF-8"?>
    <configuration>
        <configProtectedData>
            <providers>
                <add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" cspProviderName="" useOAEP="false" useMachineContainer="true" sessionKey="{Convert.ToBase64String(simpleBlob)}" />
            </providers>
        </configProtectedData>
        <system.applicationHost>
            <applicationPools>
                <add name="Shop"><processModel identityType="SpecificUser" userName="CONTOSO\svc-shop" password="[enc:AesProvider:{encrypted}:enc]" /></add>
            </applicationPools>
            <customMetadata>
                <key path="LM/W3SVC/3"><property id="5506" dataType="Binary" userType="1" attributes="None" value="nzocRH4gtl0MgeKTSm/YFyvF4AE=" /></key>
            </customMetadata>
            <sites>
                <site name="Shop" id="1"><bindings><binding protocol="https" bindingInformation="*:443:" sslFlags="0" /></bindings></site>
                <site name="Api" id="2"><bindings><binding protocol="https" bindingInformation="*:8443:" sslFlags="0" /></bindings></site>
                <site name="Legacy" id="3"><bindings><binding protocol="https" bindingInformation="*:9443:" sslFlags="0" /></bindings></site>
            </sites>
        </system.applicationHost>
    </configuration>
    """));

// IIS 6 metabase (kept from the in-place upgrade): its SessionKey needs the IIS container above.
var sessionKey = MetabaseBlobWriter.SessionKey(RandomNumberGenerator.GetBytes(5), iisExchange, iisSignature);
Put(@"Windows\System32\inetsrv\MetaBase.xml", Encoding.UTF8.GetBytes($"""
    <?xml version ="1.0"?>
    <configuration xmlns="urn:microsoft-catalog:XML_Metabase_V64_0">
    <MBProperty>
    <IIS_Global Location ="." ChangeNumber="443" HistoryMajorVersionNumber="6" SessionKey="{IisCryptoBlobWriter.ToHex(sessionKey)}">
    </IIS_Global>
    </MBProperty>
    </configuration>
    """));

// The server's own story.
EventToWrite Scm(ulong record, int minutes, string service, string code) => new()
{
    Provider = "Service Control Manager", ProviderGuid = new Guid("555908d1-a6d7-4695-8e1e-26931d2012f4"),
    EventSourceName = "Service Control Manager", EventId = 7024, Qualifiers = 49152, Level = 2, Keywords = 0x8080000000000000,
    TimeCreated = when.AddMinutes(minutes), RecordId = record, Computer = "WEB01.contoso.com", Channel = "System",
    Data = [EventDataValue.String("param1", service), EventDataValue.String("param2", code)],
};
EventToWrite Schannel(ulong record, int minutes) => new()
{
    Provider = "Schannel", ProviderGuid = new Guid("1f678132-5938-4686-9fdc-c8ff68f15c85"), EventId = 36870, Level = 2,
    TimeCreated = when.AddMinutes(minutes), RecordId = record, Computer = "WEB01.contoso.com", Channel = "System", UserSid = "S-1-5-18",
    Data = [EventDataValue.String("Type", "server"), EventDataValue.String("ErrorState", "0x8009030D")],
};
void Log(string name, IEnumerable<EventToWrite> events)
{
    using var output = new MemoryStream();
    EvtxWriter.Write(output, events);
    Put($@"Windows\System32\winevt\Logs\{name}", output.ToArray());
}
Log("System.evtx", [Scm(101, 0, "IIS Admin Service", "%%2148073494"), Schannel(102, 3), Schannel(103, 9), Scm(104, 15, "IIS Admin Service", "%%2148073478")]);
Console.WriteLine($"demo image written to {root}");
