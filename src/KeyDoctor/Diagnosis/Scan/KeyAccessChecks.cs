using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Security;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD1005 and KD1006: whether the keys that are there can be opened: their DPAPI master keys, their files' ACLs.</summary>
internal static class KeyAccessChecks
{
    /// <summary>
    /// KD1005: each master key the kept key files name must be in the folder that protects their store and, for the
    /// machine's and LocalSystem's keys when the SECURITY hive is there, open with DPAPI_SYSTEM. One finding per
    /// master key, naming the key files that depend on it.
    /// </summary>
    public static IEnumerable<Finding> MasterKeys(MachineState state)
    {
        var used = UsedKeyFiles(state);
        var files = state.KeyFiles.Concat(state.ProfileKeyFiles).Where(f => !MachineState.IsDamaged(f.Report.Status)).ToList();
        foreach (var (guid, master) in state.MasterKeys.OrderBy(p => p.Key))
        {
            if (!master.Missing && master.Opened != false) continue;
            var dependents = files.Where(f => f.Report.MasterKeyGuids.Contains(guid)).OrderBy(f => f.WindowsPath, StringComparer.OrdinalIgnoreCase).ToList();
            if (dependents.Count == 0) continue;
            var users = dependents.Select(f => used.GetValueOrDefault(f.WindowsPath)).OfType<string>().Distinct().ToList();
            var store = dependents[0].Store;
            var problem = master.Missing
                ? $"is missing ({master.Failure})"
                : $"DPAPI_SYSTEM of this machine's SECURITY hive does not open ({master.Failure}; {master.Path})";
            var evidence = dependents.Take(20).Select(f => Evidence.ForFile(f.WindowsPath, "key file naming the master key",
                value: f.Report.WellKnown?.Name ?? f.Report.Container ?? f.Report.FileName)).ToList();
            evidence.Add(master.Path is null
                ? Evidence.ForValue("master-key folders searched", string.Join(", ", state.Catalogue.MasterKeyFoldersFor(store).Select(f => f.Path)))
                : Evidence.ForFile(master.Path, "master-key file", value: "not opened"));
            evidence.AddRange(users.Select(u => Evidence.ForValue("used by", u)));
            yield return new Finding(FindingCatalog.MasterKeyUnusable, guid.ToString("D"),
                FindingCatalog.MasterKeyUnusable.FormatMessage(dependents.Count, store.Describe(), guid.ToString("D"), problem))
            {
                Severity = users.Count > 0 ? Severity.Error : Severity.Warning,
                Evidence = evidence,
                Properties = new Dictionary<string, string>
                {
                    ["masterKey"] = guid.ToString("D"),
                    ["state"] = master.Missing ? "missing" : "not-opened",
                    ["keyFiles"] = string.Join(";", dependents.Select(f => f.WindowsPath)),
                },
                Fix = master.Missing ? RestoreMasterKeyFix(guid, state.Catalogue.MasterKeyFoldersFor(store).First().Path)
                                     : ForeignSystemSecretFix(),
            };
        }
    }

