using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Tests.Certificates;

namespace KeyDoctor.Tests.Scan;

/// <summary>
/// Builds a scenario image the way a copied server disk looks: registry as a .reg export, key files written with
/// the project's CAPI writer, IIS configuration files. One healthy server by default; each test breaks one thing.
/// </summary>
internal sealed class ScanImage : IDisposable
{
    public const string Guid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    public const string OldGuid = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
    private readonly StringBuilder _registry = new();
    private readonly List<(string Endpoint, string Hash, string Store)> _httpSys = [];
    private static readonly Lazy<DpapiBlob> SampleBlob = new(() =>
        CapiKeyFile.Parse(Fixtures.Bytes("keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b")).Exchange!.PrivateKey!);

    public string Root { get; } = Directory.CreateTempSubdirectory("kd-scan-").FullName;
    public string MachineGuid { get; set; } = Guid;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public string Put(string relative, byte[] content)
    {
        var path = Path.Combine(Root, relative.Replace('\\', '/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public string Put(string relative, string text) => Put(relative, Encoding.UTF8.GetBytes(text));

    /// <summary>A machine key file for <paramref name="container"/> holding <paramref name="rsa"/>'s public key.</summary>
    public string KeyFile(string container, RSA rsa, string? guid = null, KeySpec spec = KeySpec.KeyExchange) =>
        KeyFileAt($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.CapiPrefix(container)}_{guid ?? MachineGuid}", container, rsa, spec);

    /// <summary>A certificate in the machine's store, with its key link, and (by default) its key file.</summary>
    /// <param name="machineKeySet">False: a key link without CRYPT_MACHINE_KEYSET (the key is in a user's or service's store).</param>
    /// <param name="moreProperties">Further serialized properties (CertificateBlobBuilder.Property) of the store entry.</param>
    public (X509Certificate2 Certificate, RSA Key) Certificate(string subject, string container, uint keySpec = 1, bool keyLink = true,
        bool keyFile = true, string store = "MY", DateTimeOffset? notAfter = null, bool machineKeySet = true,
        string provider = "Microsoft RSA SChannel Cryptographic Provider", IEnumerable<byte[]>? moreProperties = null)
    {
        var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
            notAfter ?? new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var link = keyLink ? CertificateBlobBuilder.KeyProviderInfo(container, provider, 12, machineKeySet ? 0x20u : 0u, keySpec) : null;
        _registry.Append($"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\{store}\\Certificates\\{certificate.Thumbprint}]\r\n")
            .Append($"\"Blob\"=hex:{CertificateBlobBuilder.Hex(CertificateBlobBuilder.Blob(certificate, link, moreProperties: moreProperties))}\r\n\r\n");
        if (keyFile) KeyFile(container, rsa, spec: keySpec == 2 ? KeySpec.Signature : KeySpec.KeyExchange);
        return (certificate, rsa);
    }

    /// <summary>More of the registry export, as .reg text (keys and values).</summary>
    public void Registry(string regText) => _registry.Append(regText).Append("\r\n\r\n");

    /// <summary>A ProfileList entry (the profile's folder may or may not be on the disk).</summary>
    public void ProfileListEntry(string sid, string profileImagePath) =>
        Registry($"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\{sid}]\r\n\"ProfileImagePath\"=\"{profileImagePath.Replace("\\", "\\\\")}\"");

    /// <summary>Writes a key file for <paramref name="rsa"/> at <paramref name="relativePath"/> (any store: machine, a user's, a service's).</summary>
    public string KeyFileAt(string relativePath, string container, RSA rsa, KeySpec spec = KeySpec.KeyExchange)
    {
        var parameters = rsa.ExportParameters(false);
        var exponent = parameters.Exponent!.Aggregate(0u, (value, b) => (value << 8) | b);
        var pair = new CapiKeyPairContent(CapiRsaPublicKey.Create(parameters.Modulus, exponent), SampleBlob.Value, SampleBlob.Value);
        var content = new CapiKeyFileContent(container)
        {
            Exchange = spec == KeySpec.KeyExchange ? pair : null,
            Signature = spec == KeySpec.Signature ? pair : null,
        };
        return Put(relativePath, CapiKeyFileWriter.Write(content));
    }

    /// <summary>A MetaBase.xml whose SessionKey was made with a fresh IIS 6 key pair (exchange, signature), returned.</summary>
    public (RSA Exchange, RSA Signature) Metabase()
    {
        var (exchange, signature) = Iis.IisSamples.MetabaseKeys();
        var (sessionKey, secret) = Iis.IisSamples.MetabaseBlobs(exchange, signature);
        Put(@"Windows\System32\inetsrv\MetaBase.xml", Iis.IisSamples.Metabase(sessionKey, secret));
        return (exchange, signature);
    }

    /// <summary>The built image as a bundle zip beside it, with <paramref name="manifest"/> (ACLs, attributes); the caller deletes it.</summary>
    public string Bundle(BundleManifest manifest)
    {
        var zip = Path.Combine(Root, "..", Path.GetFileName(Root) + ".zip");
        using var archive = ZipFile.Open(zip, ZipArchiveMode.Create);
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
            archive.CreateEntryFromFile(file, Path.GetRelativePath(Root, file).Replace('\\', '/'));
        using var entry = archive.CreateEntry(BundleManifest.FileName).Open();
        entry.Write(manifest.ToJson());
        return zip;
    }

    public void HttpSysBinding(string endpoint, string thumbprint, string store = "MY") => _httpSys.Add((endpoint, thumbprint, store));

    public void Site(string name, int id, params string[] httpsBindings) => _sites.Add((name, id, httpsBindings));

    private readonly List<(string Name, int Id, string[] Bindings)> _sites = [];
    public string ExtraApplicationHost { get; set; } = "";

    /// <summary>The sslFlags of every https binding (2: Central Certificate Store).</summary>
    public string SslFlags { get; set; } = "0";
    public string Providers { get; set; } = "";

    /// <summary>Writes the registry export and applicationHost.config; call after configuring.</summary>
    public string Build()
    {
        var reg = new StringBuilder("Windows Registry Editor Version 5.00\r\n\r\n")
            .Append($"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n\"MachineGuid\"=\"{MachineGuid}\"\r\n\r\n")
            .Append("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\MY\\Certificates]\r\n\r\n")
            .Append(_registry)
            .Append("[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000001\r\n\r\n")
            .Append("[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo]\r\n\r\n");
        foreach (var (endpoint, hash, store) in _httpSys)
            reg.Append($"[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\HTTP\\Parameters\\SslBindingInfo\\{endpoint}]\r\n")
               .Append($"\"SslCertHash\"=hex:{CertificateBlobBuilder.Hex(Convert.FromHexString(hash))}\r\n\"SslCertStoreName\"=\"{store}\"\r\n")
               .Append("\"AppId\"=hex:81,e1,c3,4d,4b,e1,21,4a,b0,22,59,fc,66,9b,09,14\r\n\r\n");
        Put("registry/machine.reg", reg.ToString());
        Directory.CreateDirectory(Path.Combine(Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"));
        var sites = string.Concat(_sites.Select(s =>
            $"<site name=\"{s.Name}\" id=\"{s.Id}\"><bindings>" +
            string.Concat(s.Bindings.Select(b => $"<binding protocol=\"https\" bindingInformation=\"{b}\" sslFlags=\"{SslFlags}\" />")) +
            "</bindings></site>"));
        Put(@"Windows\System32\inetsrv\config\applicationHost.config",
            $"""<?xml version="1.0" encoding="UTF-8"?><configuration><configProtectedData><providers>{Providers}</providers></configProtectedData><system.applicationHost><sites>{sites}</sites>{ExtraApplicationHost}</system.applicationHost></configuration>""");
        return Root;
    }

    /// <summary>A healthy IIS server: one https site whose certificate, binding and key are all in place.</summary>
    public static ScanImage Healthy(out X509Certificate2 certificate)
    {
        var image = new ScanImage();
        (certificate, _) = image.Certificate("CN=shop.example.com", "shop-key");
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        return image;
    }
}
