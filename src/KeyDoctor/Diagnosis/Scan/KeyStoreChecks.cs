using KeyDoctor.Diagnosis.Commands;
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
            .Where(f => f.Report.WellKnown is not null && f.InMachineCapi)
            .GroupBy(f => f.Report.WellKnown!.Name)
            .Where(g => g.All(f => SuffixOf(f) != current))
            .Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        // Only files without a twin under the registry's GUID are evidence: a carry-forward (KD1001's repair) copies
        // the keys made under the other GUID to this GUID's name and keeps the originals until the reboot.
        var evidenceCount = others.Max(p => state.UntwinnedKeyFilesByGuid.GetValueOrDefault(p.Key));
        if (evidenceCount == 0 && stranded.Count == 0) yield break;
        // A few strays under an old GUID are common (imported keys); most files, or a well-known container, are not.
        if (evidenceCount < Math.Max(1, total / 10) && stranded.Count == 0) yield break;

        var evidence = new List<Evidence>
        {
            Evidence.ForRegistry(@"HKLM\SOFTWARE\Microsoft\Cryptography", "MachineGuid in the registry", current.ToString("D")),
            Evidence.ForValue($"key files ending in _{current:D} (the registry's GUID)", currentCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        evidence.AddRange(others.Take(5).Select(p => Evidence.ForValue($"key files ending in _{p.Key:D}", p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + (state.UntwinnedKeyFilesByGuid.GetValueOrDefault(p.Key) is var untwinned && untwinned != p.Value ? $" ({p.Value - untwinned} with a twin under the registry's GUID)" : ""))));
        evidence.AddRange(stranded.Select(name => Evidence.ForValue("well-known container only under another GUID", name)));
        yield return new Finding(FindingCatalog.MachineGuidChanged, current.ToString("D"),
            FindingCatalog.MachineGuidChanged.FormatMessage(likelyCount, total, likely.ToString("D"), current.ToString("D")))
        {
            Evidence = evidence,
            Properties = new Dictionary<string, string> { ["machineGuid"] = current.ToString("D"), ["likelyOriginalGuid"] = likely.ToString("D") },
            Fix = PutBackMachineGuidFix(GuidCarryForward.Analyse(state, current, likely), current, currentCount),
        };
    }

    /// <summary>A key folder with more files than this is bloated (KD1007): healthy servers have tens to a few thousand.</summary>
    public const long BloatedFolderFiles = 10_000;

    /// <summary>KD1007: a key store folder holding more than <see cref="BloatedFolderFiles"/> files; the fix is <c>keys clean</c>.</summary>
    public static IEnumerable<Finding> BloatedKeyFolders(MachineState state)
    {
        foreach (var store in state.Catalogue.Stores)
        {
            if (state.KeyFileCountsByStore.GetValueOrDefault(store.Path) is var count && count <= BloatedFolderFiles) continue;
            // On the server itself; for a disk or bundle, 'keys clean <source> -o ...' and 'repair apply ... --image <root>'.
            var clean = FixCommands.KeyDoctor("keys", "clean", "-o", "keydoctor-clean.json");
            yield return new Finding(FindingCatalog.KeyFolderBloated, store.Path,
                FindingCatalog.KeyFolderBloated.FormatMessage(store.Path, store.Describe(), count))
            {
                Evidence = [Evidence.ForValue($"files in {store.Path}", count.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                Properties = new Dictionary<string, string> { ["files"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                Fix = new Fix($"Run 'keydoctor keys clean' to see which of the {count:N0} keys something uses and who is leaking the rest, " +
                              "then apply its plan: the orphans are moved into the repair's backup folder (nothing is deleted) and 'repair rollback' puts them back.")
                {
                    Commands = [clean, FixCommands.KeyDoctor("repair", "apply", "keydoctor-clean.json")],
                    NeedsDecision = true,
                    Risk = "Review the plan first: keys kept and quarantined are listed with the reason for each.",
                },
            };
        }
    }

    /// <summary>KD1002: the IIS 6 container is missing, duplicated or unreadable while MetaBase.xml holds a SessionKey.</summary>
    public static IEnumerable<Finding> Iis6Container(MachineState state)
    {
        if (state.Metabase is not { } metabase || metabase.SessionKey.Status == MetabaseBlobStatus.Missing) yield break;
        var files = state.KeyFiles.Where(f => f.InMachineCapi && f.Report.FileName.StartsWith(Iis6Prefix, StringComparison.OrdinalIgnoreCase)).ToList();
        Guid.TryParse(state.MachineGuid, out var current);
        var underCurrent = state.MachineGuid is null ? files : files.Where(f => SuffixOf(f) == current).ToList();
        // The container IISADMIN opens: its AT_SIGNATURE public key must verify the SessionKey's signature.
        var notTheKey = underCurrent.Count == 1 && state.Iis6SignatureVerdicts.GetValueOrDefault(underCurrent[0].WindowsPath) == false;
        var original = files.FirstOrDefault(f => state.Iis6SignatureVerdicts.GetValueOrDefault(f.WindowsPath) == true);
        string? problem = null;
        if (files.Count == 0) problem = "has no key file at all";
        else if (underCurrent.Count == 0) problem = $"exists only under another MachineGuid ({string.Join(", ", files.Select(f => SuffixOf(f)?.ToString("D") ?? "?"))})";
        else if (underCurrent.FirstOrDefault(f => MachineState.IsDamaged(f.Report.Status)) is { } broken)
            problem = $"is unreadable ({KeyFileStatusNames.Of(broken.Report.Status)})";
        else if (underCurrent.Count == 1 && !underCurrent[0].Report.KeySpecs.Contains(KeySpec.Signature))
            problem = "has no signature key (AT_SIGNATURE), which checks the SessionKey";
        else if (notTheKey)
            problem = "exists but is not the key that protects this metabase (its AT_SIGNATURE key does not verify the SessionKey's signature: " +
                      "IISADMIN stops with NTE_BAD_SIGNATURE 0x80090006; re-created by IISADMIN or restored from another server)" +
                      (original is null ? "" : $"; the key that does is {original.WindowsPath}");
        else if (files.Count > 1) problem = $"is duplicated under {files.Count} GUIDs";
        if (problem is null) yield break;

        var evidence = files.Select(f => Evidence.ForFile(f.WindowsPath, $"{KeyFileStatusNames.Of(f.Report.Status)}, {f.Report.Size} bytes, key specs {string.Join("+", f.Report.KeySpecs)}"
            + (state.Iis6SignatureVerdicts.GetValueOrDefault(f.WindowsPath) switch
            {
                true => "; its signature key verifies the SessionKey",
                false => "; its signature key does NOT verify the SessionKey",
                _ => "",
            }))).ToList();
        evidence.Add(Evidence.ForConfiguration(WindowsPaths.Metabase, $"IIS_Global SessionKey is {metabase.SessionKey.Status}"));
        var properties = new Dictionary<string, string>();
        // Where the container's file belongs under the current GUID (a restore from a snapshot puts it there).
        if (state.MachineGuid is not null)
            properties["keyFile"] = WindowsPaths.Combine(state.MachineKeysFolder, $"{Iis6Prefix}_{state.MachineGuid.ToLowerInvariant()}");
        // What proves the container there bad, so a key set checked against the metabase may replace it.
        if (notTheKey) properties["replaceProof"] = "its signature key does not verify the metabase's SessionKey";
        yield return new Finding(FindingCatalog.Iis6ContainerBroken, "Microsoft Internet Information Server",
            FindingCatalog.Iis6ContainerBroken.FormatMessage(Iis6Prefix, problem))
        {
            Severity = files.Count > 1 && underCurrent.Count == 1 && !notTheKey ? Severity.Warning : Severity.Critical,
            Evidence = evidence,
            Properties = properties,
            Fix = Iis6ContainerFix(underCurrent.Count == 1 && (MachineState.IsDamaged(underCurrent[0].Report.Status)
                                                            || !underCurrent[0].Report.KeySpecs.Contains(KeySpec.Signature) || notTheKey)),
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
                Fix = RestoreKeyFileFix(file),
            };
        }
        if (state.DamagedKeyFileCount > MachineState.MaxDamagedFilesKept)
            yield return new Finding(FindingCatalog.KeyFileCorrupt, "more damaged key files",
                $"{state.DamagedKeyFileCount - MachineState.MaxDamagedFilesKept} more damaged key files are not listed one by one");
    }

    /// <summary>
    /// KD1004: compression, EFS or a changed ACL on the machine stores, CryptoAPI's MachineKeys and CNG's Keys
    /// (bundles only). Windows gives both folders the same DACL: anyone may create a key file there, only its
    /// creator, SYSTEM and Administrators may open it.
    /// </summary>
    public static IEnumerable<Finding> AttributesAndAcl(MachineState state)
    {
        if (!state.Source.HasSecurityMetadata || state.Source is not FolderMachineSource source) yield break;
        foreach (var store in state.Catalogue.MachineStores)
        {
            var path = store.Path;
            if (source.GetDirectoryMetadata(path) is { } folder)
            {
                if (folder.Attributes is { } attributes && (attributes & (NtfsAttributes.Compressed | NtfsAttributes.Encrypted)) != 0)
                    yield return AttributeFinding(path, "the folder", attributes);
                if (folder.Sddl is { } sddl && DaclDiffers(sddl, out var actual))
                    yield return new Finding(FindingCatalog.KeyStoreAttributesOrAcl, path + " ACL",
                        FindingCatalog.KeyStoreAttributesOrAcl.FormatMessage(path, "has permissions that differ from Windows' default"))
                    {
                        Evidence =
                        [
                            Evidence.ForFile(path, "ACL (SDDL)", value: sddl),
                            Evidence.ForValue("Windows' default DACL", DefaultMachineKeysDacl),
                            Evidence.ForValue("entries", actual),
                        ],
                        Properties = new Dictionary<string, string> { ["folder"] = path },
                        Fix = AclFix(path),
                    };
            }
            var flagged = state.Source.EnumerateFiles(path)
                .Where(f => f.Attributes is { } a && (a & (NtfsAttributes.Compressed | NtfsAttributes.Encrypted)) != 0).Take(1000).ToList();
            if (flagged.Count > 0)
                yield return new Finding(FindingCatalog.KeyStoreAttributesOrAcl, path + " files",
                    FindingCatalog.KeyStoreAttributesOrAcl.FormatMessage($"{flagged.Count} key file(s) in {path}", "are compressed or encrypted (EFS)"))
                {
                    Evidence = flagged.Take(20).Select(f => Evidence.ForFile(f.Path, "attributes", value: f.Attributes!.Value.ToString())).ToList(),
                    Properties = new Dictionary<string, string> { ["folder"] = path },
                    Fix = AttributeFix(path),
                };
        }
    }

    private static Finding AttributeFinding(string path, string what, NtfsAttributes attributes) =>
        new(FindingCatalog.KeyStoreAttributesOrAcl, path + " attributes",
            FindingCatalog.KeyStoreAttributesOrAcl.FormatMessage(path, $"({what}) is {((attributes & NtfsAttributes.Encrypted) != 0 ? "encrypted (EFS)" : "compressed")}"))
        {
            Evidence = [Evidence.ForFile(path, "NTFS attributes", value: attributes.ToString())],
            Properties = new Dictionary<string, string> { ["folder"] = path },
            Fix = AttributeFix(path),
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

    private static Fix AttributeFix(string folder) => new($"Undo NTFS compression and EFS on {WindowsPaths.FileName(folder)} (decrypting EFS needs the account that encrypted it).")
    {
        Commands = FixCommands.UndoCompressionAndEfs(folder),
    };

    private static Fix AclFix(string folder) => new($"Give {WindowsPaths.FileName(folder)} Windows' default permissions back (Everyone: list/read/create/write attributes, this folder only; Administrators: full control, this folder only).")
    {
        Commands = [FixCommands.DefaultMachineKeysAcl(folder)],
        Risk = "Hardening tools may have changed it on purpose; per-file ACLs stay as they are.",
    };

    /// <summary>
    /// KD1001: the key files made since the change that something uses are copied to the original GUID's name first,
    /// then the GUID goes back. A person decides (<c>repair plan --accept KD1001</c>); a conflict (another key already
    /// under that name) is never resolved automatically.
    /// </summary>
    public static Fix PutBackMachineGuidFix(GuidCarryForward carry, Guid current, long currentCount)
    {
        var copies = carry.Copies.Count == 0 ? ""
            : $" First {carry.Copies.Count} key file(s) made since the change that something uses are copied to the original GUID's name, so they are still found.";
        var risk = new List<string> { $"Other software may already rely on {current:D}; a reboot is needed." };
        var unused = currentCount - carry.Used;
        if (unused > 0) risk.Add($"{unused} other key file(s) under {current:D} are used by nothing KeyDoctor knows of and are not carried forward.");
        if (carry.NotCarried.Count > 0) risk.Add("Not carried forward: " + string.Join("; ", carry.NotCarried) + ".");
        if (carry.Conflicts.Count > 0)
            risk.Add("These break, because another key already has their name under the original GUID: " +
                     string.Join("; ", carry.Conflicts.Select(c => $"{c.Breaks} (uses {c.Path}; {c.Existing} holds another key)")) +
                     ". Decide for each before the GUID goes back: re-import its PFX or key set afterwards, or keep the current GUID.");
        return new Fix($"Put the original MachineGuid {carry.Original} back (every key made before the change works again), or keep {current:D} and rename the key files that matter after a backup.{copies}")
        {
            Commands = FixCommands.PutBackMachineGuid(carry),
            Risk = string.Join(" ", risk),
            NeedsReboot = true,
            NeedsDecision = true,
        };
    }

    /// <summary>KD1002: the key set is checked against MetaBase.xml before it is imported, into a new container only.</summary>
    private static Fix Iis6ContainerFix(bool currentProvenBad)
    {
        var keySet = FixCommands.KeySetInput("Microsoft Internet Information Server");
        return new Fix("Restore both key sets (exchange and signature) of \"Microsoft Internet Information Server\" from a backup of this server, checked against MetaBase.xml first, or fix the MachineGuid (KD1001); IISADMIN starts again with the IIS restart.")
        {
            Commands = [FixCommands.VerifyMetabaseKey(keySet), FixCommands.ImportKeySet(keySet, "Microsoft Internet Information Server", replace: currentProvenBad)],
            Inputs = [keySet],
            Risk = "A key set that did not encrypt this metabase fails the check and is not imported; an existing container is never replaced unless it is proven bad (damaged, without the signature key the metabase needs, or with one that does not verify its SessionKey).",
            NeedsIisRestart = true,
        };
    }

    /// <summary>KD1003: the damaged file is replaced by a copy from a backup, only while it is still damaged.</summary>
    private static Fix RestoreKeyFileFix(ScannedKeyFile file)
    {
        var copy = FixCommands.KeyFileInput(file.Report.FileName);
        return new Fix("Restore the file from a backup or a snapshot (repair plan --snapshot); if a certificate used it, re-import the certificate's PFX.")
        {
            Commands = [FixCommands.CopyKeyFile(CommandArg.Input(copy.Name), file.WindowsPath, replaceDamaged: true)],
            Inputs = [copy],
            Risk = "The damaged file is replaced (the repair plan copies it aside first, as evidence); a file from another machine holds another key.",
        };
    }

    internal static Guid? SuffixOf(ScannedKeyFile file) =>
        ContainerName.TrySplitFileName(file.Report.FileName, out _, out var guid) ? guid : null;
}
