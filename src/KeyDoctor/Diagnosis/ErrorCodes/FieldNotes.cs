namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>
/// KeyDoctor's own words for a code of its field: a one-line meaning (used when no system message text is
/// available, e.g. offline on Linux), what it usually means on an IIS server, and what to run next.
/// </summary>
public sealed record FieldNote(string Message, string Advice, IReadOnlyList<string> Run);

/// <summary>
/// Notes for the codes an IIS administrator meets around machine keys, certificates and TLS. Written for
/// KeyDoctor (not copied from Microsoft's message tables); keyed by the code's 32 bits (HRESULT, or the Win32
/// number in its 0x8007xxxx form) or by the NTSTATUS.
/// </summary>
public static class FieldNotes
{
    private const string Scan = "keydoctor scan";
    private const string KeysList = "keydoctor keys list";
    private const string CertsShow = "keydoctor certs show";
    private const string Iis = "keydoctor iis";

    private static readonly Dictionary<uint, FieldNote> Hresults = new()
    {
        // CryptoAPI / CNG provider errors (NTE_*), facility 9.
        [0x80090003] = new("The key handle or key is not valid for this provider.",
            "A certificate's key link points at a key the provider cannot use (wrong provider or key type, or a damaged container).",
            [CertsShow, KeysList]),
        [0x80090005] = new("The data could not be decrypted or verified with this key.",
            "A secret was encrypted with a different key: applicationHost.config or a metabase copied from another server, " +
            "or the configuration key (iisConfigurationKey / iisWasKey) replaced. Compare the config's provider keys with this machine's containers.",
            [Iis, KeysList]),
        [0x80090006] = new("A signature does not match the key that should have made it.",
            "IIS 6 metabase / IISADMIN (event 7024): the metabase was signed by another copy of the IIS key container " +
            "(c2319c42...): MachineGuid changed, server cloned, or metabase restored from another machine.",
            [Iis, Scan]),
        [0x80090008] = new("The algorithm is not supported by this provider.",
            "The key lives in a provider that lacks the algorithm being asked for (often a legacy CSP asked for SHA-2).",
            [CertsShow]),
        [0x8009000B] = new("The key cannot be used in its current state.",
            "The private key file exists but cannot be decrypted: DPAPI master key missing or from another machine/account, " +
            "file damaged, or MachineKeys encrypted/compressed/touched by antivirus. Also the DPAPI error when a protected secret is opened on another machine.",
            [Scan, KeysList]),
        [0x8009000D] = new("The key container exists but holds no key of the requested kind.",
            "The container has no exchange (or signature) key pair: the certificate's KeySpec does not match the key in the container, " +
            "or only one of the two key pairs was restored.",
            [CertsShow, KeysList]),
        [0x8009000F] = new("An object with this name already exists.",
            "A key container with the same name is already there, often a leftover file in MachineKeys from an earlier import.",
            [KeysList]),
        [0x80090010] = new("Access to the key was refused.",
            "The account using the key (app pool identity, NETWORK SERVICE, SYSTEM for HTTP.sys) cannot read the key file, " +
            "or the key was imported as non-exportable and an export was attempted.",
            [KeysList, Scan]),
        [0x80090011] = new("The key or object was not found.",
            "A CNG key named by the certificate's key link is not in Crypto\\Keys (or the name is wrong).",
            [CertsShow, KeysList]),
        [0x80090014] = new("The provider type is not valid.",
            "The certificate's key link names a provider type that does not match the provider.",
            [CertsShow]),
        [0x80090016] = new("The key container does not exist or cannot be opened.",
            "Key container missing or unreadable: the file is gone from MachineKeys, its permissions deny the caller, " +
            "the MachineGuid changed so the file name no longer matches, or the key stayed in a user profile after a certificate was moved to the machine store. " +
            "Check MachineKeys and the certificate's key link.",
            [Scan, KeysList, CertsShow]),
        [0x80090017] = new("The provider type is not installed.",
            "The key link names a CryptoAPI provider type that is not registered on this machine.",
            [CertsShow]),
        [0x80090019] = new("The named provider is not installed.",
            "The certificate's key link names a provider (CSP/KSP) that is not installed, e.g. an HSM or smart-card provider missing after migration.",
            [CertsShow]),
        [0x8009001A] = new("The key container is registered but its contents are not valid.",
            "The key container file is damaged or truncated. Test with a fresh self-signed certificate; restore the key from a backup or PFX.",
            [Scan, KeysList]),
        [0x8009001D] = new("The provider DLL could not be loaded or initialised.",
            "A provider registration points at a missing or broken DLL.",
            [CertsShow]),
        [0x80090020] = new("The provider reported an internal failure.",
            "A generic provider failure: for CNG keys, check that the key file in Crypto\\Keys is readable and intact and that the " +
            "CNG Key Isolation (KeyIso) service is running.",
            [Scan, KeysList]),
        [0x80090027] = new("A parameter passed to the provider is not valid.",
            "Often a key link with a wrong key name or flags (machine vs user key set).",
            [CertsShow]),
        [0x80090029] = new("The provider does not support this operation.",
            "The key's provider cannot do what TLS or the caller needs, e.g. a key in a legacy CSP asked for a newer algorithm.",
            [CertsShow]),
        [0x8009002C] = new("Decryption failed.",
            "Protected data or a key blob could not be decrypted with the key at hand.",
            [Iis, KeysList]),

        // SSPI / Schannel (SEC_E_*), facility 9.
        [0x80090302] = new("The security package does not support this function.",
            "TLS: the protocol or cipher needed is disabled, or the certificate's key cannot do the required signature.",
            [CertsShow]),
        [0x80090304] = new("The security package failed internally.",
            "Schannel could not use the server certificate, frequently because its private key is unreadable or unsuitable.",
            [CertsShow, Scan]),
        [0x80090308] = new("The security token is malformed.",
            "The TLS handshake data was not understood: a client speaking plain HTTP to an HTTPS port, or a protocol mismatch.",
            []),
        [0x8009030D] = new("The credentials given to the security package were not recognised.",
            "Schannel (event 36870) could not open the server certificate's private key: key missing, unreadable by SYSTEM, " +
            "KeySpec AT_SIGNATURE instead of AT_KEYEXCHANGE, or a provider mismatch.",
            [Scan, CertsShow, KeysList]),
        [0x8009030E] = new("No credentials are available in the security package.",
            "Schannel found no usable certificate with an accessible private key for this binding: the certificate has no key, " +
            "the key cannot be opened, or the binding points at a certificate that is gone.",
            [Scan, CertsShow]),
        [0x80090325] = new("The certificate chain ends in a root that is not trusted.",
            "Install the issuing root and intermediates in the machine stores.",
            [CertsShow]),
        [0x80090326] = new("The received message was not valid.",
            "TLS: the peer sent something unexpected, often a fatal alert after it rejected our certificate or protocol.",
            [CertsShow]),
        [0x80090327] = new("The certificate could not be processed.",
            "TLS: the peer could not use the certificate presented.",
            [CertsShow]),
        [0x80090328] = new("The certificate has expired.",
            "Renew the certificate and update the binding.",
            [CertsShow]),
        [0x80090331] = new("Client and server share no algorithm.",
            "TLS: no common protocol or cipher suite, e.g. an ECDSA certificate with ECDHE suites disabled, or a key type the enabled suites cannot use.",
            [CertsShow]),
        [0x80090349] = new("The certificate is not valid for the requested use.",
            "The certificate lacks the Server Authentication usage.",
            [CertsShow]),

        // Certificates and messages (CRYPT_E_*), facility 9.
        [0x80091005] = new("The data has an unexpected encoding.",
            "A certificate or PKCS#7 blob is not in the expected format.",
            [CertsShow]),
        [0x80092002] = new("The data could not be encoded or decoded.",
            "A certificate or property blob is damaged.",
            [CertsShow]),
        [0x80092004] = new("The requested object or property was not found.",
            "A certificate is not in the store under that thumbprint, or it lacks the property being read, often the key link " +
            "(no private key associated). certutil -repairstore can relink a key that still exists.",
            [CertsShow, Scan]),
        [0x80092006] = new("No provider was given for the key.",
            "The certificate's key link has no usable provider.",
            [CertsShow]),
        [0x8009200B] = new("The certificate has no property that refers to a private key.",
            "The certificate is in the store without its key link: imported without the key, or the key was lost. Re-import the PFX or relink the key.",
            [CertsShow, Scan]),
        [0x80092010] = new("The certificate is revoked.",
            "Replace the certificate.",
            [CertsShow]),
        [0x80092012] = new("Revocation could not be checked.",
            "The server cannot reach or use the CRL/OCSP locations of the chain.",
            [CertsShow]),
        [0x80092013] = new("The revocation server could not be reached.",
            "The server cannot reach the CRL/OCSP locations of the chain (firewall or proxy).",
            [CertsShow]),

        // Trust and chains (CERT_E_*, TRUST_E_*), facility 11.
        [0x800B0004] = new("The subject is not trusted for the action.",
            "Trust policy rejected the certificate or signature.",
            [CertsShow]),
        [0x800B0100] = new("The object carries no signature.",
            "A file or blob expected to be signed is not.",
            []),
        [0x800B0101] = new("A certificate in the chain is outside its validity period.",
            "Renew the expired certificate (or intermediate) and update the binding.",
            [CertsShow]),
        [0x800B0109] = new("The chain ends in a root certificate that is not trusted.",
            "Install the issuing root in the machine's Trusted Root store (and intermediates in Intermediate CAs).",
            [CertsShow]),
        [0x800B010A] = new("The chain could not be built up to a root.",
            "An intermediate CA certificate is missing from the machine stores.",
            [CertsShow]),
        [0x800B010C] = new("A certificate in the chain is revoked.",
            "Replace the certificate.",
            [CertsShow]),
        [0x800B010F] = new("The certificate's name does not match the host name.",
            "The binding's certificate does not cover the host name clients use (subject alternative names).",
            [CertsShow]),
        [0x800B0110] = new("The certificate is not valid for the requested use.",
            "The certificate lacks the Server Authentication enhanced key usage, so it cannot serve HTTPS.",
            [CertsShow]),
        [0x800B0111] = new("The certificate was explicitly marked untrusted.",
            "The certificate (or an issuer) is in the Untrusted Certificates store.",
            [CertsShow]),
        [0x80096010] = new("The digest does not match the signed content.",
            "A signed file or blob was changed after signing.",
            []),

        // Win32 errors in their HRESULT form (0x8007xxxx).
        [0x80070002] = new("The file was not found.",
            "In key work: the key file named by the certificate's key link is not in MachineKeys or Crypto\\Keys.",
            [Scan, KeysList]),
        [0x80070003] = new("The path was not found.",
            "A configured folder (site root, key store folder, config path) does not exist.",
            [Iis]),
        [0x80070005] = new("Access was denied.",
            "The caller cannot open a key file, a configuration file or a registry key: check MachineKeys and Crypto\\Keys permissions " +
            "for the app pool identity and SYSTEM, and that the tool runs elevated.",
            [Scan, KeysList]),
        [0x8007000D] = new("The data is not valid.",
            "A protected blob (DPAPI or a config secret) is damaged or was not made for this machine.",
            [Iis]),
        [0x80070056] = new("The password is not correct.",
            "Usually a PFX import with the wrong PFX password.",
            []),
        [0x80070057] = new("A parameter is not valid.",
            "netsh http add sslcert: a malformed certhash or appid, or a certificate store name that does not exist.",
            [CertsShow]),
        [0x800700B7] = new("The object already exists.",
            "netsh http add sslcert: the IP:port or hostname:port already has a binding; delete or update it first.",
            [CertsShow]),
        [0x80070520] = new("The logon session named does not exist.",
            "HTTP.sys or IIS could not obtain the certificate's private key when adding an HTTPS binding " +
            "(netsh http add sslcert, IIS Manager): the key is missing, unreadable by SYSTEM, or still in a user profile.",
            [Scan, CertsShow, KeysList]),
        [0x8007052E] = new("The user name or password is wrong.",
            "An app pool or virtual directory identity could not log on: the password changed, or the encrypted password in " +
            "applicationHost.config no longer decrypts to the right value.",
            [Iis]),
    };

