using System.Runtime.Versioning;
using System.Security.AccessControl;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine.KeyStore;
using Microsoft.Win32;

namespace KeyDoctor.Repair;

/// <summary>When a key file may be written over: never, unless it is proven bad.</summary>
public sealed record KeyFileReplaceRule(string? ReplaceSha256, bool ReplaceDamaged)
{
    /// <summary>Why the file at <paramref name="name"/> holding <paramref name="existing"/> must not be replaced, or null when it may.</summary>
    public string? Refusal(string name, byte[]? existing)
    {
        if (existing is null) return null;
        if (ReplaceSha256 is not null)
            return RepairFiles.HasSha256(existing, ReplaceSha256) ? null
                : $"{name} exists and is not the file the plan proved bad (its SHA-256 changed since); not replacing it";
        if (ReplaceDamaged)
            return IsDamaged(name, existing) ? null : $"{name} exists and is no longer damaged; not replacing it";
        return $"{name} exists; KeyDoctor never replaces a key file that is not proven bad";
    }

    public static bool IsDamaged(string name, byte[] content) =>
        MachineState.IsDamaged(KeyFileInspector.Inspect(Path.GetFileName(name), content, content.Length).Report.Status);
}

/// <summary>
/// <c>keydoctor repair copy-file</c>: writes a key file with a copy of another (a file on the machine, a snapshot
/// entry, a file a person brought), never over a file that is not proven bad, through a temporary file, and checks
/// the result by SHA-256. The copy of a machine key keeps its source's DACL (so the services that read the key can
/// still read it); a replaced file keeps its own.
/// </summary>
public static class KeyFileCopy
{
    /// <returns>What was done, as a sentence.</returns>
    public static string Copy(byte[] content, string sourceName, string target, string? expectedSha256, KeyFileReplaceRule rule, string? daclOf, IStepMachine? machine)
    {
        var sha256 = RepairFiles.Sha256(content);
        if (expectedSha256 is not null && !sha256.Equals(expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{sourceName} is not the file the plan was made with (SHA-256 {sha256}, expected {expectedSha256}); nothing was written");
        if (KeyFileReplaceRule.IsDamaged(target, content)) // inspected under the name it will have
            throw new InvalidOperationException($"{sourceName} is not an intact key file; nothing was written");
        var existing = File.Exists(target) ? File.ReadAllBytes(target) : null;
        if (rule.Refusal(target, existing) is { } refusal) throw new InvalidOperationException(refusal);
        var dacl = existing is null && daclOf is not null ? machine?.ReadDacl(daclOf) : null;
        var temp = target + ".keydoctor-tmp";
        File.WriteAllBytes(temp, content);
        if (dacl is not null) machine!.WriteDacl(temp, dacl);
        if (!RepairFiles.HasSha256(File.ReadAllBytes(temp), sha256))
        {
            File.Delete(temp);
            throw new IOException($"the copy written to {temp} does not read back as {sourceName}; nothing was replaced");
        }
        if (existing is not null && OperatingSystem.IsWindows()) File.Replace(temp, target, null);
        else File.Move(temp, target, overwrite: existing is not null);
        if (!RepairFiles.HasSha256(File.ReadAllBytes(target), sha256))
            throw new IOException($"{target} does not read back as {sourceName} after writing");
        return $"{(existing is null ? "wrote" : "replaced")} {target} with {sourceName} ({content.Length} bytes, SHA-256 {sha256})";
    }
}

/// <summary>The Windows server itself for <see cref="StepBackup"/> and <see cref="KeyFileCopy"/>: HKLM and NTFS DACLs.</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsStepMachine : IStepMachine
{
    public string? MachineGuid => ReadValue(Diagnosis.Commands.FixCommands.MachineGuidKey, "MachineGuid") is { Kind: "String" } value
        ? System.Text.Encoding.Unicode.GetString(Convert.FromHexString(value.Data)).TrimEnd('\0') : null;

    public string MachineKeysFolder(bool cng) =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Microsoft", "Crypto", cng ? "Keys" : @"RSA\MachineKeys");

    public RegistryValueData? ReadValue(string key, string name)
    {
        using var opened = Open(key, writable: false);
        if (opened?.GetValue(name, null, RegistryValueOptions.DoNotExpandEnvironmentNames) is not { } value) return null;
        var kind = opened.GetValueKind(name);
        byte[] data = value switch
        {
            byte[] bytes => bytes,
            string text => System.Text.Encoding.Unicode.GetBytes(text + "\0"),
            string[] lines => System.Text.Encoding.Unicode.GetBytes(string.Concat(lines.Select(l => l + "\0")) + "\0"),
            int number => BitConverter.GetBytes(number),
            long number => BitConverter.GetBytes(number),
            _ => throw new InvalidOperationException($"{key}:{name} has a value type KeyDoctor does not back up"),
        };
        return new RegistryValueData(kind.ToString(), Convert.ToHexString(data));
    }

    public void WriteValue(string key, string name, RegistryValueData? value)
    {
        using var opened = Open(key, writable: true) ?? (value is null ? null : Create(key));
        if (opened is null) return;
        if (value is null)
        {
            opened.DeleteValue(name, throwOnMissingValue: false);
            return;
        }
        var kind = Enum.Parse<RegistryValueKind>(value.Kind);
        var data = Convert.FromHexString(value.Data);
        object typed = kind switch
        {
            RegistryValueKind.String or RegistryValueKind.ExpandString => System.Text.Encoding.Unicode.GetString(data).TrimEnd('\0'),
            RegistryValueKind.MultiString => System.Text.Encoding.Unicode.GetString(data).TrimEnd('\0').Split('\0'),
            RegistryValueKind.DWord => BitConverter.ToInt32(data),
            RegistryValueKind.QWord => BitConverter.ToInt64(data),
            _ => data,
        };
        opened.SetValue(name, typed, kind);
    }

    public string? ReadDacl(string localPath) =>
        new FileInfo(localPath).GetAccessControl(AccessControlSections.Access).GetSecurityDescriptorSddlForm(AccessControlSections.Access);

    public void WriteDacl(string localPath, string sddl)
    {
        var security = new FileSecurity();
        security.SetSecurityDescriptorSddlForm(sddl, AccessControlSections.Access);
        new FileInfo(localPath).SetAccessControl(security);
    }

    private static RegistryKey? Open(string key, bool writable) => Hive(key, out var path).OpenSubKey(path, writable);

    private static RegistryKey Create(string key) => Hive(key, out var path).CreateSubKey(path, writable: true);

    private static RegistryKey Hive(string key, out string path)
    {
        var slash = key.IndexOf('\\');
        var hive = slash < 0 ? key : key[..slash];
        path = slash < 0 ? "" : key[(slash + 1)..];
        return hive.ToUpperInvariant() switch
        {
            "HKLM" or "HKEY_LOCAL_MACHINE" => Registry.LocalMachine,
            _ => throw new ArgumentException($"{key}: only HKLM values are backed up"),
        };
    }
}
