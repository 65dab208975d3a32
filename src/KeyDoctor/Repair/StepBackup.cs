using System.Text.Json;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Certificates;

namespace KeyDoctor.Repair;

/// <summary>A registry value as the step backup keeps it: its type name and its data in hex.</summary>
public sealed record RegistryValueData(string Kind, string Data);

/// <summary>The machine a step backup reads and restores: files by local path, registry values, and where key files live.</summary>
public interface IStepMachine
{
    RegistryValueData? ReadValue(string key, string name);

    /// <summary>Writes a value; null deletes it (it did not exist before).</summary>
    void WriteValue(string key, string name, RegistryValueData? value);

    /// <summary>The machine's MachineGuid, to find the key file a certificate links to.</summary>
    string? MachineGuid { get; }

    /// <summary>The local folder of CryptoAPI (or CNG) machine keys.</summary>
    string MachineKeysFolder(bool cng);

    /// <summary>A file's DACL (SDDL) where the OS has ACLs, else null.</summary>
    string? ReadDacl(string localPath);

    void WriteDacl(string localPath, string sddl);
}

public sealed record StepBackupFile(string Path, bool Existed, string? Copy, string? Sha256)
{
    /// <summary>The file's DACL as SDDL (Windows), put back with it.</summary>
    public string? Dacl { get; init; }
}

public sealed record StepBackupValue(string Key, string Name, RegistryValueData? Value);

/// <summary>A certificate's registry Blob, and the key file it linked to when the backup was taken.</summary>
public sealed record StepBackupCertificate(string Store, string KeyName, RegistryValueData? Blob, string? KeyFile);

/// <summary>
/// The manifest of one step's backup (<c>manifest.json</c> in the step's folder): each file by name, whether it
/// existed, its SHA-256 and the name of its copy; each registry value as it was; each certificate's entry.
/// </summary>
public sealed record StepBackupManifest
{
    public const string FileName = "manifest.json";
    public const string FormatName = "keydoctor-step-backup";

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = 1;
    public DateTimeOffset CreatedUtc { get; init; }
    public IReadOnlyList<StepBackupFile> Files { get; init; } = [];
    public IReadOnlyList<StepBackupValue> RegistryValues { get; init; } = [];
    public IReadOnlyList<StepBackupCertificate> Certificates { get; init; } = [];

    /// <summary>When a restore put everything back: a second restore then has nothing to do.</summary>
    public DateTimeOffset? RestoredUtc { get; init; }
}

/// <summary>
/// <c>keydoctor repair backup</c> and <c>restore</c>: back up exactly what a step changes, by name, into the step's own
/// owner-only folder, and put back exactly that: files as they were (with their DACL), files that did not exist
/// removed, registry values as they were, a certificate's entry as it was and the key file an import made for it
/// removed. Nothing else in any folder is touched: no mirroring, no whole-folder copies.
/// </summary>
public static class StepBackup
{
    private const string CertificatesKey = @"HKLM\SOFTWARE\Microsoft\SystemCertificates";

