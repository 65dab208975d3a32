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
        var checkedCertificates = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
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
            // One certificate bound to several endpoints is checked once: its key is the same for all of them.
            if (!checkedCertificates.Add($@"{certificate.Store}\{certificate.Thumbprint}")) continue;
            foreach (var finding in CheckCertificate(state, certificate, where, binding)) yield return finding;
        }
        // IIS 6 keeps each site's certificate in the metabase and hands it to HTTP.sys when W3SVC starts.
        if (certificatesKnown)
            foreach (var site in state.Metabase?.Keys.Where(k => k.SslCertHash is not null) ?? [])
                if (Find(state, site.SslCertHash!, site.SslStoreName ?? "MY") is { } certificate
                    && checkedCertificates.Add($@"{certificate.Store}\{certificate.Thumbprint}"))
                    foreach (var finding in CheckCertificate(state, certificate, $"IIS 6 site {site.Location}", null)) yield return finding;
        foreach (var finding in StaleCustomMetadata(state)) yield return finding;
        foreach (var finding in BindingMismatches(state)) yield return finding;
    }

    /// <summary>File-name prefixes of the keys of certificates HTTP.sys serves.</summary>
    public static HashSet<string> BoundContainerPrefixes(MachineState state)
    {
        var prefixes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var certificate in BoundCertificates(state))
            if (certificate.Entry?.KeyProviderInfo is { ContainerName: not null } link)
                prefixes.Add(link.KeyFilePrefix);
        return prefixes;
    }

    /// <summary>The certificates HTTP.sys serves and IIS 6 sites name, each once, with where they are bound.</summary>
    public static IEnumerable<StoredCertificate> BoundCertificates(MachineState state) => BoundCertificatesWithPlace(state).Select(b => b.Certificate).Distinct();

    /// <summary>Each bound certificate with the endpoint or IIS 6 site it serves.</summary>
    public static IEnumerable<(StoredCertificate Certificate, string Where, HttpSysBinding? Binding)> BoundCertificatesWithPlace(MachineState state)
    {
        foreach (var binding in state.HttpSysBindings.Where(b => b.CertificateHash is not null))
            if (Find(state, binding.CertificateHash!, binding.EffectiveStoreName) is { } certificate)
                yield return (certificate, $"HTTP.sys {binding.Endpoint}", binding);
        foreach (var site in state.Metabase?.Keys.Where(k => k.SslCertHash is not null) ?? [])
            if (Find(state, site.SslCertHash!, site.SslStoreName ?? "MY") is { } certificate)
                yield return (certificate, $"IIS 6 site {site.Location}", null);
    }

    private static IEnumerable<Finding> CheckCertificate(MachineState state, StoredCertificate stored, string where, HttpSysBinding? binding)
    {
        var entry = stored.Entry!;
        var x509 = entry.Certificate;
        var subject = x509?.Subject ?? "(unreadable certificate)";
        var thumbprint = stored.Thumbprint;
        var certificateEvidence = Evidence.ForCertificate(thumbprint, $"{subject}, store {stored.Store}, registry {stored.RegistryPath}");
        var successor = RenewedBy(state, stored);

        var checkedAt = state.ReferenceTime;
        var now = checkedAt.Time.UtcDateTime;
        if (x509 is not null && (x509.NotAfter.ToUniversalTime() < now || x509.NotBefore.ToUniversalTime() > now))
            yield return new Finding(FindingCatalog.CertificateExpired, thumbprint,
                FindingCatalog.CertificateExpired.FormatMessage(thumbprint, subject, where,
                    x509.NotAfter.ToUniversalTime() < now ? $"expired on {x509.NotAfter.ToUniversalTime():u}" : $"is valid only from {x509.NotBefore.ToUniversalTime():u}"))
            {
                Evidence = [certificateEvidence, Evidence.ForValue("checked at",
                    $"{checkedAt.Time.ToString("u", System.Globalization.CultureInfo.InvariantCulture)} ({checkedAt.Source})")],
                Fix = successor is { Certificate: { } renewed } && binding is not null
                    ? RenewedBindingFix(binding, renewed)
                    : new Fix("Bind the renewed certificate, or renew it: which certificate is a person's choice (the store's certificates are listed with their expiry).")
                    {
                        Commands = [FixCommands.ListStore(stored.Store)],
                        NeedsDecision = true,
                    },
            };
        if (successor is { } renewal)
            yield return RenewedStillBound(stored, where, binding, renewal, certificateEvidence);

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
        var linkEvidence = Evidence.ForValue("key link (CERT_KEY_PROV_INFO)", $"container {container}, provider {link.ProviderName}, {link.ProviderTypeName}, KeySpec {link.KeySpecName}" +
            (link.IsMachineKey ? ", machine key set" : ", no CRYPT_MACHINE_KEYSET (a user's or service's key set)"));
        if (!link.IsCng && link.KeySpec == 2)
            yield return new Finding(FindingCatalog.SignatureOnlyKey, thumbprint, FindingCatalog.SignatureOnlyKey.FormatMessage(thumbprint, where))
            {
                Evidence = [certificateEvidence, linkEvidence],
                Properties = Properties(("thumbprint", thumbprint), ("container", link.ContainerName)),
                Fix = SignatureKeyFix(stored),
            };

        // TPM, smart-card and HSM providers keep no key file: a missing one says nothing about the key.
        if (link.Storage != KeyStorageKind.SoftwareFile)
        {
            yield return new Finding(FindingCatalog.KeyInHardwareProvider, thumbprint,
                FindingCatalog.KeyInHardwareProvider.FormatMessage(thumbprint, container, KeyStorage.Describe(link.Storage), link.ProviderName))
            {
                Evidence = [certificateEvidence, linkEvidence],
                Properties = Properties(("thumbprint", thumbprint), ("provider", link.ProviderName), ("storage", link.Storage.ToString())),
                Fix = new Fix($"Check on the server, with {KeyStorage.Describe(link.Storage)} present and its provider installed, that the key opens (certutil -verifystore tries it). A lost device or a cleared TPM means a new key: re-issue the certificate; no PFX can bring such a key back.")
                {
                    Commands = [ShellCommand.Run("certutil", "-verifystore", stored.Store, thumbprint)],
                },
            };
            yield break;
        }

        var (expected, folder, candidates, keyFile) = state.FindLinkedKeyFile(link);
        if (keyFile is null)
        {
            foreach (var finding in KeyNotInMachineStore(state, stored, link, expected, folder, candidates, certificateEvidence, linkEvidence))
                yield return finding;
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

    /// <summary>
    /// The key file is not in the machine store. Where it is decides the cause: a link without CRYPT_MACHINE_KEYSET
    /// opens the key set of whoever uses it, so the key was made in (or left in) a user's or a service's store.
    /// LocalSystem's store works for HTTP.sys (KD2012, a warning); LocalService's or NetworkService's does not
    /// (KD2012, an error); a person's profile is KD2002, present or gone; only a machine link whose key is nowhere is
    /// KD2008.
    /// </summary>
    private static IEnumerable<Finding> KeyNotInMachineStore(MachineState state, StoredCertificate stored, KeyProviderInfo link, ExpectedKeyFile expected,
        string folder, IReadOnlyList<ScannedKeyFile> candidates, Evidence certificateEvidence, Evidence linkEvidence)
    {
        var thumbprint = stored.Thumbprint;
        var container = link.ContainerName ?? "";
        var elsewhere = state.FindKeyOutsideMachineStore(link);
        var serviceKey = elsewhere.FirstOrDefault(f => f.Store.Owner is KeyStoreOwner.LocalSystem or KeyStoreOwner.LocalService or KeyStoreOwner.NetworkService);
        var userKey = elsewhere.FirstOrDefault(f => f.Store.Owner == KeyStoreOwner.User);
        var expectedPath = WindowsPaths.Combine(folder, expected.FileName);
        var lacksMachineFlag = !link.IsMachineKey;

        if (serviceKey is not null && (lacksMachineFlag || userKey is null))
        {
            // SYSTEM opens LocalSystem's key set when the link has no machine flag: HTTP.sys still works.
            var works = lacksMachineFlag && serviceKey.Store.Owner == KeyStoreOwner.LocalSystem;
            yield return new Finding(FindingCatalog.KeyInServiceStore, thumbprint,
                FindingCatalog.KeyInServiceStore.FormatMessage(thumbprint, container, $"{serviceKey.Store.Describe()}: {serviceKey.WindowsPath}"))
            {
                Severity = works ? Severity.Warning : Severity.Error,
                Evidence = [certificateEvidence, linkEvidence, Evidence.ForFile(serviceKey.WindowsPath, $"key file in {serviceKey.Store.Describe()}"),
                    Evidence.ForValue("expected machine key file (absent)", expectedPath)],
                Properties = Properties(("thumbprint", thumbprint), ("store", stored.Store), ("keyFile", serviceKey.WindowsPath), ("owner", serviceKey.Store.Sid)),
                Fix = ServiceKeyFix(stored, serviceKey, works),
            };
            yield break;
        }
        if (userKey is not null)
        {
            yield return new Finding(FindingCatalog.KeyInUserProfile, thumbprint,
                FindingCatalog.KeyInUserProfile.FormatMessage(thumbprint, container, userKey.WindowsPath))
            {
                Evidence = [certificateEvidence, linkEvidence, Evidence.ForFile(userKey.WindowsPath, $"key file in {userKey.Store.Describe()}"),
                    Evidence.ForValue("expected machine key file (absent)", expectedPath)],
                Properties = Properties(("thumbprint", thumbprint), ("store", stored.Store), ("keyFile", userKey.WindowsPath),
                    ("userSid", userKey.Store.Sid), ("profile", userKey.Store.Profile)),
                Fix = UserKeyFix(stored, userKey.Store),
            };
            yield break;
        }
        if (lacksMachineFlag)
        {
            // The key lived in a user's store, and that profile is not here: gone with the profile, or never collected.
            var absent = state.Catalogue.Profiles.Where(p => !p.Present).ToList();
            var sid = absent.Count == 1 ? absent[0].Sid : null;
            var where = absent.Count switch
            {
                0 => "a user profile that is not in this image or bundle",
                1 => $"the profile of {absent[0].Sid} ({absent[0].Path}), which ProfileList names but which is not on the disk",
                _ => $"one of the profiles ProfileList names but the disk lacks ({string.Join(", ", absent.Select(p => $"{p.Sid} {p.Path}"))})",
            };
            yield return new Finding(FindingCatalog.KeyInUserProfile, thumbprint,
                $"Certificate {thumbprint} links to container {container} without CRYPT_MACHINE_KEYSET: its key was in a user's key store, " +
                $"in {where}; no store here holds it")
            {
                Evidence = [certificateEvidence, linkEvidence, Evidence.ForValue("expected machine key file (absent)", expectedPath),
                    Evidence.ForValue("user profiles searched", string.Join(", ", state.Catalogue.Profiles.Where(p => p.Present).Select(p => p.Path).DefaultIfEmpty("none")))],
                Properties = Properties(("thumbprint", thumbprint), ("store", stored.Store), ("userSid", sid), ("profileAbsent", "true")),
                Fix = AbsentProfileFix(stored, sid),
            };
            yield break;
        }
        yield return new Finding(FindingCatalog.CertificateKeyFileMissing, thumbprint,
            FindingCatalog.CertificateKeyFileMissing.FormatMessage(thumbprint, container, expected.FileName))
        {
            Evidence = [certificateEvidence, linkEvidence,
                Evidence.ForValue("files with this container's prefix", string.Join(", ", candidates.Select(c => c.Report.FileName).DefaultIfEmpty("none")))],
            Properties = Properties(("thumbprint", thumbprint), ("keyFile", expectedPath),
                ("publicKeySha256", stored.Entry!.Certificate is { } x509 ? PublicKeyInfo.FingerprintOf(x509) : null)),
            Fix = PfxFix("Re-import the certificate's PFX (AT_KEYEXCHANGE for CryptoAPI), or restore the key file from a snapshot (repair plan --snapshot).", stored),
        };
    }

    private sealed record Renewal(string Thumbprint, StoredCertificate? Certificate);

    /// <summary>The certificate CERT_RENEWAL_PROP_ID names (in the same store when it is there), or null when there is no such property.</summary>
    private static Renewal? RenewedBy(MachineState state, StoredCertificate stored)
    {
        if (stored.Entry?.Find(CertificatePropertyIds.Renewal) is not { Value.Length: 20 } property) return null;
        var successor = Convert.ToHexString(property.Value);
        if (successor.Equals(stored.Thumbprint, StringComparison.OrdinalIgnoreCase)) return null;
        return new Renewal(successor, Find(state, successor, stored.Store));
    }

    /// <summary>KD2013: the binding still serves a certificate that was renewed.</summary>
    private static Finding RenewedStillBound(StoredCertificate stored, string where, HttpSysBinding? binding, Renewal renewal, Evidence certificateEvidence)
    {
        var successor = renewal.Certificate;
        var detail = successor?.Entry?.Certificate is { } x509
            ? $" ({x509.Subject}, valid to {x509.NotAfter.ToUniversalTime():u}, in store {successor.Store})"
            : $", which is not in store {stored.Store}";
        return new Finding(FindingCatalog.CertificateRenewedStillBound, stored.Thumbprint,
            FindingCatalog.CertificateRenewedStillBound.FormatMessage(stored.Thumbprint, where, renewal.Thumbprint, detail))
        {
            Evidence = [certificateEvidence, Evidence.ForValue("CERT_RENEWAL_PROP_ID (the successor's SHA-1)", renewal.Thumbprint)],
            Properties = Properties(("thumbprint", stored.Thumbprint), ("store", stored.Store), ("endpoint", binding?.Endpoint),
                ("replacementThumbprint", successor is not null && binding is not null ? renewal.Thumbprint : null), ("successorThumbprint", renewal.Thumbprint)),
            Fix = successor is not null && binding is not null
                ? RenewedBindingFix(binding, successor)
                : successor is not null
                    ? new Fix($"Select certificate {renewal.Thumbprint} for the site in IIS Manager (IIS 6: Directory Security, Server Certificate); IIS 6 writes it to the metabase and HTTP.sys.")
                    {
                        Commands = [FixCommands.ListStore(stored.Store)],
                        NeedsDecision = true,
                    }
                    : new Fix($"Import the renewed certificate {renewal.Thumbprint} (with its key) into {stored.Store}, then point the binding at it.")
                    {
                        Commands = [FixCommands.ListStore(stored.Store)],
                        NeedsDecision = true,
                    },
        };
    }

    /// <summary>netsh points the binding at the renewed certificate: no restart, every setting carried over.</summary>
    private static Fix RenewedBindingFix(HttpSysBinding binding, StoredCertificate successor)
    {
        var update = FixCommands.NetshUpdate(binding, successor.Thumbprint, out var notCarried);
        return new Fix($"Point HTTP.sys {binding.Endpoint} at {successor.Thumbprint}, the certificate that renewed the bound one.")
        {
            Commands = [update],
            Risk = "Clients see the renewed certificate (same names, new key and validity)." +
                   (notCarried is null ? "" : $" netsh re-creates the binding and cannot carry over: {notCarried}."),
        };
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
        var now = state.ReferenceTime.Time.UtcDateTime;
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

    /// <summary>
    /// KD2002: the certificate goes to the user's own store (certutil -store writes it to a file), is linked there to
    /// the user's key (-repairstore finds it by public key), exported with the key as that user, and imported into
    /// the machine store as AT_KEYEXCHANGE. Nothing assumes the certificate is still in the user's store. certutil
    /// asks for the PFX password both times; it is never an argument.
    /// </summary>
    private static Fix UserKeyFix(StoredCertificate stored, KeyStoreLocation userStore)
    {
        var pfx = FixCommands.PfxInput(stored.Thumbprint);
        var cer = FixCommands.CertificateFileInput(stored.Thumbprint);
        var user = $"the user {userStore.Sid ?? "who owns the key"}" + (userStore.Profile is null ? "" : $" (profile {userStore.Profile})");
        return new Fix("Move the key into the machine store: the certificate is put in the user's store and linked to the key there, exported with its key as that user, and imported into the machine store with AT_KEYEXCHANGE.")
        {
            Commands =
            [
                FixCommands.ExportCertificate(stored.Store, stored.Thumbprint, cer) with { RunFirstAs = "as an administrator" },
                .. FixCommands.ExportUserKey(stored.Thumbprint, cer, pfx, user),
                FixCommands.ImportPfx(stored.Store, pfx),
            ],
            Inputs = [cer, pfx],
            Risk = "The key must be exportable in the user's store; otherwise build the PFX with 'keydoctor recover --user-sid' and the user's password. certutil asks for the PFX password both times.",
        };
    }

    /// <summary>KD2002 with the profile gone: the key comes back only from a backup of the profile and the user's password.</summary>
    private static Fix AbsentProfileFix(StoredCertificate stored, string? sid)
    {
        var bundle = FixCommands.RestoredImageInput(sid);
        var recovered = FixCommands.RecoveryFolderInput(stored.Thumbprint);
        var pfx = FixCommands.PfxInput(stored.Thumbprint);
        var passwordFile = FixCommands.UserPasswordFileInput(sid);
        var sidInput = sid is null ? FixCommands.SidInput("the user whose profile held the key") : null;
        return new Fix("Restore the user's profile (its Crypto and Protect folders) from a backup into a copy of this server's disk, build the PFX from it with 'keydoctor recover' and the user's password, and import it into the machine store; without a backup, re-issue the certificate.")
        {
            Commands =
            [
                FixCommands.KeyDoctor("recover", CommandArg.Input(bundle.Name), "--thumbprint", stored.Thumbprint, "--user-sid", sidInput is null ? sid! : CommandArg.Input(sidInput.Name),
                    "--user-password-file", CommandArg.Input(passwordFile.Name), "--output", CommandArg.Input(recovered.Name))
                    with { RunFirstAs = "wherever the restored copy is (any OS); it asks for a PFX password" },
                FixCommands.ImportPfx(stored.Store, pfx),
            ],
            Inputs = sidInput is null ? [bundle, passwordFile, recovered, pfx] : [bundle, sidInput, passwordFile, recovered, pfx],
            Risk = "Needs a backup of the profile from before its deletion and the user's password at that time (or the domain's DPAPI backup key); without both the key is lost.",
            NeedsDecision = true,
        };
    }

    /// <summary>KD2012: the key moves to the machine store by a PFX made as the account that owns it.</summary>
    private static Fix ServiceKeyFix(StoredCertificate stored, ScannedKeyFile key, bool works)
    {
        var (commands, inputs) = RecoverAndImport(stored, "wherever the bundle of this server is (keydoctor collect writes it); it asks for a PFX password");
        return new Fix((works ? "HTTP.sys can use the key where it is; to let application pools and administrators use it too, " : "HTTP.sys cannot open the key where it is: ")
            + $"build a PFX from {key.Store.Describe()} with 'keydoctor recover' (a bundle of this server holds DPAPI_SYSTEM) and import it into the machine store with AT_KEYEXCHANGE.")
        {
            Commands = commands,
            Inputs = inputs,
            Risk = "The PFX holds the private key: keep it owner-only and delete it after the import. Re-issuing the certificate from a request with MachineKeySet = TRUE avoids handling the key.",
            NeedsDecision = works,
        };
    }

    /// <summary>
    /// KD2003: a key made by a request on the server with KeySpec 2 is usually not exportable, so no PFX exists:
    /// re-issue from a request with KeySpec 1 (or a CNG provider), or build the PFX with 'keydoctor recover' from a
    /// bundle of this server and import it as AT_KEYEXCHANGE.
    /// </summary>
    private static Fix SignatureKeyFix(StoredCertificate stored)
    {
        var (commands, inputs) = RecoverAndImport(stored, "only without a kept PFX, wherever the bundle of this server is (keydoctor collect writes it); it asks for a PFX password");
        return new Fix("Import the key again as AT_KEYEXCHANGE, into a new container (the AT_SIGNATURE one is left as it is): from the PFX if one was kept, else from a PFX 'keydoctor recover' builds out of a bundle of this server (a key made by a request on this server is usually not exportable). Or re-issue the certificate from a request with KeySpec = 1 (AT_KEYEXCHANGE) or ProviderName = \"Microsoft Software Key Storage Provider\".")
        {
            Commands = commands,
            Inputs = inputs,
            Risk = "certutil asks for the PFX password. A recovered PFX holds the private key: keep it owner-only and delete it after the import.",
        };
    }

    /// <summary>'keydoctor recover' builds the certificate's PFX from a bundle of this server (<paramref name="when"/> says where it runs); certutil imports it as AT_KEYEXCHANGE.</summary>
    private static (IReadOnlyList<ShellCommand> Commands, IReadOnlyList<RequiredInput> Inputs) RecoverAndImport(StoredCertificate stored, string when)
    {
        var pfx = FixCommands.PfxInput(stored.Thumbprint);
        var recovered = FixCommands.RecoveryFolderInput(stored.Thumbprint);
        var bundle = FixCommands.RestoredImageInput(null);
        return (
        [
            FixCommands.KeyDoctor("recover", CommandArg.Input(bundle.Name), "--thumbprint", stored.Thumbprint, "--output", CommandArg.Input(recovered.Name))
                with { RunFirstAs = when },
            FixCommands.ImportPfx(stored.Store, pfx),
        ], [bundle, recovered, pfx]);
    }
}