    private static readonly Dictionary<uint, FieldNote> NtStatuses = new()
    {
        [0xC0000022] = new("Access was denied.",
            "The kernel refused access to a file or key; check the key file permissions for the caller.",
            [Scan, KeysList]),
        [0xC0000034] = new("The object name was not found.",
            "A file, key or registry path named by configuration does not exist.",
            [Scan]),
        [0xC0000064] = new("The user account does not exist.",
            "An app pool or virtual directory identity names an account that does not exist.",
            [Iis]),
        [0xC000006A] = new("The password is wrong.",
            "A stored identity password (applicationHost.config or metabase) is out of date or decrypts to the wrong value.",
            [Iis]),
        [0xC000006D] = new("The logon attempt failed.",
            "An app pool or virtual directory identity could not log on: wrong or stale password, or an encrypted password that no longer decrypts.",
            [Iis]),
        [0xC000A000] = new("A signature is not valid.",
            "CNG reported a signature that does not verify with the key.",
            [KeysList]),
    };

    /// <summary>Our note for <paramref name="code"/>, or null when KeyDoctor has nothing specific to say.</summary>
    public static FieldNote? For(ErrorCode code) =>
        code.NtStatus is { } status
            ? NtStatuses.GetValueOrDefault(status)
            : Hresults.GetValueOrDefault(code.Bits);

    /// <summary>Every code KeyDoctor has a note for, as (is NTSTATUS, 32-bit value).</summary>
    public static IEnumerable<(bool IsNt, uint Value)> Codes =>
        Hresults.Keys.Select(v => (false, v)).Concat(NtStatuses.Keys.Select(v => (true, v)));
}
