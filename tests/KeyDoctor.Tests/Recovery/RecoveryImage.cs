using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Tests.Certificates;
using KeyDoctor.Tests.Crypto.Lsa;

namespace KeyDoctor.Tests.Recovery;

/// <summary>
/// A Windows image in a temporary folder whose machine keys are protected as on disk: SYSTEM and SECURITY hives
/// holding DPAPI_SYSTEM (LSA-encrypted), a system master key opened by its machine half, CAPI key files whose
/// private keys and export flags are DPAPI blobs, and a SOFTWARE hive with certificates joined to the keys.
/// </summary>
public sealed class RecoveryImage : IDisposable
{
    public static readonly DpapiSystemSecret SystemSecret = DpapiSystemSecret.FromHex(
        "01000000dcfd03644f501805c189e15e9367b01415dea75a4e25d96d26879ded571f5d48a6887455d28f66f5");

    public const string MachineGuid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";

    private readonly List<(string Thumbprint, byte[] Blob)> _certificates = [];

    public RecoveryImage(bool withHives = true)
    {
        Root = Path.Combine(Path.GetTempPath(), "kd-recover-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        if (withHives)
        {
            var (system, security, _) = LsaTestHives.Build(SystemSecret);
            Put(@"Windows\System32\config\SYSTEM", system.Bytes.ToArray());
            Put(@"Windows\System32\config\SECURITY", security.Bytes.ToArray());
        }
        MasterKeyGuid = Guid.NewGuid();
        MasterKey = RandomNumberGenerator.GetBytes(64);
        Put($@"Windows\System32\Microsoft\Protect\S-1-5-18\{MasterKeyGuid}",
            DpapiWriter.WriteMasterKeyFile(MasterKeyGuid, MasterKey, SystemSecret.MachineKey, rounds: 500));
        WriteSoftwareHive();
    }

    public string Root { get; }
    public Guid MasterKeyGuid { get; }
    public byte[] MasterKey { get; }

    public void Put(string windowsPath, byte[] data)
    {
        var path = Path.Combine(Root, windowsPath.Replace('\\', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
    }

    /// <summary>Adds a machine CAPI key (AT_KEYEXCHANGE) and, optionally, a certificate for it in LocalMachine\MY.</summary>
    public (RSA Key, X509Certificate2? Certificate) AddCapiKey(string container, bool exportable = false, bool withCertificate = true)
    {
        var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(true);
        var privateBlob = DpapiWriter.ProtectBlob(CapiPrivateBlob(parameters), MasterKey, MasterKeyGuid, "CryptoAPI Private Key", flags: DpapiBlobFlags.LocalMachine);
        var exportFlag = DpapiWriter.ProtectBlob(BitConverter.GetBytes(exportable ? 1u : 0u), MasterKey, MasterKeyGuid, "Export Flag",
            "Hj1diQ6kpUx7VC4m\0"u8, DpapiBlobFlags.LocalMachine);
        var content = new CapiKeyFileContent(container)
        {
            Exchange = new CapiKeyPairContent(CapiRsaPublicKey.Create(parameters.Modulus!, 65537), DpapiBlob.Parse(privateBlob), DpapiBlob.Parse(exportFlag)),
        };
        Put($@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{ContainerName.FileName(container, KeyProviderKind.Capi, Guid.Parse(MachineGuid))}",
            CapiKeyFileWriter.Write(content));
        X509Certificate2? certificate = null;
        if (withCertificate)
        {
            var request = new CertificateRequest($"CN={container}.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            certificate = X509CertificateLoader.LoadCertificate(withKey.RawData);
            var info = CertificateBlobBuilder.KeyProviderInfo(container, "Microsoft Enhanced RSA and AES Cryptographic Provider", 24, 0x20, 1);
            _certificates.Add((certificate.Thumbprint, CertificateBlobBuilder.Blob(certificate, info)));
            WriteSoftwareHive();
        }
        return (rsa, certificate);
    }

    /// <summary>
    /// Adds a user CAPI key (AT_KEYEXCHANGE, no certificate) under Users\&lt;profile&gt;\...\Crypto\RSA\&lt;SID&gt;,
    /// protected by the given (real) user master key.
    /// </summary>
    public RSA AddUserCapiKey(string profile, string sid, string container, byte[] masterKey, Guid masterKeyGuid)
    {
        var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(true);
        var privateBlob = DpapiWriter.ProtectBlob(CapiPrivateBlob(parameters), masterKey, masterKeyGuid, "CryptoAPI Private Key");
        var exportFlag = DpapiWriter.ProtectBlob(BitConverter.GetBytes(1u), masterKey, masterKeyGuid, "Export Flag", "Hj1diQ6kpUx7VC4m\0"u8);
        var content = new CapiKeyFileContent(container)
        {
            Exchange = new CapiKeyPairContent(CapiRsaPublicKey.Create(parameters.Modulus!, 65537), DpapiBlob.Parse(privateBlob), DpapiBlob.Parse(exportFlag)),
        };
        Put($@"Users\{profile}\AppData\Roaming\Microsoft\Crypto\RSA\{sid}\{ContainerName.FileName(container, KeyProviderKind.Capi, Guid.Parse(MachineGuid))}",
            CapiKeyFileWriter.Write(content));
        return rsa;
    }

    /// <summary>
    /// Adds a machine CNG ECDSA P-256 key (Crypto\Keys) written per the layout: 44-byte header, UTF-16 name, public
    /// properties (the unnamed ECS1 blob), private properties blob (Export Policy) and private key blob (ECS2, or
    /// <paramref name="privateKeyBlob"/> in its place: what the DPAPI blob decrypts to).
    /// </summary>
    public (ECDsa Key, X509Certificate2 Certificate) AddCngEcKey(string name, uint exportPolicy = 0, byte[]? privateKeyBlob = null)
    {
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ecdsa.ExportParameters(true);
        byte[] EcBlob(uint magic, bool withD) =>
            [.. BitConverter.GetBytes(magic), .. BitConverter.GetBytes(32u), .. p.Q.X!, .. p.Q.Y!, .. (withD ? p.D! : [])];
        var publicProperties = CngPropertyRecord(15, "", EcBlob(0x31534345, false));
        var privateProperties = DpapiWriter.ProtectBlob(CngPropertyRecord(3, "Export Policy", BitConverter.GetBytes(exportPolicy)),
            MasterKey, MasterKeyGuid, "Private Key Properties", "6jnkd5J3ZdQDtrsu\0"u8);
        var privateKey = DpapiWriter.ProtectBlob(privateKeyBlob ?? EcBlob(0x32534345, true), MasterKey, MasterKeyGuid, "Private Key", "xT5rZW5qVVbrvpuA\0"u8);
        var nameBytes = System.Text.Encoding.Unicode.GetBytes(name);
        var header = new byte[44];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 1);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 0x00030004);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), publicProperties.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), privateProperties.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(24), privateKey.Length);
        Put($@"ProgramData\Microsoft\Crypto\Keys\{ContainerName.FileName(name, KeyProviderKind.Cng, Guid.Parse(MachineGuid))}",
            [.. header, .. nameBytes, .. publicProperties, .. privateProperties, .. privateKey]);