    /// <summary>
    /// KD1006: the key files something uses, against the accounts that open them: SYSTEM for every one (HTTP.sys,
    /// IISADMIN, WAS), Administrators (to manage, export and re-link), IIS_IUSRS for iisConfigurationKey (worker
    /// processes decrypt configuration with it), and the application pool of each site bound to a certificate whose
    /// key was granted to that pool before (a renewal's new container lost the grant). Bundles only.
    /// </summary>
    public static IEnumerable<Finding> KeyFileAcls(MachineState state)
    {
        if (!state.Source.HasSecurityMetadata) yield break;
        foreach (var (file, usedBy, pools, predecessorKey) in KeysToCheck(state))
        {
            if (state.Source.GetFile(file.WindowsPath)?.Sddl is not { } sddl) continue;
            SecurityDescriptorString descriptor;
            try
            {
                descriptor = SecurityDescriptorString.Parse(sddl);
            }
            catch (MalformedDataException)
            {
                continue; // an unreadable ACL is the collector's problem to report
            }
            var missing = new List<(string Sid, string Name, Severity Severity, string Rights, string Why)>();
            if (!CanRead(descriptor, LocalSystemToken))
                missing.Add((WellKnownSids.LocalSystem, "SYSTEM", Severity.Error, "F", "HTTP.sys, IISADMIN and WAS open keys as SYSTEM"));
            if (!CanRead(descriptor, [WellKnownSids.Administrators, WellKnownSids.Everyone, AuthenticatedUsers]))
                missing.Add((WellKnownSids.Administrators, "Administrators", Severity.Warning, "F", "administrators cannot export, re-link or grant access to it"));
            if (file.Report.WellKnown?.Name == "iisConfigurationKey" && !CanRead(descriptor, [IisUsers, WellKnownSids.Everyone, AuthenticatedUsers]))
                missing.Add((IisUsers, "IIS_IUSRS", Severity.Warning, "R", "worker processes decrypt applicationHost.config values with it"));
            var predecessor = predecessorKey is null || state.Source.GetFile(predecessorKey.WindowsPath)?.Sddl is not { } oldSddl ? null : TryParse(oldSddl);
            // A pool needs the key only if its application uses it (HTTP.sys needs no grant): what shows that it does
            // is a grant on the key of the certificate this one renewed, lost with the new container.
            foreach (var pool in pools)
            {
                if (pool.IdentitySid is not { } sid || CanRead(descriptor, [sid, IisUsers, WellKnownSids.Everyone, AuthenticatedUsers])) continue;
                if (predecessor is null || !CanRead(predecessor, [sid])) continue;
                missing.Add((sid, $"{pool.IdentityName} (application pool {pool.Name})", Severity.Warning, "R",
                    $"the key of the certificate it renewed ({predecessorKey!.WindowsPath}) granted it read: the grant was lost with the new container"));
            }
            if (missing.Count == 0) continue;
            var accounts = string.Join(", ", missing.Select(m => m.Name));
            yield return new Finding(FindingCatalog.KeyFileAccessDenied, file.WindowsPath,
                FindingCatalog.KeyFileAccessDenied.FormatMessage(file.WindowsPath, usedBy, accounts))
            {
                Severity = missing.Max(m => m.Severity),
                Evidence =
                [
                    Evidence.ForFile(file.WindowsPath, "ACL (SDDL)", value: sddl),
                    Evidence.ForValue("entries", string.Join("; ", (descriptor.Dacl ?? []).Select(a => a.Describe()).DefaultIfEmpty("none"))),
                    .. missing.Select(m => Evidence.ForValue($"{m.Name} cannot read it", m.Why)),
                ],
                Properties = new Dictionary<string, string> { ["keyFile"] = file.WindowsPath, ["accounts"] = string.Join(";", missing.Select(m => m.Sid)) },
                Fix = new Fix($"Grant {accounts} access to the key file (what 'Manage Private Keys' does); the file's other entries stay.")
                {
                    Commands = missing.Select(m => ShellCommand.Run("icacls", FixCommands.MachinePath(file.WindowsPath), "/grant", $"*{m.Sid}:({m.Rights})")).ToList(),
                    Risk = "Every account granted can use the private key; grant read (R) to application pools, never full control.",
                },
            };
        }
    }

    private const string AuthenticatedUsers = "S-1-5-11";
    private const string IisUsers = "S-1-5-32-568";

    /// <summary>What SYSTEM's token holds that an ACE may name.</summary>
    private static readonly string[] LocalSystemToken = [WellKnownSids.LocalSystem, WellKnownSids.Administrators, WellKnownSids.Everyone, AuthenticatedUsers];

    private static SecurityDescriptorString? TryParse(string sddl)
    {
        try
        {
            return SecurityDescriptorString.Parse(sddl);
        }
        catch (MalformedDataException)
        {
            return null;
        }
    }

    /// <summary>Read access for a token holding <paramref name="sids"/>: an allow ACE with read data, and no deny ACE with it.</summary>
    private static bool CanRead(SecurityDescriptorString descriptor, IReadOnlyCollection<string> sids)
    {
        if (descriptor.Dacl is not { } dacl) return true; // no DACL: everyone has every right
        static bool Reads(uint rights) => (rights & (0x1u | 0x80000000u | 0x10000000u)) != 0; // FILE_READ_DATA, GENERIC_READ, GENERIC_ALL
        var mine = dacl.Where(a => sids.Contains(a.Sid, StringComparer.OrdinalIgnoreCase) && !a.Flags.Contains("IO", StringComparison.Ordinal)).ToList();
        if (mine.Any(a => a.IsDeny && Reads(a.Rights))) return false;
        return mine.Any(a => a.IsAllow && Reads(a.Rights));
    }

    /// <summary>The key files something uses, with who uses them, the pools of the sites bound to them, and a renewed predecessor's key.</summary>
    private static IEnumerable<(ScannedKeyFile File, string UsedBy, IReadOnlyList<IisApplicationPool> Pools, ScannedKeyFile? Predecessor)> KeysToCheck(MachineState state)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var config = state.ApplicationHost;
        foreach (var certificate in SslChecks.BoundCertificates(state))
        {
            if (certificate.Entry?.KeyProviderInfo is not { ContainerName: not null } link) continue;
            if (state.FindLinkedKeyFile(link).KeyFile is not { } file || !seen.Add(file.WindowsPath)) continue;
            var pools = config is null ? [] : SitesServedBy(state, certificate).Select(config.PoolOf).OfType<IisApplicationPool>()
                .DistinctBy(p => p.Name, StringComparer.OrdinalIgnoreCase).ToList();
            yield return (file, $"key of certificate {certificate.Thumbprint}", pools, PredecessorKey(state, certificate));
        }
        foreach (var file in state.KeyFiles.Where(f => f.InMachineCapi && f.Report.WellKnown is not null && !MachineState.IsDamaged(f.Report.Status)))
        {
            var name = file.Report.WellKnown!.Name;
            var uses = name == "Microsoft Internet Information Server" && state.Metabase is not null
                       || (state.ApplicationHost?.Providers ?? []).Any(p => p.ExpectedKeyFilePrefix is { } prefix && file.Report.FileName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
            if (!uses || !ContainerName.TrySplitFileName(file.Report.FileName, out _, out var guid)
                || !string.Equals(guid?.ToString("D"), state.MachineGuid, StringComparison.OrdinalIgnoreCase) || !seen.Add(file.WindowsPath)) continue;
            yield return (file, $"container {name}", [], null);
        }
    }

