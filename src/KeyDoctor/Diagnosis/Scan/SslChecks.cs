using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
                    Fix = replacement is not null
                        ? new Fix($"Point the binding at {replacement.Thumbprint} ({replacement.Entry!.Certificate!.Subject}), the certificate that replaced the missing one.")
                        {
                            PowerShell = $"netsh http update sslcert {NetshEndpoint(binding)} certhash={replacement.Thumbprint} appid='{binding.AppId?.ToString("B") ?? IisConfigFindings.DefaultAppId}' certstorename={binding.EffectiveStoreName}",
                            Cmd = $"netsh http update sslcert {NetshEndpoint(binding)} certhash={replacement.Thumbprint} appid={binding.AppId?.ToString("B") ?? IisConfigFindings.DefaultAppId} certstorename={binding.EffectiveStoreName}",
                            Risk = "Clients see the replacement certificate; check that its names cover the site.",
                        }
                        : new Fix("Point the binding at the current certificate, or delete it if the site is gone: the store holds no valid certificate for the endpoint's host names, so which one is a person's choice.")
                        {
                            PowerShell = $"netsh http update sslcert {NetshEndpoint(binding)} certhash=<new-thumbprint> appid='{IisConfigFindings.DefaultAppId}' certstorename={binding.EffectiveStoreName}",
                            Cmd = $"netsh http delete sslcert {NetshEndpoint(binding)}",
                            NeedsDecision = true,
                        },
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
                Fix = new Fix("Bind the renewed certificate, or renew it: which certificate is a person's choice.")
                {
                    PowerShell = "Get-ChildItem Cert:\\LocalMachine\\My | Sort-Object NotAfter | Format-Table Thumbprint, Subject, NotAfter", Cmd = "certutil -store my",
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
                Fix = new Fix(keptKey is null
                    ? "Re-link the certificate to its key if the key still exists, else re-import the PFX."
                    : $"Re-link the certificate to its key, container {keptKey.Report.Container}, still in MachineKeys.")
                {
                    PowerShell = $"certutil -repairstore {stored.Store} {thumbprint}",
                    Cmd = $"certutil -repairstore {stored.Store} {thumbprint}\nREM or: certutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
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
                Fix = new Fix("Re-import the PFX with the key as AT_KEYEXCHANGE.")
                {
                    PowerShell = $"certutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
                    Cmd = $"certutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
                    Risk = "Needs the PFX and its password.",
                },
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
                    Fix = new Fix("Export the certificate with its key from the user's store and import it into the machine store with AT_KEYEXCHANGE.")
                    {
                        PowerShell = $"# As the user who owns the key:\nExport-PfxCertificate -Cert Cert:\\CurrentUser\\My\\{thumbprint} -FilePath C:\\kd\\site.pfx -Password (Read-Host -AsSecureString)\n# Elevated:\ncertutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
                        Cmd = $"certutil -user -exportpfx my {thumbprint} C:\\kd\\site.pfx\ncertutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
                        Risk = "The key must be exportable in the user store; otherwise use 'keydoctor recover' with the user's password.",
                    },
                };
            else
                yield return new Finding(FindingCatalog.CertificateKeyFileMissing, thumbprint,
                    FindingCatalog.CertificateKeyFileMissing.FormatMessage(thumbprint, container, expected.FileName))
                {
                    Evidence = [certificateEvidence, linkEvidence,
                        Evidence.ForValue("files with this container's prefix", string.Join(", ", candidates.Select(c => c.Report.FileName).DefaultIfEmpty("none")))],
                    Properties = Properties(("thumbprint", thumbprint), ("keyFile", $@"{folder}\{expected.FileName}"),
                        ("publicKeySha256", x509 is null ? null : PublicKeyInfo.FingerprintOf(x509))),
                    Fix = new Fix("Re-import the certificate's PFX (AT_KEYEXCHANGE for CryptoAPI), or restore the key file from a backup.")
                    {
                        PowerShell = $"certutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
                        Cmd = $"certutil -f -importpfx {stored.Store} C:\\kd\\site.pfx AT_KEYEXCHANGE",
                    },
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
                        PowerShell = $"certutil -repairstore {stored.Store} {thumbprint}", Cmd = $"certutil -repairstore {stored.Store} {thumbprint}",
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
        var matched = new HashSet<HttpSysBinding>();
        foreach (var site in config.Sites)
            foreach (var binding in site.Bindings.Where(b => b.IsHttps))
            {
                if (IisInspector.HttpSysKeyOf(binding) is not { } key) continue;
                var found = state.HttpSysBindings.FirstOrDefault(b => RegistryMachineLookup.Matches(b, key));
                if (found is not null)
                {
                    matched.Add(found);
                    continue;
                }
                yield return IisConfigFindings.MissingHttpSysBinding(site, binding, key, WindowsPaths.ApplicationHostConfig);
            }
        foreach (var orphan in state.HttpSysBindings.Where(b => !matched.Contains(b) && b.Kind != HttpSysBindingKind.CentralCertificateStore))
            yield return new Finding(FindingCatalog.BindingMismatch, $"HTTP.sys {orphan.Endpoint}",
                $"HTTP.sys has an SSL binding for {orphan.Endpoint} that no IIS site uses (it may belong to other software, e.g. WinRM or AD FS)")
            {
                Severity = Severity.Info,
                Evidence = [Evidence.ForRegistry(orphan.RegistryPath, "SSL binding", orphan.CertificateHash)],
                Fix = new Fix("Delete it if nothing uses it.") { PowerShell = $"netsh http delete sslcert {NetshEndpoint(orphan)}", Cmd = $"netsh http delete sslcert {NetshEndpoint(orphan)}" },
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
                if (IisInspector.HttpSysKeyOf(iis) is { } key && RegistryMachineLookup.Matches(binding, key))
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

    private static string NetshEndpoint(HttpSysBinding binding) => IisConfigFindings.NetshEndpoint(binding.Kind, binding.Endpoint);
}