    /// <param name="folder">The step's folder: created owner-only; refused when it already holds a manifest.</param>
    /// <param name="files">Local paths of the files the step changes.</param>
    /// <param name="values">Registry values as <c>KEY:NAME</c> (split at the last colon).</param>
    /// <param name="certificates">Certificates as <c>STORE\KEYNAME</c>.</param>
    public static StepBackupManifest Create(string folder, IReadOnlyList<string> files, IReadOnlyList<string> values,
                                            IReadOnlyList<string> certificates, IStepMachine? machine, DateTimeOffset now)
    {
        var manifestPath = Path.Combine(folder, StepBackupManifest.FileName);
        if (File.Exists(manifestPath)) throw new InvalidOperationException($"{folder} already holds a backup; each step backs up into a folder of its own");
        OwnerOnlyFile.CreateDirectory(folder);
        var backedUp = new List<StepBackupFile>();
        foreach (var path in files)
        {
            var full = Path.GetFullPath(path);
            if (backedUp.Any(f => string.Equals(f.Path, full, StringComparison.OrdinalIgnoreCase))) continue;
            if (!File.Exists(full))
            {
                backedUp.Add(new StepBackupFile(full, Existed: false, Copy: null, Sha256: null));
                continue;
            }
            var content = File.ReadAllBytes(full);
            var copy = $"{backedUp.Count:D2}-{Path.GetFileName(full)}";
            OwnerOnlyFile.WriteAllBytes(Path.Combine(folder, copy), content);
            backedUp.Add(new StepBackupFile(full, Existed: true, copy, RepairFiles.Sha256(content)) { Dacl = machine?.ReadDacl(full) });
        }
        var savedValues = values.Select(v =>
        {
            var (key, name) = SplitValue(v);
            return new StepBackupValue(key, name, Registry(machine).ReadValue(key, name));
        }).ToList();
        var savedCertificates = certificates.Select(c =>
        {
            var (store, keyName) = SplitCertificate(c);
            var blob = Registry(machine).ReadValue(CertificateKey(store, keyName), "Blob");
            return new StepBackupCertificate(store, keyName, blob, LinkedKeyFile(blob, machine!));
        }).ToList();
        var manifest = new StepBackupManifest { CreatedUtc = now, Files = backedUp, RegistryValues = savedValues, Certificates = savedCertificates };
        Write(folder, manifest);
        return manifest;
    }

    /// <summary>Puts back what <paramref name="folder"/>'s manifest holds; returns what was done, one line each.</summary>
    public static IReadOnlyList<string> Restore(string folder, IStepMachine? machine)
    {
        var manifest = Read(folder);
        if (manifest.RestoredUtc is not null) return ["nothing to put back: this backup was restored already"];
        var done = new List<string>();
        // Check every copy first: a damaged backup is never half restored.
        foreach (var file in manifest.Files.Where(f => f.Existed))
            if (!RepairFiles.HasSha256(File.ReadAllBytes(Path.Combine(folder, file.Copy!)), file.Sha256))
                throw new InvalidOperationException($"the backup of {file.Path} in {folder} is damaged (SHA-256 differs); nothing was put back");
        foreach (var certificate in manifest.Certificates.Reverse())
        {
            var key = CertificateKey(certificate.Store, certificate.KeyName);
            var now = Registry(machine).ReadValue(key, "Blob");
            // The key file an import made for the certificate (it links there now, and the file is newer than the backup).
            if (LinkedKeyFile(now, machine!) is { } made && !string.Equals(made, certificate.KeyFile, StringComparison.OrdinalIgnoreCase)
                && File.Exists(made) && File.GetCreationTimeUtc(made) >= manifest.CreatedUtc.UtcDateTime.AddSeconds(-2))
            {
                File.Delete(made);
                done.Add($"removed {made} (the key file the change made for certificate {certificate.KeyName})");
            }
            machine!.WriteValue(key, "Blob", certificate.Blob);
            done.Add($"put back certificate {certificate.Store}\\{certificate.KeyName}'s registry entry");
        }
        foreach (var value in manifest.RegistryValues.Reverse())
        {
            Registry(machine).WriteValue(value.Key, value.Name, value.Value);
            done.Add(value.Value is null ? $"removed {value.Key}:{value.Name} (it did not exist before)" : $"put back {value.Key}:{value.Name}");
        }
        foreach (var file in manifest.Files.Reverse())
        {
            if (!file.Existed)
            {
                if (File.Exists(file.Path))
                {
                    File.Delete(file.Path);
                    done.Add($"removed {file.Path} (it did not exist before)");
                }
                continue;
            }
            var content = File.ReadAllBytes(Path.Combine(folder, file.Copy!));
            WriteThroughTemp(file.Path, content);
            if (file.Dacl is { } dacl) machine?.WriteDacl(file.Path, dacl);
            done.Add($"put back {file.Path}");
        }
        Write(folder, manifest with { RestoredUtc = DateTimeOffset.UtcNow });
        return done;
    }