    /// <summary>The IIS sites whose https bindings HTTP.sys serves with <paramref name="certificate"/>.</summary>
    private static IEnumerable<IisSite> SitesServedBy(MachineState state, StoredCertificate certificate)
    {
        foreach (var site in state.ApplicationHost?.Sites ?? [])
            foreach (var binding in site.Bindings.Where(b => b.IsHttps))
                if (Iis.IisInspector.HttpSysKeyOf(binding) is { } key
                    && Iis.HttpSysPrecedence.Serving(state.HttpSysBindings, key) is { CertificateHash: { } hash }
                    && hash.Equals(certificate.Thumbprint, StringComparison.OrdinalIgnoreCase))
                {
                    yield return site;
                    break;
                }
    }

    /// <summary>The key file of the certificate this one renewed (its CERT_RENEWAL_PROP_ID names this one).</summary>
    private static ScannedKeyFile? PredecessorKey(MachineState state, StoredCertificate certificate)
    {
        var renewed = state.Certificates.FirstOrDefault(c => c.Entry?.Find(CertificatePropertyIds.Renewal) is { Value.Length: 20 } p
                                                             && Convert.ToHexString(p.Value).Equals(certificate.Thumbprint, StringComparison.OrdinalIgnoreCase));
        return renewed?.Entry?.KeyProviderInfo is { ContainerName: not null } link ? state.FindLinkedKeyFile(link).KeyFile : null;
    }

    /// <summary>Who uses each kept key file: bound certificates, the IIS 6 container, protected-configuration providers.</summary>
    private static Dictionary<string, string> UsedKeyFiles(MachineState state)
    {
        var used = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var certificate in SslChecks.BoundCertificates(state))
            if (certificate.Entry?.KeyProviderInfo is { ContainerName: not null } link)
            {
                foreach (var file in state.KeyFiles.Concat(state.ProfileKeyFiles)
                             .Where(f => f.Report.FileName.StartsWith(link.KeyFilePrefix, StringComparison.OrdinalIgnoreCase)))
                    used.TryAdd(file.WindowsPath, $"bound certificate {certificate.Thumbprint}");
            }
        foreach (var file in state.KeyFiles.Where(f => f.Report.WellKnown?.Name == "Microsoft Internet Information Server" && state.Metabase is not null))
            used.TryAdd(file.WindowsPath, "the IIS 6 metabase");
        foreach (var provider in state.ApplicationHost?.Providers ?? [])
            if (provider.ExpectedKeyFilePrefix is { } prefix)
                foreach (var file in state.KeyFiles.Where(f => f.Report.FileName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
                    used.TryAdd(file.WindowsPath, $"protected-configuration provider {provider.Name}");
        return used;
    }

    /// <summary>KD1005 missing: the master-key file comes back from a backup of the same installation (robocopy keeps it hidden and system).</summary>
    private static Fix RestoreMasterKeyFix(Guid guid, string folder)
    {
        var backup = new RequiredInput($"masterkey-folder-{guid:D}", $"folder of a backup of {folder} holding {guid:D}", InputKind.File);
        return new Fix($"Copy master key {guid:D} back into {folder} from a backup of this installation (a snapshot, a system-state backup); the key files it protects open again.")
        {
            Commands = [ShellCommand.Run("robocopy", CommandArg.Input(backup.Name), FixCommands.MachinePath(folder), guid.ToString("D"), "/B", "/COPY:DAT") with { MaxExitCode = 7 }],
            Inputs = [backup],
            Risk = "A master key from another installation does not open these keys; without a backup the keys are lost: re-import each certificate's PFX.",
        };
    }

    /// <summary>KD1005 not opened: the SECURITY hive and the master keys are from different installations.</summary>
    private static Fix ForeignSystemSecretFix()
    {
        var bundle = new RequiredInput("bundle-before", "copy of this server's disk from before the SECURITY hive changed", InputKind.File);
        var output = new RequiredInput("recovered-keys", "new folder for the recovered keys", InputKind.File);
        return new Fix("The SECURITY hive (its DPAPI_SYSTEM secret) is not the one these master keys were made with: restore the hives that belong with them, or recover the keys from a copy taken before the change and import them again.")
        {
            Commands =
            [
                FixCommands.KeyDoctor("recover", CommandArg.Input(bundle.Name), "--all", "--output", CommandArg.Input(output.Name))
                    with { RunFirstAs = "wherever the copy is (any OS); it asks for a PFX password" },
            ],
            Inputs = [bundle, output],
            Risk = "Restoring SECURITY from another date also restores machine account and LSA secrets of that date.",
            NeedsDecision = true,
        };
    }
}
