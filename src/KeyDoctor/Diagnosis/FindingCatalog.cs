namespace KeyDoctor.Diagnosis;

/// <summary>
/// Every finding KeyDoctor can report, in one place. IDs are stable: never renumber or reuse one.
/// KD0xxx evidence and scope, KD1xxx the machine key store, KD2xxx certificates and SSL bindings,
/// KD3xxx protected configuration, KD4xxx event log evidence, KD5xxx differences between the nodes of a farm,
/// KD6xxx what a Process Monitor capture proves.
/// Each ID has a page in docs/findings.
/// </summary>
public static class FindingCatalog
{
    public const string KeyStore = "Key store";
    public const string Ssl = "Certificates and SSL bindings";
    public const string Configuration = "Protected configuration";
    public const string Events = "Event evidence";
    public const string Scope = "Evidence and scope";
    public const string Farm = "Farm consistency";
    public const string Traces = "Process Monitor evidence";

    public static readonly DiagnosticDescriptor EvidenceUnavailable = new(
        "KD0001", "Evidence missing or unreadable",
        "{0} could not be read: {1}; checks that need it were skipped",
        Severity.Info, Scope,
        "A file KeyDoctor needs was not in the image or bundle, or could not be parsed. The checks that depend on it " +
        "did not run, so their silence is not a clean bill of health.");

    public static readonly DiagnosticDescriptor ConfigurationValueInvalid = new(
        "KD0002", "Configuration value not understood",
        "{0} line {1}: {2}; KeyDoctor skipped that setting",
        Severity.Warning, Scope,
        "A readable IIS configuration file holds a value KeyDoctor cannot interpret: a bindingInformation without a " +
        "port, an sslFlags or site id that is not a number, a customMetadata value of the wrong type, a provider " +
        "without a name, a second IIS_Global. The setting is skipped, so the checks that need it did not run for it; " +
        "IIS usually rejects the same value too (the site does not start, or HTTP error 500.19).");

    public static readonly DiagnosticDescriptor SharedConfigurationUnreachable = new(
        "KD0003", "Shared configuration not reachable from here",
        "Shared configuration is on in {0}, but {1}; the local applicationHost.config is shown instead",
        Severity.Warning, Scope,
        "redirection.config points IIS at a shared folder (usually a UNC path) that holds the applicationHost.config " +
        "and administration.config IIS really uses. Offline, only a folder inside the image can be followed: a network " +
        "share or another drive cannot, and a folder missing from the image may be missing on the server too (IIS then " +
        "fails with 'Cannot read configuration file', HRESULT 0x80070003 or 0x80070005). The local copies shown instead " +
        "may be stale.");

    public static readonly DiagnosticDescriptor MachineGuidChanged = new(
        "KD1001", "MachineGuid changed: key files carry another GUID",
        "{0} of {1} machine key files end in _{2}, but the registry's MachineGuid is {3}",
        Severity.Error, KeyStore,
        "CryptoAPI names every machine key file <hash>_<MachineGuid>. When HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid " +
        "changes (imaging without sysprep, a restored SOFTWARE hive, a tool that 'fixes' duplicate GUIDs), existing key " +
        "files are no longer found: CryptAcquireContext fails with NTE_BAD_KEYSET (0x80090016) and services re-create " +
        "empty containers under the new GUID. IISADMIN then fails to decrypt the metabase, and SSL bindings lose their keys.");

    public static readonly DiagnosticDescriptor Iis6ContainerBroken = new(
        "KD1002", "IIS 6 key container missing, duplicated, unreadable or not the metabase's key",
        "The container \"Microsoft Internet Information Server\" ({0}) {1} while MetaBase.xml holds a SessionKey",
        Severity.Critical, KeyStore,
        "IISADMIN unwraps the metabase SessionKey with the exchange key of the machine container \"Microsoft Internet " +
        "Information Server\" and checks it with the signature key. If the container file is missing, corrupt, or present " +
        "only under another MachineGuid, IISADMIN stops with event 7024 and NTE_BAD_KEYSET (0x80090016), " +
        "NTE_BAD_KEY_STATE (0x8009000B) or NTE_BAD_SIGNATURE (0x80090006), and every secure property is unreadable. " +
        "When IISADMIN finds no container it creates a new one: the container then exists but holds other keys, and " +
        "its signature key does not verify the SessionKey's signature (checked from the public key, no secret needed).");

