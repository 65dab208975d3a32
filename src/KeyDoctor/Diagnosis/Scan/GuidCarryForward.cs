using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>A key file made under the current MachineGuid that something uses, copied to the original GUID's name.</summary>
public sealed record CarriedKeyFile(string Path, string Target, string UsedBy);

/// <summary>A key file the GUID change cannot carry: another key already has its name under the original GUID.</summary>
public sealed record CarryConflict(string Path, string Existing, string Breaks);

/// <summary>
/// What putting the original MachineGuid back does to the keys made since the change (KD1001). Each key file under
/// the current GUID that something uses (a certificate's key link, a well-known container, a protected-configuration
/// provider) is copied to <c>&lt;hash&gt;_&lt;original&gt;</c> first, so it is still found after the change. When a file
/// of that name exists already and holds another key, the copy would replace it: that is a conflict, and what
/// breaks is said. Damaged files and an IIS 6 container re-created without its signature key are not carried.
/// </summary>
public sealed record GuidCarryForward(string Original, IReadOnlyList<CarriedKeyFile> Copies, IReadOnlyList<CarryConflict> Conflicts,
                                      IReadOnlyList<string> NotCarried)
{
    /// <summary>Used key files whose key is already under the original GUID's name too: nothing changes for their users.</summary>
    public int AlreadyThere { get; init; }

    /// <summary>How many used key files under the current GUID this analysis looked at.</summary>
    public int Used => Copies.Count + Conflicts.Count + NotCarried.Count + AlreadyThere;

    public static GuidCarryForward Analyse(MachineState state, Guid current, Guid original)
    {
        var copies = new List<CarriedKeyFile>();
        var conflicts = new List<CarryConflict>();
        var notCarried = new List<string>();
        var alreadyThere = 0;
        var byName = state.KeyFiles.GroupBy(f => f.WindowsPath, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        foreach (var file in state.KeyFiles.OrderBy(f => f.WindowsPath, StringComparer.OrdinalIgnoreCase))
        {
            if (KeyStoreChecks.SuffixOf(file) != current) continue;
            var prefix = file.Report.FileName[..32];
            var users = UsersOf(state, file, prefix);
            if (users.Count == 0) continue; // nothing uses it: reported by the planner, never copied
            var usedBy = string.Join("; ", users);
            if (MachineState.IsDamaged(file.Report.Status))
            {
                notCarried.Add($"{file.WindowsPath} ({usedBy}) is damaged");
                continue;
            }
            var target = WindowsPaths.Combine(file.Folder, $"{prefix}_{original:D}");
            if (byName.TryGetValue(target, out var existing))
            {
                if (existing.Report.PublicKeySha256 is { } key && string.Equals(key, file.Report.PublicKeySha256, StringComparison.OrdinalIgnoreCase))
                {
                    alreadyThere++; // the same key under both names: nothing changes for its users
                    continue;
                }
                if (prefix.Equals(KeyStoreChecks.Iis6Prefix, StringComparison.OrdinalIgnoreCase) && !file.Report.KeySpecs.Contains(KeySpec.Signature))
                {
                    notCarried.Add($"{file.WindowsPath} (the IIS 6 container re-created without its signature key; the original under {original:D} is the one the metabase needs)");
                    continue;
                }
                conflicts.Add(new CarryConflict(file.WindowsPath, target, usedBy));
                continue;
            }
            copies.Add(new CarriedKeyFile(file.WindowsPath, target, usedBy));
        }
        return new GuidCarryForward(original.ToString("D"), copies, conflicts, notCarried) { AlreadyThere = alreadyThere };
    }

    /// <summary>Who uses a key file: certificates linking to its container, a well-known name, configuration providers.</summary>
    private static List<string> UsersOf(MachineState state, ScannedKeyFile file, string prefix)
    {
        var users = new List<string>();
        var cng = file.Store.Kind == KeyProviderKind.Cng;
        foreach (var certificate in state.Certificates)
            if (certificate.Entry?.KeyProviderInfo is { ContainerName: not null } link && link.IsCng == cng
                && link.KeyFilePrefix.Equals(prefix, StringComparison.OrdinalIgnoreCase))
                users.Add($"certificate {certificate.Thumbprint} ({certificate.Entry.Certificate?.Subject ?? "unreadable"}, store {certificate.Store})");
        if (file.Report.WellKnown is { } known) users.Add($"container {known.Name}");
        foreach (var provider in state.ApplicationHost?.Providers ?? [])
            if (provider.ExpectedKeyFilePrefix is { } used && used.Equals(prefix, StringComparison.OrdinalIgnoreCase))
                users.Add($"protected-configuration provider {provider.Name}");
        return users.Distinct().ToList();
    }
}
