using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto.Lsa;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Machine.Recovery;

/// <summary>Which keys to recover: everything, one container name, or the key of one certificate.</summary>
public sealed record RecoverySelection(string? Container = null, string? Thumbprint = null)
{
    public static RecoverySelection All { get; } = new();
}

/// <summary>
/// One key file and what recovery made of it. <see cref="Key"/> holds the private key in memory for the caller to
/// write out; every other member is safe to report.
/// </summary>
public sealed record RecoveredKey
{
    public required string Path { get; init; }
    public required KeyProviderKind Kind { get; init; }
    public string? Container { get; init; }
    /// <summary>AT_KEYEXCHANGE / AT_SIGNATURE for CAPI keys; null for CNG.</summary>
    public KeySpec? Spec { get; init; }
    public Guid? MasterKeyGuid { get; init; }
    public string? MasterKeyOpenedWith { get; init; }
    public string? Algorithm { get; init; }
    public int? KeyBits { get; init; }
    public string? PublicKeySha256 { get; init; }
    /// <summary>What the file's export flag (CAPI) or Export Policy (CNG) says; null when it could not be read.</summary>
    public bool? MarkedExportable { get; init; }
    public IReadOnlyList<StoredCertificate> Certificates { get; init; } = [];
    public RecoveredPrivateKey? Key { get; init; }
    /// <summary>Why the key was not recovered; null on success.</summary>
    public string? Failure { get; init; }
    /// <summary>
    /// The file whose damage stopped the recovery (the key file, or the master-key file it needs), as opposed to a
    /// secret that is missing or wrong; null otherwise. <c>recover</c> ends with exit 2 naming it.
    /// </summary>
    public string? DamagedFile { get; init; }
    public bool Recovered => Key is not null && Failure is null;
    public override string ToString() => $"{Path} {(Recovered ? "recovered" : "failed: " + Failure)}";
}

public sealed record RecoveryResult
{
    /// <summary>Why DPAPI_SYSTEM could not be had (missing hive, "these hives do not belong together"); null when it was.</summary>
    public string? SystemSecretFailure { get; init; }
    public bool HasSystemSecret { get; init; }
    public IReadOnlyList<RecoveredKey> Keys { get; init; } = [];
    public IReadOnlyList<MasterKeyOutcome> MasterKeys { get; init; } = [];
    /// <summary>Selected certificates for which no key file was found.</summary>
    public IReadOnlyList<StoredCertificate> CertificatesWithoutKey { get; init; } = [];
}

/// <summary>
/// Recovers machine (and, with a credential, user) private keys from an offline Windows image or bundle:
/// SYSTEM + SECURITY → DPAPI_SYSTEM → master keys by GUID → CAPI/CNG key files → RSA/EC keys, joined to the
/// certificates of the stores by public key. Failures are data in the result, never exceptions, except for an
/// unreadable source.
/// </summary>
public static class KeyRecovery
{
    private const long MaxKeyFileLength = 1 << 20;
    private static readonly byte[] CapiExportFlagEntropy = Encoding.ASCII.GetBytes("Hj1diQ6kpUx7VC4m\0");
    private static readonly byte[] CngPropertiesEntropy = Encoding.ASCII.GetBytes("6jnkd5J3ZdQDtrsu\0");
    private static readonly byte[] CngPrivateKeyEntropy = Encoding.ASCII.GetBytes("xT5rZW5qVVbrvpuA\0");