    public static readonly DiagnosticDescriptor KeyFileCorrupt = new(
        "KD1003", "Key file corrupt, truncated, zero-length or not a key file",
        "{0} is {1}",
        Severity.Warning, KeyStore,
        "A machine key file that does not parse cannot be opened by CryptoAPI or CNG. Zero-length and truncated files " +
        "come from abrupt shutdowns, disk errors and anti-virus quarantine; the key they held is lost unless a backup " +
        "exists. The severity depends on what uses the container (IIS, a bound certificate, protected configuration).");

    public static readonly DiagnosticDescriptor KeyStoreAttributesOrAcl = new(
        "KD1004", "MachineKeys or Crypto\\Keys compressed, encrypted or with non-default permissions",
        "{0} {1}",
        Severity.Error, KeyStore,
        "Key files must be readable by the services that use them. NTFS compression and EFS encryption of MachineKeys or " +
        "Crypto\\Keys (CNG) " +
        "break key access for services (EFS keys belong to one user), and changed ACLs (a hardening script, a copied " +
        "folder) give 'Access denied' (0x80070005) or NTE_BAD_KEYSET. Only a collected bundle carries ACLs and attributes.");

    public static readonly DiagnosticDescriptor MasterKeyUnusable = new(
        "KD1005", "DPAPI master key of a key file missing or not opened",
        "{0} key file(s) of {1} name DPAPI master key {2}, which {3}",
        Severity.Error, KeyStore,
        "Each private key in a key file is a DPAPI blob that names the master key encrypting it. Machine keys and " +
        "LocalSystem's keys use the system's master keys (Windows\\System32\\Microsoft\\Protect\\S-1-5-18, opened with " +
        "the DPAPI_SYSTEM LSA secret of the SECURITY hive); a user's or service's keys use theirs (Protect\\<SID> in the " +
        "profile). When that master-key file is gone (a restore or clone that left Protect behind) or DPAPI_SYSTEM does " +
        "not open it (a SECURITY hive from another installation), the key file is intact but its private key cannot be " +
        "decrypted: NTE_BAD_KEY_STATE (0x8009000B, 'Key not valid for use in specified state'), Schannel 36870, " +
        "IISADMIN event 7024.");

    public static readonly DiagnosticDescriptor KeyFileAccessDenied = new(
        "KD1006", "Key file's permissions keep out an account that uses it",
        "{0} ({1}) does not let {2} read it",
        Severity.Error, KeyStore,
        "Besides the folder's ACL (KD1004) every key file has its own: the account that created it, SYSTEM and " +
        "Administrators by default, plus what 'Manage Private Keys' granted. HTTP.sys, IISADMIN and WAS open keys as " +
        "SYSTEM; an application pool that uses a certificate's key itself (client certificates, signing, decrypting) " +
        "needs a grant for its identity. A renewal or re-import creates a new container with the default ACL, so the " +
        "old certificate's grants are lost: Access denied (0x80070005), NTE_PERM (0x80090010) or 'Keyset does not " +
        "exist'. Only a bundle from 'keydoctor collect' carries each file's ACL.");

