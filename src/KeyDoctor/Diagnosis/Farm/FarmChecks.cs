using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Diagnosis.Farm;

/// <summary>
/// KD5001-KD5004: what must agree across the nodes of a farm. Each check groups the nodes by one fact; the value most
/// nodes hold is the farm's (a tie goes to the group of the first node in order), and the nodes that differ from it are
/// the ones a finding names. A fact nobody has, or that is broken the same way everywhere, is no difference: each
/// node's own scan reports it.
/// </summary>
internal static class FarmChecks
{
    private static readonly string[] FarmKeyContainers = ["iisConfigurationKey", "iisWasKey"];

    private static readonly HashSet<string> DamagedStatuses =
        Enum.GetValues<Machine.KeyStore.KeyFileStatus>().Where(MachineState.IsDamaged).Select(KeyFileStatusNames.Of).ToHashSet(StringComparer.Ordinal);

    /// <summary>KD5001: two or more nodes with one MachineGuid.</summary>
    public static IEnumerable<FarmFinding> SharedMachineGuids(IReadOnlyList<FarmNode> nodes)
    {
        var groups = nodes.Where(n => Guid.TryParse(n.MachineGuid, out _))
            .GroupBy(n => Guid.Parse(n.MachineGuid!).ToString("D"))
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var members = group.ToList();
            var guid = group.Key;
            yield return new FarmFinding(
                Finding.Create(FindingCatalog.FarmMachineGuidShared, guid, members.Count, guid, Names(members)) with
                {
                    Evidence = members.Select(m => Evidence.ForRegistry(@"HKLM\SOFTWARE\Microsoft\Cryptography", $"{m.Label}: MachineGuid", m.MachineGuid!)).ToList(),
                    Properties = new Dictionary<string, string> { ["machineGuid"] = guid },
                    Fix = new Fix($"Keep one node on {guid} and give every other clone its own identity: rebuild it from a sysprep-generalized image, or give it a new MachineGuid and carry its key files over to the new suffix in the same step (after a snapshot), one node at a time.")
                    {
                        Commands =
                        [
                            FixCommands.KeyDoctor("snapshot", "-o", CommandArg.Path(ArgToken.SystemDrive, @"\kd\before-new-guid.zip")),
                            ShellCommand.Run(CommandArg.Path(ArgToken.WinDir, @"\System32\Sysprep\sysprep.exe"), "/generalize", "/oobe", "/shutdown"),
                        ],
                        Risk = "A key file left under the old GUID is no longer found (KD1001), so rename every one in the same step; CNG keys are not named by the GUID and stay. Sysprep also resets the machine SID and other identities.",
                        NeedsReboot = true,
                        NeedsDecision = true,
                    },
                },
                members.Select(m => m.Source).ToList());
        }
    }

    /// <summary>KD5002: the configuration key containers hold another key pair (or none) on some nodes.</summary>
    public static IEnumerable<FarmFinding> ConfigurationKeys(IReadOnlyList<FarmNode> nodes)
    {
        // The containers a shared configuration needs: IIS's two, and any a provider of any node names.
        var containers = new SortedDictionary<string, string>(StringComparer.Ordinal); // prefix → display name
        foreach (var name in FarmKeyContainers) containers[ContainerName.CapiPrefix(name)] = name;
        foreach (var provider in nodes.SelectMany(n => n.Providers))
            if (provider.KeyFilePrefix is { } prefix && provider.KeyContainer is { } container)
                containers.TryAdd(prefix.ToLowerInvariant(), container);

        foreach (var (prefix, container) in containers.OrderBy(c => c.Value, StringComparer.OrdinalIgnoreCase))
        {
            var states = nodes.Select(n => (Node: n, Key: KeyOf(n, prefix))).ToList();
            var holders = states.Where(s => s.Key.Fingerprint is not null).ToList();
            if (holders.Count == 0) continue;
            var reference = Majority(holders, s => s.Key.Fingerprint!);
            var odd = states.Where(s => s.Key.Fingerprint != reference).ToList();
            if (odd.Count == 0) continue;
            var good = holders.Where(s => s.Key.Fingerprint == reference).Select(s => s.Node).ToList();

            var undecryptable = odd.SelectMany(s => EncryptedValuesNeeding(s.Node, prefix, good[0]))
                .Distinct().Order(StringComparer.Ordinal).ToList();
            var evidence = states.Select(s => Evidence.ForFile(s.Key.Path ?? WindowsPaths.Combine(WindowsPaths.MachineKeys, $"{prefix}_<MachineGuid>"),
                $"{s.Node.Label}: public key SHA-256 of {container}{(s.Key.Fingerprint == reference ? " (the farm's)" : "")}",
                value: s.Key.Fingerprint ?? s.Key.Problem)).ToList();
            evidence.AddRange(undecryptable.Take(20).Select(v => Evidence.ForConfiguration(WindowsPaths.ApplicationHostConfig, "encrypted value that will not decrypt on the odd nodes", v)));
            var goodName = good[0].ComputerName ?? "a node where it works";
            var keySet = new RequiredInput($"keyset-{FixCommands.InputName(container)}", $"key set of {container} exported from {goodName}", InputKind.File);
            yield return new FarmFinding(
                Finding.Create(FindingCatalog.FarmConfigurationKeysDiffer, container, container,
                    string.Join(", ", odd.Select(s => $"{s.Node.Label}: {s.Key.Problem ?? "another key pair"}")), undecryptable.Count) with
                {
                    Severity = undecryptable.Count > 0 ? Severity.Error : Severity.Warning,
                    Evidence = evidence,
                    Properties = new Dictionary<string, string> { ["container"] = container, ["publicKeySha256"] = reference, ["referenceNode"] = good[0].Source },
                    Fix = new Fix($"Export {container} with its private key from {goodName} ({good[0].Source}) and import it on {Names(odd.Select(s => s.Node))}, then restart IIS there; values encrypted with the odd nodes' own key (if any were set there alone) must be entered again.")
                    {
                        Commands =
                        [
                            FixCommands.KeyDoctor("keys", "export", container, "-o", CommandArg.Input(keySet.Name)) with { RunFirstAs = $"on {goodName}, elevated" },
                            FixCommands.ImportKeySet(keySet, container),
                            ShellCommand.Run("iisreset"),
                        ],
                        Inputs = [keySet],
                        Risk = "The exported file holds the private key: keep it on protected media and delete it after the import. If the key is not exportable on the good node, use IIS Manager's Export Configuration (it exports these keys) or 'keydoctor recover' on that node's disk.",
                        NeedsIisRestart = true,
                    },
                },
                odd.Select(s => s.Node.Source).ToList());
        }
    }

    /// <summary>The node's key file of a container: its fingerprint when usable, else why not, and where it is (or would be).</summary>
    private static (string? Fingerprint, string? Problem, string? Path) KeyOf(FarmNode node, string prefix)
    {
        var files = node.Keys.Where(k => k.Prefix == prefix).ToList();
        var own = node.MachineGuid is null ? files.FirstOrDefault() : files.FirstOrDefault(k => k.UnderMachineGuid);
        var expected = node.MachineGuid is null ? null : WindowsPaths.Combine(WindowsPaths.MachineKeys, $"{prefix}_{node.MachineGuid.ToLowerInvariant()}");
        if (own is null)
            return (null, files.Count > 0 ? "only under another MachineGuid" : "missing", files.FirstOrDefault()?.WindowsPath ?? expected);
        if (DamagedStatuses.Contains(own.Status) || own.PublicKeySha256 is null) return (null, $"damaged: {own.Status}", own.WindowsPath);
        return (own.PublicKeySha256.ToUpperInvariant(), null, own.WindowsPath);
    }

    /// <summary>"element/@attribute" of the values whose provider uses this container on the node (its own configuration, else the reference node's).</summary>
    private static IEnumerable<string> EncryptedValuesNeeding(FarmNode node, string prefix, FarmNode reference)
    {
        var config = node.ConfigurationRead ? node : reference;
        var providers = config.Providers.Where(p => string.Equals(p.KeyFilePrefix, prefix, StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return config.EncryptedValues.Where(v => v.Provider is not null && providers.Contains(v.Provider)).Select(v => $"{v.Element}/@{v.Attribute}");
    }

    private enum BindingHealth { Healthy, NoBinding, CertificateMissing, NoPrivateKey }

    /// <summary>KD5003: a binding's certificate missing, keyless or different on some nodes.</summary>
    public static IEnumerable<FarmFinding> BindingCertificates(IReadOnlyList<FarmNode> nodes)
    {
        var compared = nodes.Where(n => n.RegistryRead).ToList();
        // The Central Certificate Store binds no certificate in HTTP.sys: nothing to compare there.
        var endpoints = compared.SelectMany(n => n.Bindings).Where(b => b.Kind != "ccs")
            .GroupBy(b => (b.Kind, Endpoint: b.Endpoint.ToLowerInvariant()))
            .OrderBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Endpoint, StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            if (!endpoint.Any(b => b.Thumbprint is not null)) continue; // only IIS rows: KD2006 on each node
            var kind = endpoint.Key.Kind;
            var name = endpoint.First().Endpoint;
            var states = compared.Select(n => BindingStateOf(n, kind, name)).ToList();
            var healthy = states.Where(s => s.Health == BindingHealth.Healthy).ToList();
            if (healthy.Count == 0) continue; // broken everywhere: each node's scan says so
            var reference = Majority(healthy, s => s.Thumbprint!.ToUpperInvariant());
            var odd = states.Where(s => s.Health != BindingHealth.Healthy || !reference.Equals(s.Thumbprint, StringComparison.OrdinalIgnoreCase)).ToList();
            if (odd.Count == 0) continue;
            var good = healthy.Where(s => reference.Equals(s.Thumbprint, StringComparison.OrdinalIgnoreCase)).ToList();
            var certificate = good[0].Certificate!;
            var store = certificate.Store;
            var goodName = good[0].Node.ComputerName ?? "a node where it works";
            var bindingKind = kind switch { "sni" => HttpSysBindingKind.Sni, _ => HttpSysBindingKind.IpPort };
            var pfx = FixCommands.PfxInput(reference);
            yield return new FarmFinding(
                Finding.Create(FindingCatalog.FarmCertificateDiffers, $"{kind} {name}", name, $"{reference} ({certificate.Subject ?? "?"})",
                    Names(good.Select(s => s.Node)), string.Join("; ", odd.Select(s => $"on {s.Node.Label} {s.Problem}"))) with
                {
                    Severity = odd.All(s => s.Health == BindingHealth.Healthy) ? Severity.Warning : Severity.Error,
                    Evidence = states.Select(s => Evidence.ForValue($"{s.Node.Label}: {name}",
                        s.Health == BindingHealth.Healthy && reference.Equals(s.Thumbprint, StringComparison.OrdinalIgnoreCase) ? $"{s.Thumbprint} in {s.Store}, private key ok" : s.Problem)).ToList(),
                    Properties = new Dictionary<string, string>
                    {
                        ["endpoint"] = name, ["thumbprint"] = reference, ["store"] = store, ["referenceNode"] = good[0].Node.Source,
                    },
                    Fix = new Fix($"Export certificate {reference} with its private key from {goodName} ({good[0].Node.Source}), import it into LocalMachine\\{store} on {Names(odd.Select(s => s.Node))}, and bind it there.")
                    {
                        Commands =
                        [
                            ShellCommand.Run("certutil", "-exportPFX", store, reference, CommandArg.Input(pfx.Name)) with { AsksForPassword = true, RunFirstAs = $"on {goodName}, elevated" },
                            FixCommands.ImportPfx(store, pfx),
                            FixCommands.NetshAdd(bindingKind, name, reference, store),
                        ],
                        Inputs = [pfx],
                        Risk = "The PFX holds the private key: protect it with a password and delete it after the import. The key must be exportable on the good node; if it is not, export from the PFX the certificate came in. Where a node already has a binding for this endpoint, run 'netsh http update sslcert' with the same arguments instead of 'add' (never delete it first: the site would be left without a certificate).",
                    },
                },
                odd.Select(s => s.Node.Source).ToList());
        }
    }

    private sealed record BindingState(FarmNode Node, BindingHealth Health, string? Thumbprint, string? Store, NodeCertificate? Certificate, string Problem);

    private static BindingState BindingStateOf(FarmNode node, string kind, string endpoint)
    {
        var binding = node.Bindings.FirstOrDefault(b => b.Kind == kind && b.Endpoint.Equals(endpoint, StringComparison.OrdinalIgnoreCase));
        if (binding?.Thumbprint is not { } thumbprint)
            return new BindingState(node, BindingHealth.NoBinding, null, null, null, "there is no HTTP.sys binding for it");
        var store = binding.Store ?? "MY";
        var certificate = node.Certificates.FirstOrDefault(c => c.Store.Equals(store, StringComparison.OrdinalIgnoreCase)
                                                                && c.Thumbprint.Equals(thumbprint, StringComparison.OrdinalIgnoreCase));
        if (certificate is null)
            return new BindingState(node, BindingHealth.CertificateMissing, thumbprint, store, null, $"the binding names certificate {thumbprint}, which is not in store {store}");
        if (!certificate.HasPrivateKey)
            return new BindingState(node, BindingHealth.NoPrivateKey, thumbprint, store, certificate, $"certificate {thumbprint} has no usable private key ({certificate.KeyStatus})");
        return new BindingState(node, BindingHealth.Healthy, thumbprint, store, certificate, $"the binding names another certificate, {thumbprint} ({certificate.Subject ?? "?"})");
    }

    /// <summary>KD5004: providers (type, key container, sessionKey) and customMetadata entries that differ between nodes.</summary>
    public static IEnumerable<FarmFinding> ConfigurationDrift(IReadOnlyList<FarmNode> nodes)
    {
        var compared = nodes.Where(n => n.ConfigurationRead).ToList();
        if (compared.Count < 2) yield break;

        var providerNames = compared.SelectMany(n => n.Providers).Select(p => p.Name)
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var name in providerNames)
        {
            var states = compared.Select(n => (Node: n, Provider: n.Providers.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))).ToList();
            var reference = Majority(states, s => Describe(s.Provider));
            var odd = states.Where(s => Describe(s.Provider) != reference).ToList();
            if (odd.Count == 0) continue;
            var referenceProvider = states.First(s => Describe(s.Provider) == reference).Provider;
            var details = string.Join("; ", odd.Select(s => $"on {s.Node.Label} {Difference(s.Provider, referenceProvider)}"));
            yield return Drift($"provider {name}", $"Protected-configuration provider {name}", details, odd.Select(s => s.Node),
                states.Select(s => Evidence.ForConfiguration(WindowsPaths.ApplicationHostConfig, $"{s.Node.Label}: provider {name}", Describe(s.Provider))),
                new Fix("Make every node read the same configuration: point the odd nodes at the farm's shared configuration again (IIS Manager, Shared Configuration), or copy applicationHost.config from a node where it works together with its keys (KD5002).")
                {
                    Commands = [AppcmdBackup("before-kd5004")],
                    Risk = "Values encrypted on an odd node with its own provider settings do not decrypt under the farm's: enter them again there.",
                    NeedsIisRestart = true,
                    NeedsDecision = true,
                });
        }

        var entries = compared.SelectMany(n => n.CustomMetadata).Select(m => (Path: m.Path.ToUpperInvariant(), m.PropertyId)).Distinct()
            .OrderBy(e => e.Path, StringComparer.Ordinal).ThenBy(e => e.PropertyId).ToList();
        foreach (var (path, id) in entries)
        {
            var states = compared.Select(n => (Node: n, Entry: n.CustomMetadata.FirstOrDefault(m => m.PropertyId == id && m.Path.Equals(path, StringComparison.OrdinalIgnoreCase)))).ToList();
            var reference = Majority(states, s => s.Entry?.Value ?? "\0absent");
            var odd = states.Where(s => (s.Entry?.Value ?? "\0absent") != reference).ToList();
            if (odd.Count == 0) continue;
            var shownPath = states.First(s => s.Entry is not null).Entry!.Path;
            var details = string.Join("; ", odd.Select(s => s.Entry is null ? $"missing on {s.Node.Label}"
                : reference == "\0absent" ? $"present on {s.Node.Label} only" : $"another value on {s.Node.Label}"));
            yield return Drift($"customMetadata {shownPath} {id}", $"customMetadata {shownPath} property {id}{(MetabaseName(id) is { } n ? $" ({n})" : "")}", details,
                odd.Select(s => s.Node),
                states.Select(s => Evidence.ForConfiguration(WindowsPaths.ApplicationHostConfig, $"{s.Node.Label}: <customMetadata><key path=\"{shownPath}\"> property {id}", s.Entry?.Value ?? "absent")),
                new Fix("Decide which value is right for the farm; remove the entry where it is stale, or set it where it is missing, so every node holds the same.")
                {
                    Commands = [AppcmdBackup("before-kd5004"), FixCommands.RemoveCustomMetadata(WindowsPaths.ApplicationHostConfig, shownPath, [id])],
                    Risk = "Run the removal only on the nodes where the entry is stale; it removes that one property and leaves the key's others. An IIS 6 compatibility client may write it back.",
                    NeedsIisRestart = true,
                    NeedsDecision = true,
                });
        }
    }

    private static FarmFinding Drift(string subject, string what, string details, IEnumerable<FarmNode> odd, IEnumerable<Evidence> evidence, Fix fix)
    {
        var nodes = odd.ToList();
        return new FarmFinding(Finding.Create(FindingCatalog.FarmConfigurationDrift, subject, what, details) with
        {
            Evidence = evidence.ToList(),
            Fix = fix,
        }, nodes.Select(n => n.Source).ToList());
    }

    private static string Describe(NodeProvider? provider) => provider is null ? "not defined"
        : $"type {(provider.Type.Length == 0 ? "(native RSA)" : provider.Type)}, keyContainerName {provider.KeyContainer ?? "(none)"}, sessionKey {(provider.SessionKeySha256 is { } hash ? "SHA-256 " + hash[..16] + "…" : "(none)")}";

    private static string Difference(NodeProvider? provider, NodeProvider? reference)
    {
        if (provider is null) return "it is not defined";
        if (reference is null) return "it is defined, where most nodes do not define it";
        var parts = new List<string>();
        if (!provider.Type.Equals(reference.Type, StringComparison.Ordinal)) parts.Add($"its type is {provider.Type}, not {reference.Type}");
        if (!string.Equals(provider.KeyContainer, reference.KeyContainer, StringComparison.OrdinalIgnoreCase))
            parts.Add($"its keyContainerName is {provider.KeyContainer ?? "(none)"}, not {reference.KeyContainer ?? "(none)"}");
        if (!string.Equals(provider.SessionKeySha256, reference.SessionKeySha256, StringComparison.OrdinalIgnoreCase))
            parts.Add("its sessionKey is another (values encrypted on one side do not decrypt on the other)");
        return parts.Count == 0 ? "it differs" : string.Join(", ", parts);
    }

    private static string? MetabaseName(uint id) => Formats.Iis.MetabasePropertyIds.NameOf(id);

    /// <summary>The value most items hold; a tie goes to the value of the earliest item (the node order).</summary>
    private static string Majority<T>(IReadOnlyList<T> items, Func<T, string> value)
    {
        var counts = new Dictionary<string, (int Count, int First)>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var v = value(items[i]);
            counts[v] = counts.TryGetValue(v, out var c) ? (c.Count + 1, c.First) : (1, i);
        }
        return counts.OrderByDescending(p => p.Value.Count).ThenBy(p => p.Value.First).First().Key;
    }

    private static string Names(IEnumerable<FarmNode> nodes) => string.Join(", ", nodes.Select(n => n.Label));

    /// <summary>appcmd's own backup of the IIS configuration, taken before the configuration is changed.</summary>
    private static ShellCommand AppcmdBackup(string name) =>
        ShellCommand.Run(IisConfigFindings.Appcmd, "add", "backup", name);
}
