using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD2001-KD2009: certificates that IIS and HTTP.sys serve, end to end down to the key file.</summary>
internal static class SslChecks
{
    public static IEnumerable<Finding> Run(MachineState state)
    {
        if (state.Registry?.System is null) yield break; // KD0001 already says the SYSTEM registry is missing
        var certificatesKnown = state.Registry.Software is not null;
        foreach (var binding in state.HttpSysBindings.Where(b => b.CertificateHash is not null))
        {
            var where = $"HTTP.sys {binding.Endpoint}";
            if (!certificatesKnown) continue;
            var certificate = Find(state, binding.CertificateHash!, binding.EffectiveStoreName);
            if (certificate is null)
            {
                var replacement = ReplacementFor(state, binding);
                yield return new Finding(FindingCatalog.HttpSysBindingCertificateMissing, binding.Endpoint,
                    FindingCatalog.HttpSysBindingCertificateMissing.FormatMessage(binding.Endpoint, binding.CertificateHash, binding.EffectiveStoreName))
                {
                    Evidence =
                    [
                        Evidence.ForRegistry(binding.RegistryPath, "SslCertHash", binding.CertificateHash),
                        Evidence.ForValue($"certificates in {binding.EffectiveStoreName}",
                            string.Join(", ", state.Certificates.Where(c => c.Store.Equals(binding.EffectiveStoreName, StringComparison.OrdinalIgnoreCase)).Select(c => c.Thumbprint).DefaultIfEmpty("none"))),
                    ],
                    Properties = Properties(("endpoint", binding.Endpoint), ("thumbprint", binding.CertificateHash!),
                        ("store", binding.EffectiveStoreName), ("registryPath", binding.RegistryPath), ("replacementThumbprint", replacement?.Thumbprint)),
                    Fix = MissingCertificateFix(state, binding, replacement),
                };
                continue;
            }
            foreach (var finding in CheckCertificate(state, certificate, where)) yield return finding;
        }
        foreach (var finding in StaleCustomMetadata(state)) yield return finding;
        foreach (var finding in BindingMismatches(state)) yield return finding;
    }