    public static readonly DiagnosticDescriptor KeyFolderBloated = new(
        "KD1007", "Key folder bloated with key files",
        "{0} ({1}) holds {2:N0} key files",
        Severity.Warning, KeyStore,
        "An application that creates a key container per request and never deletes it (a throw-away RSACryptoServiceProvider " +
        "without PersistKeyInCsp = false, a CNG key made with a random name), a leaking service under LocalService or " +
        "NetworkService, or a cloned server leaves hundreds of thousands to millions of files in MachineKeys, Crypto\\Keys or " +
        "a service profile's Crypto folder. CryptoAPI then slows down on every key open, the disk fills, and backup and " +
        "anti-virus passes crawl. Clean-up scripts that delete by age or name pattern have removed keys that IIS, a " +
        "certificate or protected configuration needed. 'keydoctor keys clean' keeps every key something uses (and says " +
        "what), never touches another MachineGuid's keys or a damaged key in use, names the leaking process when the " +
        "Security log has 5058/5061 events, and writes a repair plan that quarantines the rest (nothing is deleted).");

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
        "its private key in the user's profile (AppData\\Roaming\\Microsoft\\Crypto\\RSA\\<SID>, or Application Data on " +
        "Server 2003), and its key link without CRYPT_MACHINE_KEYSET. Services such as HTTP.sys cannot open it: Schannel " +
        "36870 with 0x8009030D or 0x80090016. When the profile is gone (the user left, a clean-up deleted it) the key " +
        "went with it: only a backup of the profile (its Crypto and Protect folders) and the user's password bring it back.");

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
        "exists, or (seen by 'keydoctor iis', which joins HTTP.sys) another certificate than HTTP.sys now serves, restarting " +
        "an ABO-based service re-applies the stale hash and breaks or rolls back the binding (CRYPT_E_NOT_FOUND).");

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

    public static readonly DiagnosticDescriptor LegacySslCertificateHash = new(
        "KD2010", "customMetadata keeps an IIS 6 SSL certificate hash (5506)",
        "customMetadata {0} property 5506 holds certificate hash {1}{2}; IIS 6 compatibility clients (IIS 6 Manager, adsutil.vbs, ABO scripts) re-create the HTTP.sys binding from it",
        Severity.Warning, Ssl,
        "IIS 7+ keeps the IIS 6 metabase property SSLCertHash (5506) under <customMetadata> when an IIS 6 compatibility " +
        "(ABO) client set it. IIS itself ignores it, but every ABO client that touches the site writes it back to " +
        "HTTP.sys (KB 2025598), so after a certificate renewal the binding silently returns to the old certificate. " +
        "While the hash is current this is a trap, not a failure; KD2005 reports it once it is stale.");

    public static readonly DiagnosticDescriptor MetabaseCertificateMissing = new(
        "KD2011", "IIS 6 metabase names a certificate that is not in its store",
        "MetaBase.xml {0} SSLCertHash names certificate {1}, which is not in the {2} store",
        Severity.Error, Ssl,
        "IIS 6 keeps each site's certificate in the metabase (SSLCertHash, SSLStoreName) and pushes it to HTTP.sys when " +
        "W3SVC starts. When that certificate was deleted or renewed outside IIS Manager, the site's SSL binding fails " +
        "(HTTP.sys event 15021, CRYPT_E_NOT_FOUND 0x80092004) and the site does not answer https.");

    public static readonly DiagnosticDescriptor KeyInServiceStore = new(
        "KD2012", "Certificate's key is in a service account's own key store",
        "Certificate {0} links to container {1}, whose key file is in {2}, not in the machine store",
        Severity.Warning, Ssl,
        "A key link without CRYPT_MACHINE_KEYSET opens the key set of the account that uses the key. A certificate " +
        "enrolled or imported by a service running as LocalSystem keeps its key in LocalSystem's own store " +
        "(Crypto\\RSA\\S-1-5-18, Crypto\\SystemKeys): HTTP.sys, which runs as SYSTEM, can use it, but application pools " +
        "cannot, the MMC's 'Manage Private Keys' and exports do not see it, and a renewal made by an administrator puts " +
        "the new key elsewhere. A key in LocalService's or NetworkService's store (their profiles: Windows\\ServiceProfiles, " +
        "or Documents and Settings on Server 2003) cannot be opened by HTTP.sys at all (Schannel 36870, 0x8009030D).");

    public static readonly DiagnosticDescriptor CertificateRenewedStillBound = new(
        "KD2013", "Bound certificate was renewed; the binding still uses the old one",
        "Certificate {0} bound to {1} was renewed: certificate {2} replaced it{3}",
        Severity.Warning, Ssl,
        "A renewal (certreq -renew, autoenrollment, the MMC's Renew) marks the old certificate with CERT_RENEWAL_PROP_ID, " +
        "the SHA-1 hash of the certificate that replaced it. Bindings are not moved: HTTP.sys keeps serving the old " +
        "certificate until it expires (KD2007), and an IIS 6 compatibility client may put it back (KD2010). Pointing " +
        "the binding at the successor needs no restart.");

    public static readonly DiagnosticDescriptor KeyInHardwareProvider = new(
        "KD2014", "Certificate's key is held by a hardware or third-party provider",
        "Certificate {0} links to key {1} of {2} ({3}), which keeps no key file KeyDoctor can check",
        Severity.Info, Ssl,
        "TPM keys (Microsoft Platform Crypto Provider), smart-card keys (Microsoft Smart Card Key Storage Provider, the " +
        "Base Smart Card Crypto Provider), Windows Hello keys (Microsoft Passport Key Storage Provider) and HSM vendors' " +
        "key storage providers keep the key in the device, not as a file in MachineKeys or Crypto\\Keys. A missing file " +
        "is no evidence of a lost key, and re-importing a PFX is impossible: such keys are not exportable. Whether the " +
        "key opens can only be checked on the server, with the device and its provider installed.");

    public static readonly DiagnosticDescriptor ProtectedConfigKeyMissing = new(
        "KD3001", "Protected configuration key container missing",
        "Provider {0} uses key container {1} ({2}), which has no key file for MachineGuid {3}; {4} encrypted value(s) cannot be decrypted",
        Severity.Error, Configuration,
        "IIS 7+ encrypts applicationHost.config secrets (application pool passwords, virtual directory credentials) with " +
        "session keys wrapped by the RSA containers iisConfigurationKey and iisWasKey (or the CNG keys iisCngConfigurationKey " +
        "and iisCngWasKey). If the container is missing for the current MachineGuid, WAS and W3SVC cannot read the " +
        "configuration (event 5172/5173 from WAS, HRESULT 0x80090016).");

    public static readonly DiagnosticDescriptor SessionKeyUnusable = new(
        "KD3002", "Protected configuration sessionKey missing or malformed",
        "Provider {0} {1}; values it encrypts cannot be decrypted",
        Severity.Error, Configuration,
        "The IIS AES provider (AesProvider, IISWASOnlyAesProvider) encrypts values with a session key kept in its " +
        "sessionKey attribute as a CryptoAPI SIMPLEBLOB wrapped by the provider's RSA container. A sessionKey that is not " +
        "base64 or not a SIMPLEBLOB makes every value of that provider unreadable (WAS event 5172, HRESULT 0x80090005 " +
        "NTE_BAD_DATA); a missing one means the values were written with a key this file no longer holds.");

    public static readonly DiagnosticDescriptor EncryptedValueMalformed = new(
        "KD3003", "Encrypted configuration value malformed",
        "{0} holds an encrypted value that cannot be parsed: {1}",
        Severity.Error, Configuration,
        "An encrypted attribute has the form [enc:PROVIDER:BASE64:enc]. A value without a provider name, with a payload " +
        "that is not base64, or cut short (a hand edit, a bad merge, a truncated copy) cannot be decrypted by any key: " +
        "the application pool or credential that uses it fails (WAS event 5057 or 5059, HTTP error 500.19).");

    public static readonly DiagnosticDescriptor EncryptedValueUnknownProvider = new(
        "KD3004", "Encrypted value names an undefined provider",
        "{0} is encrypted with provider {1}, which no configProtectedData section defines",
        Severity.Error, Configuration,
        "IIS decrypts a value with the provider named in [enc:PROVIDER:...:enc], looked up in the configProtectedData " +
        "sections of the files it reads. A value copied from another server's configuration, or left behind when a " +
        "provider was removed, names a provider IIS cannot find, so the value cannot be decrypted (HTTP error 500.19, " +
        "'Configuration provider not found').");

    public static readonly DiagnosticDescriptor SharedConfigurationPlaintextPassword = new(
        "KD3005", "Shared-configuration password stored in clear text",
        "redirection.config stores the password of {0} in clear text (not shown)",
        Severity.Warning, Configuration,
        "The account IIS uses to read shared configuration has its password in redirection.config. IIS Manager encrypts " +
        "it with the IISRsaProvider; a password typed in by hand or by a script stays in clear text, readable by anyone " +
        "who can read the file or a backup of it.");

    public static readonly DiagnosticDescriptor MetabaseSessionKeyUnusable = new(
        "KD3006", "IIS 6 metabase SessionKey missing or damaged",
        "MetaBase.xml IIS_Global SessionKey {0}: IISADMIN cannot decrypt any secure property",
        Severity.Error, Configuration,
        "IIS 6 encrypts every secure metabase property (passwords, ASP.NET state) with the session key stored in " +
        "IIS_Global/@SessionKey, wrapped by the \"Microsoft Internet Information Server\" container. Without a readable " +
        "SessionKey IISADMIN cannot start (event 7024, NTE_BAD_DATA 0x80090005) and the secure properties are lost " +
        "unless a History or MetaBack copy holds an intact one.");

    public static readonly DiagnosticDescriptor MetabaseSessionKeyUnusual = new(
        "KD3007", "IIS 6 metabase SessionKey departs from MS-IMSA",
        "The metabase SessionKey is readable but departs from MS-IMSA: {0}",
        Severity.Info, Configuration,
        "The SessionKey parses, but an algorithm, key size or length differs from what IIS 6 writes (MS-IMSA 2.2.2). " +
        "Hand-built or converted metabases do this; IISADMIN may still accept it. Worth knowing before a re-key.");

    public static readonly DiagnosticDescriptor MetabaseSecurePropertyDamaged = new(
        "KD3008", "IIS 6 metabase secure property damaged",
        "Secure property {0} of {1} is damaged: {2}",
        Severity.Error, Configuration,
        "A secure metabase property is an IIS_CRYPTO_BLOB encrypted with the SessionKey. A damaged blob (bad header, " +
        "wrong length, not hex) cannot be decrypted even with the right keys; IIS fails where the property is used " +
        "(an anonymous user password, an application pool identity).");

    public static readonly DiagnosticDescriptor MetabaseHistoryNotRestorable = new(
        "KD3009", "No restorable IIS 6 metabase History copy",
        "None of the {0} metabase History copies in {1} can be restored",
        Severity.Warning, Configuration,
        "IIS 6 keeps MetaBase_<major>_<minor>.xml copies with their MBSchema in inetsrv\\History. A copy is restorable " +
        "when both files are there and the metabase parses with an intact SessionKey. When none is, the History folder " +
        "cannot undo a damaged metabase: only a MetaBack backup or a file-level backup can.");

    public static readonly DiagnosticDescriptor CentralCertificateStoreBroken = new(
        "KD3010", "Central Certificate Store not configured or its secrets unreadable",
        "{0}",
        Severity.Error, Configuration,
        "IIS 8+ serves https bindings that use the Central Certificate Store (sslFlags 2 or 3, HTTP.sys " +
        "SslCcsBindingInfo) from PFX files on a share. The provider's settings are in " +
        "HKLM\\SOFTWARE\\Microsoft\\IIS\\CentralCertProvider: Enabled, CertStoreLocation (the share), UserName and Password " +
        "(the account that reads it), PrivateKeyPassword (the PFX files' password), the secrets encrypted with the " +
        "exchange key of this machine's iisWasKey container. With the provider off, no location or account, or a secret " +
        "this machine cannot decrypt (the registry restored on another server, iisWasKey lost or re-created), every CCS " +
        "binding fails its handshake " +
        "(Schannel 36870/36874) while nothing in the local certificate store looks wrong.");

    public static readonly DiagnosticDescriptor EventEvidence = new(
        "KD4001", "Event log shows a key or certificate failure",
        "{0} event {1} at {2}: {3}",
        Severity.Warning, Events,
        "The event logs record the failure as the server saw it: IISADMIN, W3SVC or WAS stopping with a crypto error " +
        "(System 7024), Schannel failing to use the server credential (36868-36888), HTTP.sys failing to load an SSL " +
        "binding (15021), CNG key operations failing (Security 5058/5061). Each event is decoded and linked to the " +
        "finding that explains it.");

    public static readonly DiagnosticDescriptor FarmMachineGuidShared = new(
        "KD5001", "Nodes share one MachineGuid (cloned without sysprep)",
        "{0} nodes share MachineGuid {1}: {2}",
        Severity.Warning, Farm,
        "Every machine key file is named <hash>_<MachineGuid>, so nodes cloned from one template without sysprep " +
        "/generalize name their keys identically. Nothing fails yet, which is the trap: a key file copied from one clone " +
        "to another is silently \"valid\" on both (same name, same GUID), hiding which node really owns which key; and the " +
        "day one clone's MachineGuid is changed to end the duplicate (by a tool, a support engineer or a re-join), every " +
        "key file on that node is under the old GUID and stops being found (KD1001: IISADMIN, HTTPS bindings and " +
        "protected configuration break on that node alone), while the other clone keeps working.");

    public static readonly DiagnosticDescriptor FarmConfigurationKeysDiffer = new(
        "KD5002", "Nodes do not hold the farm's configuration key pair",
        "Key container {0} differs from the farm's on {1}; {2} encrypted value(s) of the configuration will not decrypt there",
        Severity.Error, Farm,
        "A shared applicationHost.config is encrypted once, on one node, with session keys wrapped by the RSA containers " +
        "iisConfigurationKey (AesProvider) and iisWasKey (IISWASOnlyAesProvider, IISWASOnlyRsaProvider). Every node that " +
        "reads it must hold the same key pairs: Microsoft's shared-configuration setup exports them with the configuration " +
        "for exactly this reason. A node whose container holds another key pair (IIS created its own at install, or the " +
        "import was skipped) cannot unwrap the session key: application pools with encrypted passwords fail on that node " +
        "only (WAS events 5057/5059, HRESULT 0x8009000B or 0x80090005), while the node that encrypted the file works. The " +
        "public keys in the key files are compared, so nothing is decrypted.");

    public static readonly DiagnosticDescriptor FarmCertificateDiffers = new(
        "KD5003", "HTTPS binding's certificate differs between nodes",
        "HTTPS binding {0} serves certificate {1} on {2}, but {3}",
        Severity.Error, Farm,
        "Behind a load balancer every node answers the same HTTPS endpoint, so every node needs the certificate the " +
        "binding names, with its private key, in the same store. A certificate imported on two nodes of three, imported " +
        "without its key on one (a .cer, a non-exportable copy), or a renewal bound on some nodes only makes one request " +
        "in N fail (Schannel 36870, HTTP.sys event 15021, 0x80070520 when binding) or shows clients two certificates.");

    public static readonly DiagnosticDescriptor FarmConfigurationDrift = new(
        "KD5004", "Shared-configuration settings drift between nodes",
        "{0} differs between nodes: {1}",
        Severity.Warning, Farm,
        "Nodes that should read one configuration do not: a protected-configuration provider defined differently " +
        "(another type, key container or sessionKey) means values encrypted on one node do not decrypt on another; a " +
        "customMetadata entry (an IIS 6 compatibility property such as SSLCertHash 5506) present on some nodes only means " +
        "an ABO client re-applies different settings per node. Typical causes: a node that left shared configuration and " +
        "kept a local copy, a copy edited on one node, replication (DFS-R) that stopped.");

    public static readonly DiagnosticDescriptor TraceGuidMismatch = new(
        "KD6001", "Trace shows a key looked up under the new MachineGuid",
        "{0} looked for {1} under MachineGuid {2} and got NAME NOT FOUND{3}; the container's key file is {4}, under the GUID before",
        Severity.Error, Traces,
        "A Process Monitor capture shows the mismatch KD1001 infers from file names, as it happens: a service reads " +
        "HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid, asks for <hash>_<that GUID> in MachineKeys, gets NAME NOT " +
        "FOUND, and often creates an empty container under that name, while the container's real key file sits under " +
        "the GUID the machine had before. It proves which service is affected and which key it lost (for IISADMIN, the " +
        "metabase key: KD1002).");

    public static readonly DiagnosticDescriptor TraceKeyAccessDenied = new(
        "KD6002", "Trace shows access denied on a key file",
        "{0} was denied {1} on {2}{3}",
        Severity.Error, Traces,
        "A Process Monitor capture shows a process getting ACCESS DENIED when it opens a private key file: the " +
        "file's permissions (or the MachineKeys folder's, KD1004) do not let that account read it. For a certificate " +
        "this is what the MMC's 'Manage Private Keys' dialog controls; an application pool identity (IIS APPPOOL\\<pool>) " +
        "or a service account missing from it gives 'Keyset does not exist' (NTE_BAD_KEYSET 0x80090016), 'Access " +
        "denied' (0x80070005) or Schannel 36870.");

    public static readonly DiagnosticDescriptor TraceKeyFileRemoved = new(
        "KD6003", "Trace shows a key file deleted or moved away by a process",
        "{0} {1} {2}{3} at {4}; {5}",
        Severity.Error, Traces,
        "A Process Monitor capture shows which process removed a private key file: anti-virus quarantining it (key files " +
        "are random-looking binary data), a clean-up script emptying MachineKeys to reclaim space, a person in Explorer. " +
        "The key is lost unless a backup holds it; the certificate or service that used it fails with NTE_BAD_KEYSET " +
        "(0x80090016), 0x80070520 or Schannel 36870 (KD2008, KD1002, KD3001), and it happens again unless the process " +
        "is stopped from doing it.");

    /// <summary>Every descriptor, in ID order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
    [
        EvidenceUnavailable, ConfigurationValueInvalid, SharedConfigurationUnreachable,
        MachineGuidChanged, Iis6ContainerBroken, KeyFileCorrupt, KeyStoreAttributesOrAcl, MasterKeyUnusable, KeyFileAccessDenied, KeyFolderBloated,
        CertificateWithoutKeyLink, KeyInUserProfile, SignatureOnlyKey, HttpSysBindingCertificateMissing,
        StaleMetabaseCertificateHash, BindingMismatch, CertificateExpired, CertificateKeyFileMissing, CertificateKeyMismatch,
        LegacySslCertificateHash, MetabaseCertificateMissing, KeyInServiceStore, CertificateRenewedStillBound, KeyInHardwareProvider,
        ProtectedConfigKeyMissing, SessionKeyUnusable, EncryptedValueMalformed, EncryptedValueUnknownProvider,
        SharedConfigurationPlaintextPassword, MetabaseSessionKeyUnusable, MetabaseSessionKeyUnusual,
        MetabaseSecurePropertyDamaged, MetabaseHistoryNotRestorable, CentralCertificateStoreBroken,
        EventEvidence,
        FarmMachineGuidShared, FarmConfigurationKeysDiffer, FarmCertificateDiffers, FarmConfigurationDrift,
        TraceGuidMismatch, TraceKeyAccessDenied, TraceKeyFileRemoved,
    ];

    public static DiagnosticDescriptor? Find(string id) =>
        All.FirstOrDefault(d => string.Equals(d.Id, id, StringComparison.OrdinalIgnoreCase));
}
