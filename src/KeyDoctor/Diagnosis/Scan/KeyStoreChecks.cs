using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Security;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD1001-KD1004: the machine key store itself.</summary>
internal static class KeyStoreChecks
{
    public static readonly string Iis6Prefix = ContainerName.CapiPrefix("Microsoft Internet Information Server");

    /// <summary>Windows' default DACL of MachineKeys: Everyone 0x12019f and Administrators full control, this folder only.</summary>
    public const string DefaultMachineKeysDacl = "D:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)";

    /// <summary>KD1001: key files carry another GUID than the registry's MachineGuid.</summary>
    public static IEnumerable<Finding> MachineGuidChanged(MachineState state)
    {
        if (!Guid.TryParse(state.MachineGuid, out var current) || state.KeyFilesByGuid.Count == 0) yield break;
        var total = state.KeyFilesByGuid.Values.Sum();
        var others = state.KeyFilesByGuid.Where(p => p.Key != current).OrderByDescending(p => p.Value).ToList();
        if (others.Count == 0) yield break;
        var (likely, likelyCount) = (others[0].Key, others[0].Value);
        var currentCount = state.KeyFilesByGuid.GetValueOrDefault(current);
        // Well-known containers that exist only under another GUID are what services will fail to find.
        var stranded = state.KeyFiles
            .Where(f => f.Report.WellKnown is not null && f.Folder == WindowsPaths.MachineKeys)
            .GroupBy(f => f.Report.WellKnown!.Name)
            .Where(g => g.All(f => SuffixOf(f) != current))
            .Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        // A few strays under an old GUID are common (imported keys); most files, or a well-known container, are not.
        if (likelyCount < Math.Max(1, total / 10) && stranded.Count == 0) yield break;

        var evidence = new List<Evidence>
        {
            Evidence.ForRegistry(@"HKLM\SOFTWARE\Microsoft\Cryptography", "MachineGuid in the registry", current.ToString("D")),
            Evidence.ForValue($"key files ending in _{current:D} (the registry's GUID)", currentCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        evidence.AddRange(others.Take(5).Select(p => Evidence.ForValue($"key files ending in _{p.Key:D}", p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        evidence.AddRange(stranded.Select(name => Evidence.ForValue("well-known container only under another GUID", name)));
        yield return new Finding(FindingCatalog.MachineGuidChanged, current.ToString("D"),
            FindingCatalog.MachineGuidChanged.FormatMessage(likelyCount, total, likely.ToString("D"), current.ToString("D")))
        {
            Evidence = evidence,
            Properties = new Dictionary<string, string> { ["machineGuid"] = current.ToString("D"), ["likelyOriginalGuid"] = likely.ToString("D") },
            Fix = new Fix($"Put the original MachineGuid {likely:D} back (every key made before the change works again), or keep {current:D} and rename the key files that matter after a backup.")
            {
                PowerShell = "# Back up first: keydoctor snapshot -o before-guid-fix.zip\n" +
                             $"Set-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Cryptography -Name MachineGuid -Value '{likely:D}'\nRestart-Computer",
                Cmd = $"reg add HKLM\\SOFTWARE\\Microsoft\\Cryptography /v MachineGuid /t REG_SZ /d {likely:D} /f\nshutdown /r /t 0",
                Risk = $"Keys created since the change ({currentCount} file(s) under {current:D}) stop being found; other software may already rely on the new GUID.",
                NeedsReboot = true,
                NeedsDecision = true,
            },
        };
    }

    /// <summary>KD1002: the IIS 6 container is missing, duplicated or unreadable while MetaBase.xml holds a SessionKey.</summary>
    public static IEnumerable<Finding> Iis6Container(MachineState state)
    {
        if (state.Metabase is not { } metabase || metabase.SessionKey.Status == MetabaseBlobStatus.Missing) yield break;
        var files = state.KeyFiles.Where(f => f.Folder == WindowsPaths.MachineKeys && f.Report.FileName.StartsWith(Iis6Prefix, StringComparison.OrdinalIgnoreCase)).ToList();
        Guid.TryParse(state.MachineGuid, out var current);
        var underCurrent = files.Where(f => SuffixOf(f) == current).ToList();
        string? problem = null;
        if (files.Count == 0) problem = "has no key file at all";
        else if (underCurrent.Count == 0 && state.MachineGuid is not null) problem = $"exists only under another MachineGuid ({string.Join(", ", files.Select(f => SuffixOf(f)?.ToString("D") ?? "?"))})";
        else if (underCurrent.FirstOrDefault(f => MachineState.IsDamaged(f.Report.Status)) is { } broken)
            problem = $"is unreadable ({KeyFileStatusNames.Of(broken.Report.Status)})";
        else if (underCurrent.Count == 1 && !underCurrent[0].Report.KeySpecs.Contains(KeySpec.Signature))
            problem = "has no signature key (AT_SIGNATURE), which checks the SessionKey";
        else if (files.Count > 1) problem = $"is duplicated under {files.Count} GUIDs";
        if (problem is null) yield break;

        var evidence = files.Select(f => Evidence.ForFile(f.WindowsPath, $"{KeyFileStatusNames.Of(f.Report.Status)}, {f.Report.Size} bytes, key specs {string.Join("+", f.Report.KeySpecs)}")).ToList();
        evidence.Add(Evidence.ForConfiguration(WindowsPaths.Metabase, $"IIS_Global SessionKey is {metabase.SessionKey.Status}"));
        yield return new Finding(FindingCatalog.Iis6ContainerBroken, "Microsoft Internet Information Server",
            FindingCatalog.Iis6ContainerBroken.FormatMessage(Iis6Prefix, problem))
        {
            Severity = files.Count > 1 && underCurrent.Count == 1 ? Severity.Warning : Severity.Critical,
            Evidence = evidence,
            // Where the container's file belongs under the current GUID (a restore from a snapshot puts it there).
            Properties = state.MachineGuid is null ? new Dictionary<string, string>()
                : new Dictionary<string, string> { ["keyFile"] = WindowsPaths.Combine(WindowsPaths.MachineKeys, $"{Iis6Prefix}_{state.MachineGuid.ToLowerInvariant()}") },
            Fix = new Fix("Restore both key sets (exchange and signature) of \"Microsoft Internet Information Server\" from a backup of this server, or fix the MachineGuid (KD1001); verify with 'keydoctor metabase verify' before starting IISADMIN.")
            {
                PowerShell = "keydoctor keys import C:\\kd\\iis-keys.xml --container \"Microsoft Internet Information Server\"\nStart-Service IISADMIN",
                Cmd = "keydoctor keys import C:\\kd\\iis-keys.xml --container \"Microsoft Internet Information Server\"\nnet start iisadmin",
                Risk = "Importing a key set that did not encrypt this metabase makes IISADMIN fail with NTE_BAD_SIGNATURE; deleting the container loses every secure property.",
                NeedsIisRestart = true,
            },
        };
    }

    /// <summary>KD1003: damaged key files; severity by what depends on them.</summary>
    public static IEnumerable<Finding> CorruptKeyFiles(MachineState state)
    {
        var bound = SslChecks.BoundContainerPrefixes(state);
        var configured = (state.ApplicationHost?.Providers ?? []).Select(p => p.ExpectedKeyFilePrefix).OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var file in state.KeyFiles.Where(f => MachineState.IsDamaged(f.Report.Status)))
        {
            var prefix = file.Report.FileName.Length >= 32 ? file.Report.FileName[..32] : "";
            var (severity, dependsOn) =
                prefix.Equals(Iis6Prefix, StringComparison.OrdinalIgnoreCase) && state.Metabase is not null ? (Severity.Critical, "the IIS 6 metabase")
                : bound.Contains(prefix) ? (Severity.Error, "a bound certificate")
                : configured.Contains(prefix) ? (Severity.Error, "IIS protected configuration")
                : (Severity.Warning, null);
            var problem = file.Report.Problems.First(p => MachineState.IsDamaged(p.Status));
            var name = file.Report.WellKnown?.Name ?? file.Report.Container;
            yield return new Finding(FindingCatalog.KeyFileCorrupt, file.WindowsPath,
                FindingCatalog.KeyFileCorrupt.FormatMessage(file.WindowsPath, $"damaged ({KeyFileStatusNames.Of(problem.Status)}: {KeyFileStatusNames.Describe(problem.Status)})") +
                (name is null ? "" : $" (container {name})") + (dependsOn is null ? "" : $"; {dependsOn} uses it"))
            {
                Severity = severity,
                Evidence = [Evidence.ForFile(file.WindowsPath, problem.Evidence, value: $"{file.Report.Size} bytes")],
                Fix = new Fix("Restore the file from a backup or a snapshot; if a certificate used it, re-import the certificate's PFX.")
                {
                    PowerShell = $"Copy-Item C:\\kd\\snapshot\\{file.Report.FileName} \"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\\" -Force",
                    Cmd = $"copy /Y C:\\kd\\snapshot\\{file.Report.FileName} \"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\\\"",
                    Risk = "Keep the damaged file as evidence; a restored file from another machine holds another key.",
                },
            };
        }
        if (state.DamagedKeyFileCount > MachineState.MaxDamagedFilesKept)
            yield return new Finding(FindingCatalog.KeyFileCorrupt, "more damaged key files",
                $"{state.DamagedKeyFileCount - MachineState.MaxDamagedFilesKept} more damaged key files are not listed one by one");
    }

    /// <summary>KD1004: compression, EFS or a changed ACL on MachineKeys (bundles only).</summary>
    public static IEnumerable<Finding> AttributesAndAcl(MachineState state)
    {
        if (!state.Source.HasSecurityMetadata || state.Source is not FolderMachineSource source) yield break;
        if (source.GetDirectoryMetadata(WindowsPaths.MachineKeys) is { } folder)
        {
            if (folder.Attributes is { } attributes && (attributes & (NtfsAttributes.Compressed | NtfsAttributes.Encrypted)) != 0)
                yield return AttributeFinding(WindowsPaths.MachineKeys, "the folder", attributes);
            if (folder.Sddl is { } sddl && DaclDiffers(sddl, out var actual))
                yield return new Finding(FindingCatalog.KeyStoreAttributesOrAcl, WindowsPaths.MachineKeys + " ACL",
                    FindingCatalog.KeyStoreAttributesOrAcl.FormatMessage(WindowsPaths.MachineKeys, "has permissions that differ from Windows' default"))
                {
                    Evidence =
                    [
                        Evidence.ForFile(WindowsPaths.MachineKeys, "ACL (SDDL)", value: sddl),
                        Evidence.ForValue("Windows' default DACL", DefaultMachineKeysDacl),
                        Evidence.ForValue("entries", actual),
                    ],
                    Fix = AclFix,
                };
        }
        var flagged = state.Source.EnumerateFiles(WindowsPaths.MachineKeys)
            .Where(f => f.Attributes is { } a && (a & (NtfsAttributes.Compressed | NtfsAttributes.Encrypted)) != 0).Take(1000).ToList();
        if (flagged.Count > 0)
            yield return new Finding(FindingCatalog.KeyStoreAttributesOrAcl, WindowsPaths.MachineKeys + " files",
                FindingCatalog.KeyStoreAttributesOrAcl.FormatMessage($"{flagged.Count} key file(s) in {WindowsPaths.MachineKeys}", "are compressed or encrypted (EFS)"))
            {
                Evidence = flagged.Take(20).Select(f => Evidence.ForFile(f.Path, "attributes", value: f.Attributes!.Value.ToString())).ToList(),
                Fix = AttributeFix,
            };
    }

    private static Finding AttributeFinding(string path, string what, NtfsAttributes attributes) =>
        new(FindingCatalog.KeyStoreAttributesOrAcl, path + " attributes",
            FindingCatalog.KeyStoreAttributesOrAcl.FormatMessage(path, $"({what}) is {((attributes & NtfsAttributes.Encrypted) != 0 ? "encrypted (EFS)" : "compressed")}"))
        {
            Evidence = [Evidence.ForFile(path, "NTFS attributes", value: attributes.ToString())],
            Fix = AttributeFix,
        };

    private static bool DaclDiffers(string sddl, out string actual)
    {
        actual = sddl;
        try
        {
            var found = SecurityDescriptorString.Parse(sddl).Dacl ?? [];
            var expected = SecurityDescriptorString.Parse(DefaultMachineKeysDacl).Dacl!;
            actual = string.Join("; ", found.Select(a => a.Describe()));
            var explicitAces = found.Where(a => !a.Inherited).Select(a => a.ToString()).Order(StringComparer.Ordinal);
            return !explicitAces.SequenceEqual(expected.Select(a => a.ToString()).Order(StringComparer.Ordinal));
        }
        catch (Formats.MalformedDataException)
        {
            return true;
        }
    }

    private static readonly Fix AttributeFix = new("Undo NTFS compression and EFS on MachineKeys (decrypting EFS needs the account that encrypted it).")
    {
        PowerShell = "$mk = \"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\"\ncompact /u /s:\"$mk\" /i /q\ncipher /d /s:\"$mk\"",
        Cmd = "compact /u /s:\"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\" /i /q\ncipher /d /s:\"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\"",
    };

    private static readonly Fix AclFix = new("Give MachineKeys Windows' default permissions back (Everyone: list/read/create/write attributes, this folder only; Administrators: full control, this folder only).")
    {
        PowerShell = "icacls \"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\" /inheritance:r /grant:r \"*S-1-1-0:(RD,WD,AD,REA,WEA,RA,WA,RC,S)\" \"*S-1-5-32-544:(F)\"",
        Cmd = "icacls \"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\" /inheritance:r /grant:r \"*S-1-1-0:(RD,WD,AD,REA,WEA,RA,WA,RC,S)\" \"*S-1-5-32-544:(F)\"",
        Risk = "Hardening tools may have changed it on purpose; per-file ACLs stay as they are.",
    };

    internal static Guid? SuffixOf(ScannedKeyFile file) =>
        ContainerName.TrySplitFileName(file.Report.FileName, out _, out var guid) ? guid : null;
}
