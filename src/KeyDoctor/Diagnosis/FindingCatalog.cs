namespace KeyDoctor.Diagnosis;

/// <summary>
/// Every finding KeyDoctor can report, in one place. IDs are stable: never renumber or reuse one.
/// KD0xxx evidence and scope, KD1xxx the machine key store, KD2xxx certificates and SSL bindings,
/// KD3xxx protected configuration, KD4xxx event log evidence. Each ID has a page in docs/findings.
/// </summary>
public static class FindingCatalog
{
    public const string KeyStore = "Key store";
    public const string Ssl = "Certificates and SSL bindings";
    public const string Configuration = "Protected configuration";
    public const string Events = "Event evidence";
    public const string Scope = "Evidence and scope";

    public static readonly DiagnosticDescriptor EvidenceUnavailable = new(
        "KD0001", "Evidence missing or unreadable",
        "{0} could not be read: {1}; checks that need it were skipped",
        Severity.Info, Scope,
        "A file KeyDoctor needs was not in the image or bundle, or could not be parsed. The checks that depend on it " +
        "did not run, so their silence is not a clean bill of health.");

    public static readonly DiagnosticDescriptor MachineGuidChanged = new(
        "KD1001", "MachineGuid changed: key files carry another GUID",
        "{0} of {1} machine key files end in _{2}, but the registry's MachineGuid is {3}",
        Severity.Error, KeyStore,
        "CryptoAPI names every machine key file <hash>_<MachineGuid>. When HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid " +
        "changes (imaging without sysprep, a restored SOFTWARE hive, a tool that 'fixes' duplicate GUIDs), existing key " +
        "files are no longer found: CryptAcquireContext fails with NTE_BAD_KEYSET (0x80090016) and services re-create " +
        "empty containers under the new GUID. IISADMIN then fails to decrypt the metabase, and SSL bindings lose their keys.");

    public static readonly DiagnosticDescriptor Iis6ContainerBroken = new(
        "KD1002", "IIS 6 key container missing, duplicated or unreadable",
        "The container \"Microsoft Internet Information Server\" ({0}) {1} while MetaBase.xml holds a SessionKey",
        Severity.Critical, KeyStore,
        "IISADMIN unwraps the metabase SessionKey with the exchange key of the machine container \"Microsoft Internet " +
        "Information Server\" and checks it with the signature key. If the container file is missing, corrupt, or present " +
        "only under another MachineGuid, IISADMIN stops with event 7024 and NTE_BAD_KEYSET (0x80090016), " +
        "NTE_BAD_KEY_STATE (0x8009000B) or NTE_BAD_SIGNATURE (0x80090006), and every secure property is unreadable.");

    public static readonly DiagnosticDescriptor KeyFileCorrupt = new(
        "KD1003", "Key file corrupt, truncated, zero-length or not a key file",
        "{0} is {1}",
        Severity.Warning, KeyStore,
        "A machine key file that does not parse cannot be opened by CryptoAPI or CNG. Zero-length and truncated files " +
        "come from abrupt shutdowns, disk errors and anti-virus quarantine; the key they held is lost unless a backup " +
        "exists. The severity depends on what uses the container (IIS, a bound certificate, protected configuration).");

    public static readonly DiagnosticDescriptor KeyStoreAttributesOrAcl = new(
        "KD1004", "MachineKeys compressed, encrypted or with non-default permissions",
        "{0} {1}",
        Severity.Error, KeyStore,
        "Key files must be readable by the services that use them. NTFS compression and EFS encryption of MachineKeys " +
        "break key access for services (EFS keys belong to one user), and changed ACLs (a hardening script, a copied " +
        "folder) give 'Access denied' (0x80070005) or NTE_BAD_KEYSET. Only a collected bundle carries ACLs and attributes.");

    public static readonly DiagnosticDescriptor CertificateWithoutKeyLink = new(
        "KD2001", "Bound certificate has no private key link",
        "Certificate {0} ({1}) is bound to {2} but has no key provider information",
        Severity.Error, Ssl,
        "HTTP.sys needs the certificate's private key. A certificate imported from a .cer, restored from a backup without " +
        "its key, or whose CERT_KEY_PROV_INFO property was lost has no key link: adding the binding fails with " +
        "0x80070520 and TLS handshakes fail with Schannel 36870.");

    public static readonly DiagnosticDescriptor KeyInUserProfile = new(
        "KD2002", "Certificate's key is in a user profile, not in the machine store",
        "Certificate {0} links to container {1}, which is not in MachineKeys but is in {2}",
        Severity.Error, Ssl,
        "Dragging a certificate from the Current User store to Local Computer in the MMC copies the certificate but leaves " +
        "its private key in the user's profile (AppData\\Roaming\\Microsoft\\Crypto\\RSA\\<SID>). Services such as HTTP.sys " +
        "cannot open it: Schannel 36870 with 0x8009030D or 0x80090016.");

    public static readonly DiagnosticDescriptor SignatureOnlyKey = new(
        "KD2003", "Certificate's key is AT_SIGNATURE (KeySpec 2)",
        "Certificate {0} bound to {1} has a CryptoAPI key with KeySpec 2 (AT_SIGNATURE)",
        Severity.Error, Ssl,
        "A CryptoAPI key created or imported as AT_SIGNATURE cannot be used for TLS key exchange by all clients and " +
        "components; HTTP.sys bindings and some protocols need AT_KEYEXCHANGE (KeySpec 1). Re-import the PFX with " +
        "AT_KEYEXCHANGE.");