    /// <summary>File-name prefixes of the keys of certificates HTTP.sys serves.</summary>
    public static HashSet<string> BoundContainerPrefixes(MachineState state)
    {
        var prefixes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var binding in state.HttpSysBindings.Where(b => b.CertificateHash is not null))
            if (Find(state, binding.CertificateHash!, binding.EffectiveStoreName)?.Entry?.KeyProviderInfo is { ContainerName: not null } link)
                prefixes.Add(link.KeyFilePrefix);
        return prefixes;
    }

    private static IEnumerable<Finding> CheckCertificate(MachineState state, StoredCertificate stored, string where)
    {
        var entry = stored.Entry!;
        var x509 = entry.Certificate;
        var subject = x509?.Subject ?? "(unreadable certificate)";
        var thumbprint = stored.Thumbprint;
        var certificateEvidence = Evidence.ForCertificate(thumbprint, $"{subject}, store {stored.Store}, registry {stored.RegistryPath}");

        if (x509 is not null && (x509.NotAfter.ToUniversalTime() < state.ReferenceTime.UtcDateTime || x509.NotBefore.ToUniversalTime() > state.ReferenceTime.UtcDateTime))
            yield return new Finding(FindingCatalog.CertificateExpired, thumbprint,
                FindingCatalog.CertificateExpired.FormatMessage(thumbprint, subject, where,
                    x509.NotAfter.ToUniversalTime() < state.ReferenceTime.UtcDateTime ? $"expired on {x509.NotAfter.ToUniversalTime():u}" : $"is valid only from {x509.NotBefore.ToUniversalTime():u}"))
            {
                Evidence = [certificateEvidence, Evidence.ForValue("checked at", state.ReferenceTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture))],
                Fix = new Fix("Bind the renewed certificate, or renew it: which certificate is a person's choice (the store's certificates are listed with their expiry).")
                {
                    Commands = [FixCommands.ListStore(stored.Store)],
                    NeedsDecision = true,
                },
            };

        if (entry.KeyProviderInfo is not { } link)
        {
            var keptKey = x509 is null ? null : state.FindMachineKeyFor(PublicKeyInfo.FingerprintOf(x509));
            var evidence = new List<Evidence> { certificateEvidence, Evidence.ForValue("properties present", string.Join(", ", entry.Properties.Select(p => p.Name))) };
            if (keptKey is not null)
                evidence.Add(Evidence.ForFile(keptKey.WindowsPath, $"holds the certificate's public key (container {keptKey.Report.Container})"));
            yield return new Finding(FindingCatalog.CertificateWithoutKeyLink, thumbprint,
                FindingCatalog.CertificateWithoutKeyLink.FormatMessage(thumbprint, subject, where)
                + (keptKey is null ? "" : $"; its key is still in {keptKey.WindowsPath}"))
            {
                Evidence = evidence,
                Properties = keptKey is null ? new Dictionary<string, string>() : Properties(("thumbprint", thumbprint), ("store", stored.Store),
                    ("keyFile", keptKey.WindowsPath), ("container", keptKey.Report.Container),
                    ("keySpec", keptKey.Report.KeySpecs.Contains(KeySpec.KeyExchange) ? "1" : "2")),
                Fix = keptKey is null
                    ? PfxFix("Re-import the certificate's PFX: no key file under the current MachineGuid holds its public key.", stored)
                    : new Fix($"Re-link the certificate to its key, container {keptKey.Report.Container}, still in MachineKeys.")
                    {
                        Commands = [FixCommands.RepairStore(stored.Store, thumbprint)],
                    },
            };
            yield break;
        }

        var container = link.ContainerName ?? "";
        var linkEvidence = Evidence.ForValue("key link (CERT_KEY_PROV_INFO)", $"container {container}, provider {link.ProviderName}, {link.ProviderTypeName}, KeySpec {link.KeySpecName}");
        if (!link.IsCng && link.KeySpec == 2)
            yield return new Finding(FindingCatalog.SignatureOnlyKey, thumbprint, FindingCatalog.SignatureOnlyKey.FormatMessage(thumbprint, where))
            {
                Evidence = [certificateEvidence, linkEvidence],
                Properties = Properties(("thumbprint", thumbprint), ("container", link.ContainerName)),
                Fix = PfxFix("Re-import the PFX with the key as AT_KEYEXCHANGE (into a new container; the AT_SIGNATURE one is left as it is).", stored),
            };

        var (expected, folder, candidates, keyFile) = state.FindLinkedKeyFile(link);
        if (keyFile is null)
        {
            var inProfiles = state.UserKeyFiles[expected.Prefix].ToList();
            if (inProfiles.Count > 0)
                yield return new Finding(FindingCatalog.KeyInUserProfile, thumbprint,
                    FindingCatalog.KeyInUserProfile.FormatMessage(thumbprint, container, inProfiles[0]))
                {
                    Evidence = [certificateEvidence, linkEvidence, Evidence.ForFile(inProfiles[0], "key file in a user profile"),
                        Evidence.ForValue("expected machine key file (absent)", $@"{folder}\{expected.FileName}")],
                    Fix = UserKeyFix(stored, inProfiles[0]),
                };
            else
                yield return new Finding(FindingCatalog.CertificateKeyFileMissing, thumbprint,
                    FindingCatalog.CertificateKeyFileMissing.FormatMessage(thumbprint, container, expected.FileName))
                {
                    Evidence = [certificateEvidence, linkEvidence,
                        Evidence.ForValue("files with this container's prefix", string.Join(", ", candidates.Select(c => c.Report.FileName).DefaultIfEmpty("none")))],
                    Properties = Properties(("thumbprint", thumbprint), ("keyFile", $@"{folder}\{expected.FileName}"),
                        ("publicKeySha256", x509 is null ? null : PublicKeyInfo.FingerprintOf(x509))),
                    Fix = PfxFix("Re-import the certificate's PFX (AT_KEYEXCHANGE for CryptoAPI), or restore the key file from a snapshot (repair plan --snapshot).", stored),
                };
            yield break;
        }

        if (x509 is not null && keyFile.Report.PublicKeySha256 is { } keyHash)
        {
            var certificateHash = PublicKeyInfo.FingerprintOf(x509);
            if (!certificateHash.Equals(keyHash, StringComparison.OrdinalIgnoreCase))
                yield return new Finding(FindingCatalog.CertificateKeyMismatch, thumbprint,
                    FindingCatalog.CertificateKeyMismatch.FormatMessage(thumbprint, keyFile.WindowsPath))
                {
                    Evidence = [certificateEvidence, Evidence.ForValue("certificate public key SHA-256", certificateHash),
                        Evidence.ForFile(keyFile.WindowsPath, "key file public key SHA-256", value: keyHash)],
                    Properties = Properties(("thumbprint", thumbprint), ("keyFile", keyFile.WindowsPath), ("publicKeySha256", certificateHash), ("container", link.ContainerName)),
                    Fix = new Fix("Find the right container with certutil -repairstore, or re-import the PFX.")
                    {
                        Commands = [FixCommands.RepairStore(stored.Store, thumbprint)],
                    },
                };
        }
    }

    private static IEnumerable<Finding> StaleCustomMetadata(MachineState state)
    {
        if (state.ApplicationHost is not { } config || state.Registry?.Software is null) yield break;
        foreach (var key in config.CustomMetadata)
        {
            var store = key.Properties.FirstOrDefault(p => p.Id == Formats.Iis.MetabasePropertyIds.SslStoreName)?.Value ?? "MY";
            foreach (var property in key.Properties.Where(p => p.CertificateThumbprint is not null))
            {
                if (Find(state, property.CertificateThumbprint!, store) is not null) continue;
                yield return IisConfigFindings.LegacyCertificateNotInStore(key, property.CertificateThumbprint!, store, WindowsPaths.ApplicationHostConfig);
            }
        }
    }

    private static IEnumerable<Finding> BindingMismatches(MachineState state)
    {
        if (state.ApplicationHost is not { } config) yield break;
        // HTTP.sys's precedence decides both sides: a site on 10.0.0.5:443 is served by 0.0.0.0:443, and an entry
        // that serves some binding (directly or as a fallback) is never an orphan whose deletion would be offered.
        var used = new HashSet<HttpSysBinding>();
        foreach (var site in config.Sites)
            foreach (var binding in site.Bindings.Where(b => b.IsHttps))
            {
                if (IisInspector.HttpSysKeyOf(binding) is not { } key) continue;
                used.UnionWith(HttpSysPrecedence.Chain(state.HttpSysBindings, key));
                if (HttpSysPrecedence.Serving(state.HttpSysBindings, key) is not null) continue;
                yield return IisConfigFindings.MissingHttpSysBinding(site, binding, key, WindowsPaths.ApplicationHostConfig);
            }
        foreach (var orphan in state.HttpSysBindings.Where(b => !used.Contains(b) && b.Kind != HttpSysBindingKind.CentralCertificateStore))
            yield return new Finding(FindingCatalog.BindingMismatch, $"HTTP.sys {orphan.Endpoint}",
                $"HTTP.sys has an SSL binding for {orphan.Endpoint} that no IIS site uses (it may belong to other software, e.g. WinRM or AD FS)")
            {
                Severity = Severity.Info,
                Evidence = [Evidence.ForRegistry(orphan.RegistryPath, "SSL binding", orphan.CertificateHash)],
                Fix = new Fix("Delete it if nothing else uses it: no IIS binding is served by it, directly or as the fallback of another entry.")
                {
                    Commands = [FixCommands.NetshDelete(orphan.Kind, orphan.Endpoint)],
                },
            };
    }

    /// <summary>
    /// The certificate that most likely replaced a missing bound one: valid now, in the binding's store, with a key
    /// link, and issued for a host name the endpoint serves (the SNI host, or the host names of the IIS https
    /// bindings on that endpoint); the latest expiry first. Null when no host name is known or nothing matches.
    /// </summary>
    private static StoredCertificate? ReplacementFor(MachineState state, HttpSysBinding binding)
    {
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (binding.Host is { Length: > 0 } sni && !System.Net.IPAddress.TryParse(sni, out _)) hosts.Add(sni);
        foreach (var site in state.ApplicationHost?.Sites ?? [])
            foreach (var iis in site.Bindings.Where(b => b.IsHttps && b.Endpoint is { Host.Length: > 0 }))
                if (IisInspector.HttpSysKeyOf(iis) is { } key && HttpSysPrecedence.Serving(state.HttpSysBindings, key) == binding)
                    hosts.Add(iis.Endpoint!.Host);
        if (hosts.Count == 0) return null;
        var now = state.ReferenceTime.UtcDateTime;
        return state.Certificates
            .Where(c => c.Store.Equals(binding.EffectiveStoreName, StringComparison.OrdinalIgnoreCase)
                        && c.Entry?.Certificate is { } x509 && c.Entry.KeyProviderInfo is not null
                        && x509.NotBefore.ToUniversalTime() <= now && x509.NotAfter.ToUniversalTime() >= now
                        && hosts.Any(h => x509.MatchesHostname(h)))
            .OrderByDescending(c => c.Entry!.Certificate!.NotAfter).ThenBy(c => c.Thumbprint, StringComparer.Ordinal).FirstOrDefault();
    }

    private static Dictionary<string, string> Properties(params (string Name, string? Value)[] values) =>
        values.Where(v => v.Value is not null).ToDictionary(v => v.Name, v => v.Value!);

    internal static StoredCertificate? Find(MachineState state, string thumbprint, string store) =>
        state.Certificates.FirstOrDefault(c => c.Entry is not null
                                               && c.Thumbprint.Equals(thumbprint, StringComparison.OrdinalIgnoreCase)
                                               && c.Store.Equals(store, StringComparison.OrdinalIgnoreCase));

    /// <summary>The HTTP.sys entries IIS's https bindings need, for HTTP.sys's precedence.</summary>
    private static List<HttpSysBindingKey> IisKeys(MachineState state) =>
        (state.ApplicationHost?.Sites ?? []).SelectMany(s => s.Bindings).Where(b => b.IsHttps)
            .Select(IisInspector.HttpSysKeyOf).OfType<HttpSysBindingKey>().ToList();

    /// <summary>
    /// KD2004: point the binding at the certificate that replaced the missing one (netsh update: no restart, every
    /// setting read carried over); with no replacement a person chooses the certificate, and deleting the binding is
    /// offered only when no IIS binding is served by it (directly or as a fallback).
    /// </summary>
    private static Fix MissingCertificateFix(MachineState state, HttpSysBinding binding, StoredCertificate? replacement)
    {
        if (replacement is not null)
        {
            var update = FixCommands.NetshUpdate(binding, replacement.Thumbprint, out var notCarried);
            return new Fix($"Point the binding at {replacement.Thumbprint} ({replacement.Entry!.Certificate!.Subject}), the certificate that replaced the missing one.")
            {
                Commands = [update],
                Risk = "Clients see the replacement certificate; check that its names cover the site." +
                       (notCarried is null ? "" : $" netsh re-creates the binding and cannot carry over: {notCarried}."),
            };
        }
        if (!HttpSysPrecedence.IsUsed(binding, state.HttpSysBindings, IisKeys(state)))
            return new Fix("No IIS site is served by this binding: delete it, unless other software (WinRM, AD FS, a service of its own) uses it; then point it at that software's current certificate instead.")
            {
                Commands = [FixCommands.NetshDelete(binding.Kind, binding.Endpoint)],
                NeedsDecision = true,
            };
        var chosen = FixCommands.ThumbprintInput("HTTP.sys " + binding.Endpoint, $"thumbprint of the certificate for HTTP.sys {binding.Endpoint}");
        return new Fix("Point the binding at the current certificate: the store holds no valid certificate for the endpoint's host names, so which one is a person's choice. Never delete it: an IIS site is served by it.")
        {
            Commands = [FixCommands.NetshUpdate(binding, CommandArg.Input(chosen.Name), out _)],
            Inputs = [chosen],
            NeedsDecision = true,
        };
    }

    /// <summary>A certificate whose key must come back from its PFX: certutil asks for the password, never the command line.</summary>
    private static Fix PfxFix(string summary, StoredCertificate stored)
    {
        var pfx = FixCommands.PfxInput(stored.Thumbprint);
        return new Fix(summary)
        {
            Commands = [FixCommands.ImportPfx(stored.Store, pfx)],
            Inputs = [pfx],
            Risk = "Needs the certificate's PFX; certutil asks for its password.",
        };
    }

    /// <summary>KD2002: the owner exports the key from the user's store first; the machine store imports it as AT_KEYEXCHANGE.</summary>
    private static Fix UserKeyFix(StoredCertificate stored, string profileKeyFile)
    {
        var pfx = FixCommands.PfxInput(stored.Thumbprint);
        var parts = WindowsPaths.Normalize(profileKeyFile).Split('\\');
        var user = parts.Length > 1 && parts[0].Equals(WindowsPaths.Users, StringComparison.OrdinalIgnoreCase) ? $"user {parts[1]}" : "the user";
        return new Fix("Export the certificate with its key from the user's store and import it into the machine store with AT_KEYEXCHANGE.")
        {
            Commands = [FixCommands.ExportUserPfx(stored.Thumbprint, pfx, user), FixCommands.ImportPfx(stored.Store, pfx)],
            Inputs = [pfx],
            Risk = "The key must be exportable in the user store; otherwise use 'keydoctor recover' with the user's password. certutil asks for the PFX password both times.",
        };
    }
}