    /// <param name="domainKey">
    /// The domain DPAPI backup key: opens the master keys of every domain user with a profile in the source, so their
    /// key folders are searched too.
    /// </param>
    public static RecoveryResult Recover(IMachineSource source, RecoverySelection selection, UserCredential? user = null,
                                         DomainBackupKey? domainKey = null)
    {
        var (system, systemFailure) = ReadSystemSecret(source);
        var catalogue = KeyStoreCatalogue.Of(source);
        var ring = new MasterKeyRing(source, system, user, domainKey, catalogue);
        var userKeySets = UserKeySets(source, catalogue, user, domainKey is not null);
        var certificates = ReadCertificates(source, catalogue, userKeySets);

        var keys = new List<RecoveredKey>();
        foreach (var (folder, kind) in KeyFolders(catalogue, userKeySets).Distinct())
            foreach (var file in source.EnumerateFiles(folder).Where(f => !f.IsDirectory).OrderBy(f => f.Path, StringComparer.OrdinalIgnoreCase))
                keys.AddRange(RecoverFile(source, file, kind, ring));

        var joined = keys.Select(k => k with
        {
            Certificates = k.PublicKeySha256 is null ? [] : certificates.Where(c => SpkiSha256(c) == k.PublicKeySha256).ToList(),
        }).ToList();
        var selected = joined.Where(k => Selected(k, selection)).ToList();

        var withoutKey = selection.Thumbprint is { } wanted
            ? certificates.Where(c => SameThumbprint(c.Thumbprint, wanted) && !selected.Any(k => k.Certificates.Contains(c))).ToList()
            : [];
        return new RecoveryResult
        {
            HasSystemSecret = system is not null,
            SystemSecretFailure = systemFailure,
            Keys = selected,
            MasterKeys = ring.Outcomes.ToList(),
            CertificatesWithoutKey = withoutKey,
        };
    }

