namespace KeyDoctor.Formats.Certificates;

/// <summary>
/// Names of the certificate context properties (wincrypt.h CERT_*_PROP_ID) that a serialized certificate carries.
/// Id 32 is the encoded certificate itself in serialized store elements.
/// </summary>
public static class CertificatePropertyIds
{
    public const uint KeyProviderInfo = 2;
    public const uint Sha1Hash = 3;
    public const uint Md5Hash = 4;
    public const uint KeySpec = 6;
    public const uint EnhancedKeyUsage = 9;
    public const uint FriendlyName = 11;
    public const uint Description = 13;
    public const uint SignatureHash = 15;
    public const uint KeyIdentifier = 20;
    public const uint SubjectPublicKeyMd5Hash = 25;
    public const uint Certificate = 32;

    /// <summary>CERT_RENEWAL_PROP_ID: on a renewed certificate, the SHA-1 hash of the certificate that replaced it.</summary>
    public const uint Renewal = 64;
    public const uint Sha256Hash = 107;

    /// <summary>"CERT_FRIENDLY_NAME_PROP_ID" for 11; "CERT_PROP_ID_0x..." for an id not in the table.</summary>
    public static string Name(uint id) => Names.TryGetValue(id, out var name) ? name : id >= 0x8000 ? $"CERT_USER_PROP_ID_0x{id:X}" : $"CERT_PROP_ID_0x{id:X}";