    public static StepBackupManifest Read(string folder)
    {
        var path = Path.Combine(folder, StepBackupManifest.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} holds no step backup ({StepBackupManifest.FileName})", path);
        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllText(path), RepairJson.Context.StepBackupManifest);
            if (manifest is null || manifest.Format != StepBackupManifest.FormatName)
                throw new Formats.MalformedDataException(StepBackupManifest.FormatName, 0, $"{path} is not a step backup manifest");
            // Copies are plain names inside the folder: a manifest never points a restore elsewhere.
            if (manifest.Files.Any(f => f.Existed && (f.Copy is null || f.Copy != Path.GetFileName(f.Copy) || f.Copy.StartsWith('.'))))
                throw new Formats.MalformedDataException(StepBackupManifest.FormatName, 0, $"{path} names a copy outside its folder");
            return manifest;
        }
        catch (JsonException ex)
        {
            throw new Formats.MalformedDataException(StepBackupManifest.FormatName, ex.BytePositionInLine ?? 0, $"{path} is not a step backup manifest: {ex.Message}", ex);
        }
    }

    /// <summary>Writes <paramref name="content"/> over <paramref name="path"/> through a temporary file beside it, so a crash never leaves half a file.</summary>
    public static void WriteThroughTemp(string path, byte[] content)
    {
        var temp = path + ".keydoctor-tmp";
        File.WriteAllBytes(temp, content);
        if (File.Exists(path) && OperatingSystem.IsWindows()) File.Replace(temp, path, null); // keeps the replaced file's ACL
        else File.Move(temp, path, overwrite: true);
    }

    private static void Write(string folder, StepBackupManifest manifest)
    {
        var path = Path.Combine(folder, StepBackupManifest.FileName);
        var temp = path + ".tmp";
        if (File.Exists(temp)) File.Delete(temp);
        OwnerOnlyFile.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(manifest, RepairJson.Context.StepBackupManifest));
        File.Move(temp, path, overwrite: true);
    }

    private static IStepMachine Registry(IStepMachine? machine) =>
        machine ?? throw new InvalidOperationException("registry values can be backed up and restored only on the Windows server itself");

    internal static (string Key, string Name) SplitValue(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1) throw new ArgumentException($"{value} is not KEY:VALUE (e.g. HKLM\\SOFTWARE\\Microsoft\\Cryptography:MachineGuid)");
        return (value[..colon], value[(colon + 1)..]);
    }

    private static (string Store, string KeyName) SplitCertificate(string certificate)
    {
        var slash = certificate.IndexOf('\\');
        if (slash <= 0 || slash == certificate.Length - 1 || certificate.IndexOf('\\', slash + 1) >= 0)
            throw new ArgumentException($"{certificate} is not STORE\\THUMBPRINT (e.g. MY\\C22260C5...)");
        return (certificate[..slash], certificate[(slash + 1)..]);
    }

    private static string CertificateKey(string store, string keyName) => $@"{CertificatesKey}\{store}\Certificates\{keyName}";

    /// <summary>The local key file a certificate's registry Blob links to (its CERT_KEY_PROV_INFO), or null.</summary>
    private static string? LinkedKeyFile(RegistryValueData? blob, IStepMachine machine)
    {
        if (blob is null || machine.MachineGuid is not { } guid) return null;
        try
        {
            var entry = SerializedCertificateEntry.Parse(Convert.FromHexString(blob.Data));
            if (entry.KeyProviderInfo is not { ContainerName: not null } link) return null;
            return Path.Combine(machine.MachineKeysFolder(link.IsCng), link.ExpectedKeyFile(guid).FileName);
        }
        catch (Exception ex) when (ex is Formats.MalformedDataException or FormatException)
        {
            return null;
        }
    }
}