    public static readonly DiagnosticDescriptor HttpSysBindingCertificateMissing = new(
        "KD2004", "HTTP.sys binding names a certificate that is not in its store",
        "HTTP.sys binding {0} names certificate {1} in store {2}, which does not hold it",
        Severity.Error, Ssl,
        "HTTP.sys keeps its SSL bindings in the registry (SslBindingInfo). When the certificate is deleted or renewed " +
        "without updating the binding, HTTP.sys fails when it loads the binding after a reboot (event 15021) and clients " +
        "get connection resets; netsh shows the stale hash and CertFindCertificateInStore gives CRYPT_E_NOT_FOUND (0x80092004).");

    public static readonly DiagnosticDescriptor StaleMetabaseCertificateHash = new(
        "KD2005", "applicationHost.config customMetadata holds a stale certificate hash",
        "customMetadata {0} property 5506 holds certificate hash {1}, which is not in the {2} store",
        Severity.Warning, Ssl,
        "IIS keeps legacy metabase properties under <customMetadata>; property 5506 (SSLCertHash) and 5511 " +
        "(SSLStoreName) are written by ABO (IIS 6 compatibility) tools. When they name a certificate that no longer " +
        "exists, restarting an ABO-based service re-applies the stale hash and breaks the binding (CRYPT_E_NOT_FOUND).");

    public static readonly DiagnosticDescriptor BindingMismatch = new(
        "KD2006", "IIS https binding and HTTP.sys binding do not match",
        "{0}",
        Severity.Warning, Ssl,
        "Every https binding in applicationHost.config needs an SSL binding in HTTP.sys for the same endpoint (IP:port, " +
        "host:port with SNI, or port for the Central Certificate Store), and the reverse: a site without one does not " +
        "answer TLS, and an orphaned HTTP.sys binding keeps a port and a certificate in use.");

    public static readonly DiagnosticDescriptor CertificateExpired = new(
        "KD2007", "Bound certificate expired or not yet valid",
        "Certificate {0} ({1}) bound to {2} {3}",
        Severity.Error, Ssl,
        "A bound certificate outside its validity period makes clients refuse the connection; renewals often leave the " +
        "binding on the old certificate.");

    public static readonly DiagnosticDescriptor CertificateKeyFileMissing = new(
        "KD2008", "Certificate's private key file is missing",
        "Certificate {0} links to container {1} ({2}), but no such key file exists on the machine",
        Severity.Error, Ssl,
        "The certificate's key link names a key container whose file is gone (deleted by a MachineKeys clean-up, lost to " +
        "a failed import, or never present because the certificate was imported without its key). HTTP.sys cannot use " +
        "the certificate: 0x80070520 when binding, Schannel 36870 with 0x80090016 at handshake.");

    public static readonly DiagnosticDescriptor CertificateKeyMismatch = new(
        "KD2009", "Certificate's key file holds another key",
        "Certificate {0} links to {1}, but that file's public key does not match the certificate",
        Severity.Error, Ssl,
        "The linked key file exists but holds a different key pair (a container re-created under the same name, or a " +
        "wrong re-link). Signing and key exchange fail (NTE_BAD_KEY, Schannel 36870).");

    public static readonly DiagnosticDescriptor ProtectedConfigKeyMissing = new(
        "KD3001", "Protected configuration key container missing",
        "Provider {0} uses key container {1} ({2}), which has no key file for MachineGuid {3}; {4} encrypted value(s) cannot be decrypted",
        Severity.Error, Configuration,
        "IIS 7+ encrypts applicationHost.config secrets (application pool passwords, virtual directory credentials) with " +
        "session keys wrapped by the RSA containers iisConfigurationKey and iisWasKey (or the CNG keys iisCngConfigurationKey " +
        "and iisCngWasKey). If the container is missing for the current MachineGuid, WAS and W3SVC cannot read the " +
        "configuration (event 5172/5173 from WAS, HRESULT 0x80090016).");

    public static readonly DiagnosticDescriptor EventEvidence = new(
        "KD4001", "Event log shows a key or certificate failure",
        "{0} event {1} at {2}: {3}",
        Severity.Warning, Events,
        "The event logs record the failure as the server saw it: IISADMIN, W3SVC or WAS stopping with a crypto error " +
        "(System 7024), Schannel failing to use the server credential (36868-36888), HTTP.sys failing to load an SSL " +
        "binding (15021), CNG key operations failing (Security 5058/5061). Each event is decoded and linked to the " +
        "finding that explains it.");

    /// <summary>Every descriptor, in ID order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
    [
        EvidenceUnavailable,
        MachineGuidChanged, Iis6ContainerBroken, KeyFileCorrupt, KeyStoreAttributesOrAcl,
        CertificateWithoutKeyLink, KeyInUserProfile, SignatureOnlyKey, HttpSysBindingCertificateMissing,
        StaleMetabaseCertificateHash, BindingMismatch, CertificateExpired, CertificateKeyFileMissing, CertificateKeyMismatch,
        ProtectedConfigKeyMissing,
        EventEvidence,
    ];

    public static DiagnosticDescriptor? Find(string id) =>
        All.FirstOrDefault(d => string.Equals(d.Id, id, StringComparison.OrdinalIgnoreCase));
}