    private static readonly Dictionary<uint, string> Names = new()
    {
        [1] = "CERT_KEY_PROV_HANDLE_PROP_ID",
        [2] = "CERT_KEY_PROV_INFO_PROP_ID",
        [3] = "CERT_SHA1_HASH_PROP_ID",
        [4] = "CERT_MD5_HASH_PROP_ID",
        [5] = "CERT_KEY_CONTEXT_PROP_ID",
        [6] = "CERT_KEY_SPEC_PROP_ID",
        [7] = "CERT_IE30_RESERVED_PROP_ID",
        [8] = "CERT_PUBKEY_HASH_RESERVED_PROP_ID",
        [9] = "CERT_ENHKEY_USAGE_PROP_ID",
        [10] = "CERT_NEXT_UPDATE_LOCATION_PROP_ID",
        [11] = "CERT_FRIENDLY_NAME_PROP_ID",
        [12] = "CERT_PVK_FILE_PROP_ID",
        [13] = "CERT_DESCRIPTION_PROP_ID",
        [14] = "CERT_ACCESS_STATE_PROP_ID",
        [15] = "CERT_SIGNATURE_HASH_PROP_ID",
        [16] = "CERT_SMART_CARD_DATA_PROP_ID",
        [17] = "CERT_EFS_PROP_ID",
        [18] = "CERT_FORTEZZA_DATA_PROP_ID",
        [19] = "CERT_ARCHIVED_PROP_ID",
        [20] = "CERT_KEY_IDENTIFIER_PROP_ID",
        [21] = "CERT_AUTO_ENROLL_PROP_ID",
        [22] = "CERT_PUBKEY_ALG_PARA_PROP_ID",
        [23] = "CERT_CROSS_CERT_DIST_POINTS_PROP_ID",
        [24] = "CERT_ISSUER_PUBLIC_KEY_MD5_HASH_PROP_ID",
        [25] = "CERT_SUBJECT_PUBLIC_KEY_MD5_HASH_PROP_ID",
        [26] = "CERT_ENROLLMENT_PROP_ID",
        [27] = "CERT_DATE_STAMP_PROP_ID",
        [28] = "CERT_ISSUER_SERIAL_NUMBER_MD5_HASH_PROP_ID",
        [29] = "CERT_SUBJECT_NAME_MD5_HASH_PROP_ID",
        [30] = "CERT_EXTENDED_ERROR_INFO_PROP_ID",
        [64] = "CERT_RENEWAL_PROP_ID",
        [65] = "CERT_ARCHIVED_KEY_HASH_PROP_ID",
        [66] = "CERT_AUTO_ENROLL_RETRY_PROP_ID",
        [67] = "CERT_AIA_URL_RETRIEVED_PROP_ID",
        [68] = "CERT_AUTHORITY_INFO_ACCESS_PROP_ID",
        [69] = "CERT_BACKED_UP_PROP_ID",
        [70] = "CERT_OCSP_RESPONSE_PROP_ID",
        [71] = "CERT_REQUEST_ORIGINATOR_PROP_ID",
        [72] = "CERT_SOURCE_LOCATION_PROP_ID",
        [73] = "CERT_SOURCE_URL_PROP_ID",
        [74] = "CERT_NEW_KEY_PROP_ID",
        [75] = "CERT_OCSP_CACHE_PREFIX_PROP_ID",
        [76] = "CERT_SMART_CARD_ROOT_INFO_PROP_ID",
        [77] = "CERT_NO_AUTO_EXPIRE_CHECK_PROP_ID",
        [78] = "CERT_NCRYPT_KEY_HANDLE_PROP_ID",
        [79] = "CERT_HCRYPTPROV_OR_NCRYPT_KEY_HANDLE_PROP_ID",
        [80] = "CERT_SUBJECT_INFO_ACCESS_PROP_ID",
        [81] = "CERT_CA_OCSP_AUTHORITY_INFO_ACCESS_PROP_ID",
        [82] = "CERT_CA_DISABLE_CRL_PROP_ID",
        [83] = "CERT_ROOT_PROGRAM_CERT_POLICIES_PROP_ID",
        [84] = "CERT_ROOT_PROGRAM_NAME_CONSTRAINTS_PROP_ID",
        [85] = "CERT_SUBJECT_OCSP_AUTHORITY_INFO_ACCESS_PROP_ID",
        [86] = "CERT_SUBJECT_DISABLE_CRL_PROP_ID",
        [87] = "CERT_CEP_PROP_ID",
        [89] = "CERT_SIGN_HASH_CNG_ALG_PROP_ID",
        [90] = "CERT_SCARD_PIN_ID_PROP_ID",
        [91] = "CERT_SCARD_PIN_INFO_PROP_ID",
        [92] = "CERT_SUBJECT_PUB_KEY_BIT_LENGTH_PROP_ID",
        [93] = "CERT_PUB_KEY_CNG_ALG_BIT_LENGTH_PROP_ID",
        [94] = "CERT_ISSUER_PUB_KEY_BIT_LENGTH_PROP_ID",
        [95] = "CERT_ISSUER_CHAIN_SIGN_HASH_CNG_ALG_PROP_ID",
        [96] = "CERT_ISSUER_CHAIN_PUB_KEY_CNG_ALG_BIT_LENGTH_PROP_ID",
        [97] = "CERT_NO_EXPIRE_NOTIFICATION_PROP_ID",
        [98] = "CERT_AUTH_ROOT_SHA256_HASH_PROP_ID",
        [99] = "CERT_NCRYPT_KEY_HANDLE_TRANSFER_PROP_ID",
        [100] = "CERT_HCRYPTPROV_TRANSFER_PROP_ID",
        [101] = "CERT_SMART_CARD_READER_PROP_ID",
        [102] = "CERT_SEND_AS_TRUSTED_ISSUER_PROP_ID",
        [103] = "CERT_KEY_REPAIR_ATTEMPTED_PROP_ID",
        [104] = "CERT_DISALLOWED_FILETIME_PROP_ID",
        [105] = "CERT_ROOT_PROGRAM_CHAIN_POLICIES_PROP_ID",
        [106] = "CERT_SMART_CARD_READER_NON_REMOVABLE_PROP_ID",
        [107] = "CERT_SHA256_HASH_PROP_ID",
        [108] = "CERT_SCEP_SERVER_CERTS_PROP_ID",
        [109] = "CERT_SCEP_RA_SIGNATURE_CERT_PROP_ID",
        [110] = "CERT_SCEP_RA_ENCRYPTION_CERT_PROP_ID",
        [111] = "CERT_SCEP_CA_CERT_PROP_ID",
        [112] = "CERT_SCEP_SIGNER_CERT_PROP_ID",
        [113] = "CERT_SCEP_NONCE_PROP_ID",
        [114] = "CERT_SCEP_ENCRYPT_HASH_CNG_ALG_PROP_ID",
        [115] = "CERT_SCEP_FLAGS_PROP_ID",
        [116] = "CERT_SCEP_GUID_PROP_ID",
        [117] = "CERT_SERIALIZABLE_KEY_CONTEXT_PROP_ID",
        [118] = "CERT_ISOLATED_KEY_PROP_ID",
        [119] = "CERT_SERIAL_CHAIN_PROP_ID",
        [120] = "CERT_KEY_CLASSIFICATION_PROP_ID",
        [121] = "CERT_OCSP_MUST_STAPLE_PROP_ID",
        [122] = "CERT_DISALLOWED_ENHKEY_USAGE_PROP_ID",
        [123] = "CERT_NONCOMPLIANT_ROOT_URL_PROP_ID",
        [124] = "CERT_PIN_SHA256_HASH_PROP_ID",
        [125] = "CERT_CLR_DELETE_KEY_PROP_ID",
        [126] = "CERT_NOT_BEFORE_FILETIME_PROP_ID",
        [127] = "CERT_NOT_BEFORE_ENHKEY_USAGE_PROP_ID",
        [32] = "CERT_CERT_PROP_ID",
        [33] = "CERT_CRL_PROP_ID",
        [34] = "CERT_CTL_PROP_ID",
    };
}