        var request = new CertificateRequest($"CN={name}.test", ecdsa, HashAlgorithmName.SHA256);
        using var withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var certificate = X509CertificateLoader.LoadCertificate(withKey.RawData);
        var info = CertificateBlobBuilder.KeyProviderInfo(name, "Microsoft Software Key Storage Provider", 0, 0x20, 0);
        _certificates.Add((certificate.Thumbprint, CertificateBlobBuilder.Blob(certificate, info)));
        WriteSoftwareHive();
        return (ecdsa, certificate);
    }

    private static byte[] CngPropertyRecord(uint type, string name, byte[] value)
    {
        var nameBytes = System.Text.Encoding.Unicode.GetBytes(name);
        var record = new byte[20 + nameBytes.Length + value.Length];
        BinaryPrimitives.WriteInt32LittleEndian(record, record.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), type);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(12), nameBytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(16), value.Length);
        nameBytes.CopyTo(record, 20);
        value.CopyTo(record, 20 + nameBytes.Length);
        return record;
    }

    private void WriteSoftwareHive()
    {
        var root = new WritableKey("ROOT");
        var microsoft = root.Add("Microsoft");
        microsoft.Add("Cryptography").SetString("MachineGuid", MachineGuid);
        var store = microsoft.Add("SystemCertificates").Add("MY");
        var certificates = store.Add("Certificates");
        foreach (var (thumbprint, blob) in _certificates)
            certificates.Add(thumbprint).Set("Blob", RegistryValueType.Binary, blob);
        Put(@"Windows\System32\config\SOFTWARE", RegfWriter.Write(root, "SOFTWARE"));
    }

    /// <summary>rsaenh's private key body: 'RSA2', keylen, bitlen, datalen, e, then little-endian n, p, q, dp, dq, qInv, d, zero-padded.</summary>
    public static byte[] CapiPrivateBlob(RSAParameters p)
    {
        var bits = p.Modulus!.Length * 8;
        var keyLength = bits / 8 + 8;
        var half = keyLength / 2;
        var blob = new byte[20 + keyLength * 2 + half * 5 + 140]; // Windows leaves trailing zeros too
        BinaryPrimitives.WriteUInt32LittleEndian(blob, CapiPrivateKeyBlob.Rsa2Magic);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(4), keyLength);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(8), bits);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(12), bits / 8 - 1);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(16), 65537);
        var offset = 20;
        foreach (var (value, size) in new[] { (p.Modulus, keyLength), (p.P!, half), (p.Q!, half), (p.DP!, half), (p.DQ!, half), (p.InverseQ!, half), (p.D!, keyLength) })
        {
            var little = value.Reverse().ToArray();
            little.CopyTo(blob, offset);
            offset += size;
        }
        return blob;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