    /// <summary>SYSTEM + SECURITY of the source → DPAPI_SYSTEM, or the reason it could not be had.</summary>
    public static (DpapiSystemSecret? Secret, string? Failure) ReadSystemSecret(IMachineSource source)
    {
        var systemPath = source.GetLocalPath(WindowsPaths.SystemHive);
        var securityPath = source.GetLocalPath(WindowsPaths.SecurityHive);
        if (systemPath is null) return (null, $@"no SYSTEM hive ({WindowsPaths.SystemHive})");
        if (securityPath is null) return (null, $@"no SECURITY hive ({WindowsPaths.SecurityHive})");
        try
        {
            return (LsaSecrets.DpapiSystem(RegistryHive.Open(systemPath), RegistryHive.Open(securityPath)), null);
        }
        catch (Exception e) when (e is MalformedDataException or HivesDoNotMatchException or IOException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// The users whose keys are searched, as (profile, SID): the named user's, and with the domain backup key every
    /// user with master keys in the source. Profiles come from the source's layout (Users or Documents and Settings).
    /// </summary>
    private static List<(string Profile, string Sid)> UserKeySets(IMachineSource source, KeyStoreCatalogue catalogue, UserCredential? user, bool everyUser) =>
        catalogue.MasterKeyFolders
            .Where(f => f is { Owner: KeyStoreOwner.User, Profile: not null }
                        && (user is not null && f.Sid.Equals(user.Sid, StringComparison.OrdinalIgnoreCase)
                            || everyUser && MasterKeyRing.IsUserSid(f.Sid) && source.DirectoryExists(f.Path)))
            .Select(f => (f.Profile!, f.Sid)).Distinct().ToList();

    /// <summary>The machine's and LocalSystem's stores, then the CryptoAPI and CNG stores of each user searched.</summary>
    private static IEnumerable<(string Folder, KeyProviderKind Kind)> KeyFolders(KeyStoreCatalogue catalogue, List<(string Profile, string Sid)> users)
    {
        foreach (var store in catalogue.SystemStores) yield return (store.Path, store.Kind);
        foreach (var store in catalogue.Stores.Where(s => s is { Owner: KeyStoreOwner.User, Profile: not null }))
        {
            var searched = store.Kind == KeyProviderKind.Cng
                ? users.Any(u => u.Profile.Equals(store.Profile, StringComparison.OrdinalIgnoreCase))
                : users.Contains((store.Profile!, store.Sid ?? ""));
            if (searched) yield return (store.Path, store.Kind);
        }
    }

    private static IEnumerable<RecoveredKey> RecoverFile(IMachineSource source, MachineFile file, KeyProviderKind kind, MasterKeyRing ring)
    {
        if (file.Length > MaxKeyFileLength)
            return [new RecoveredKey { Path = file.Path, Kind = kind, Failure = $"{file.Length} bytes, too large for a key file" }];
        try
        {
            var data = new byte[file.Length];
            using (var stream = source.OpenRead(file.Path)) stream.ReadExactly(data);
            return kind == KeyProviderKind.Capi ? RecoverCapi(file.Path, data, ring) : [RecoverCng(file.Path, data, ring)];
        }
        catch (Exception e) when (e is MalformedDataException or IOException or EndOfStreamException)
        {
            return [new RecoveredKey { Path = file.Path, Kind = kind, Failure = e.Message, DamagedFile = e is MalformedDataException ? file.Path : null }];
        }
    }

    public static IReadOnlyList<RecoveredKey> RecoverCapi(string path, byte[] data, MasterKeyRing ring)
    {
        var file = CapiKeyFile.Parse(data);
        var result = new List<RecoveredKey>();
        foreach (var pair in file.KeyPairs)
        {
            var report = new RecoveredKey
            {
                Path = path, Kind = KeyProviderKind.Capi, Container = file.Name, Spec = pair.Spec,
                PublicKeySha256 = pair.PublicKey?.ToPublicKeyInfo().Sha256, KeyBits = (int?)pair.PublicKey?.BitLength,
                Algorithm = pair.PublicKey is null ? null : "RSA", MasterKeyGuid = pair.PrivateKey?.MasterKeyGuid,
            };
            if (pair.PrivateKey is null) { result.Add(report with { Failure = "no private key blob in this slot" }); continue; }
            var masterKey = ring.Open(pair.PrivateKey.MasterKeyGuid, out var outcome);
            report = report with { MasterKeyOpenedWith = outcome.OpenedWith };
            if (masterKey is null) { result.Add(report with { Failure = $"master key {outcome.Guid}: {outcome.Failure}", DamagedFile = outcome.DamagedFile }); continue; }

            bool? exportable = null;
            if (pair.ExportFlag is not null && DpapiBlobDecryptor.Decrypt(pair.ExportFlag, masterKey, CapiExportFlagEntropy) is { Success: true } flag
                && flag.Plaintext!.Length >= 4)
                exportable = (BinaryPrimitives.ReadUInt32LittleEndian(flag.Plaintext) & 1) != 0; // CRYPT_EXPORTABLE
            report = report with { MarkedExportable = exportable };

            var decrypted = DpapiBlobDecryptor.Decrypt(pair.PrivateKey, masterKey);
            if (!decrypted.Success) { result.Add(report with { Failure = $"private key blob: {decrypted.Failure}" }); continue; }
            try
            {
                var key = CapiPrivateKeyBlob.Parse(decrypted.Plaintext);
                CryptographicOperations.ZeroMemory(decrypted.Plaintext);
                if (report.PublicKeySha256 is { } expected && key.PublicKey!.Sha256 != expected)
                {
                    result.Add(report with { Failure = "the decrypted private key does not match the file's public key" });
                    continue;
                }
                result.Add(report with { Key = key, Algorithm = key.Algorithm, KeyBits = key.KeyBits, PublicKeySha256 = key.PublicKey!.Sha256 });
            }
            catch (MalformedDataException e)
            {
                result.Add(report with { Failure = DamagedKey(e), DamagedFile = path });
            }
        }
        if (result.Count == 0) result.Add(new RecoveredKey { Path = path, Kind = KeyProviderKind.Capi, Container = file.Name, Failure = "no key pair in the file" });
        return result;
    }

    public static RecoveredKey RecoverCng(string path, byte[] data, MasterKeyRing ring)
    {
        var file = CngKeyFile.Parse(data);
        var report = new RecoveredKey
        {
            Path = path, Kind = KeyProviderKind.Cng, Container = file.Name, PublicKeySha256 = file.PublicKey?.Sha256,
            Algorithm = file.PublicKey?.Algorithm, KeyBits = file.PublicKey?.KeyBits, MasterKeyGuid = file.PrivateKey?.MasterKeyGuid,
        };
        if (file.PrivateKey is null) return report with { Failure = "no private key blob" };
        var masterKey = ring.Open(file.PrivateKey.MasterKeyGuid, out var outcome);
        report = report with { MasterKeyOpenedWith = outcome.OpenedWith };
        if (masterKey is null) return report with { Failure = $"master key {outcome.Guid}: {outcome.Failure}", DamagedFile = outcome.DamagedFile };

        if (file.PrivateProperties is { } propertiesBlob)
        {
            var masterForProperties = propertiesBlob.MasterKeyGuid == file.PrivateKey.MasterKeyGuid ? masterKey : ring.Open(propertiesBlob.MasterKeyGuid, out _);
            if (masterForProperties is not null && DpapiBlobDecryptor.Decrypt(propertiesBlob, masterForProperties, CngPropertiesEntropy) is { Success: true } props)
            {
                try
                {
                    var policy = KeyDoctor.Formats.KeyFiles.CngProperty.ReadList(props.Plaintext, 0).FirstOrDefault(p => p.Name == "Export Policy");
                    if (policy is { Value.Length: >= 4 })
                        report = report with { MarkedExportable = (BinaryPrimitives.ReadUInt32LittleEndian(policy.Value.Span) & 3) != 0 };
                }
                catch (MalformedDataException) { /* the export policy is informational */ }
            }
        }

        var decrypted = DpapiBlobDecryptor.Decrypt(file.PrivateKey, masterKey, CngPrivateKeyEntropy);
        if (!decrypted.Success) return report with { Failure = $"private key blob: {decrypted.Failure}" };
        try
        {
            var key = BcryptPrivateKeyBlob.Parse(decrypted.Plaintext);
            CryptographicOperations.ZeroMemory(decrypted.Plaintext);
            if (!key.IsAsymmetric)
                return report with { Algorithm = key.Algorithm, KeyBits = key.KeyBits, Failure = $"a symmetric {key.Algorithm} key, not a certificate key: not exported" };
            if (report.PublicKeySha256 is { } expected && key.PublicKey!.Sha256 != expected)
                return report with { Failure = "the decrypted private key does not match the file's public key" };
            return report with { Key = key, Algorithm = key.Algorithm, KeyBits = key.KeyBits, PublicKeySha256 = key.PublicKey!.Sha256 };
        }
        catch (MalformedDataException e)
        {
            return report with { Failure = DamagedKey(e), DamagedFile = path };
        }
    }

    /// <summary>The blob decrypted, so the master key was right: what it holds is damaged, not the credential.</summary>
    private static string DamagedKey(MalformedDataException e) =>
        $"the private key decrypted but is damaged ({e.Message}, offset within the decrypted key): " +
        "restore the key file from a backup, or import the certificate again from its PFX";

    private static List<StoredCertificate> ReadCertificates(IMachineSource source, KeyStoreCatalogue catalogue, List<(string Profile, string Sid)> users)
    {
        var result = new List<StoredCertificate>();
        try
        {
            var softwarePath = source.GetLocalPath(WindowsPaths.SoftwareHive);
            IRegistryHive? software = softwarePath is null ? null : RegistryHive.Open(softwarePath);
            var hives = new List<IRegistryHive>();
            foreach (var profile in catalogue.Profiles.Where(p => users.Any(u => u.Profile.Equals(p.Path, StringComparison.OrdinalIgnoreCase))))
                if (source.GetLocalPath(KeyStoreCatalogue.UserHive(profile)) is { } ntUser)
                    hives.Add(RegistryHive.Open(ntUser));
            result.AddRange(new WindowsRegistry(software, null).Certificates());
            foreach (var hive in hives) result.AddRange(new WindowsRegistry(null, null, hive).Certificates().Where(c => c.Location == "CurrentUser"));
        }
        catch (Exception e) when (e is MalformedDataException or IOException)
        {
            // Keys are still recovered without their certificates; the report says none matched.
        }
        return result;
    }

    private static string? SpkiSha256(StoredCertificate certificate)
    {
        if (certificate.Entry?.Certificate is not { } x509) return null;
        return PublicKeyInfo.FingerprintOf(x509);
    }

    private static bool Selected(RecoveredKey key, RecoverySelection selection)
    {
        if (selection.Container is { } container && !string.Equals(key.Container, container, StringComparison.OrdinalIgnoreCase)) return false;
        if (selection.Thumbprint is { } thumbprint && !key.Certificates.Any(c => SameThumbprint(c.Thumbprint, thumbprint))) return false;
        return true;
    }

    private static bool SameThumbprint(string a, string b) =>
        string.Equals(Thumbprint.Normalize(a) ?? a, Thumbprint.Normalize(b) ?? b, StringComparison.OrdinalIgnoreCase);
}
