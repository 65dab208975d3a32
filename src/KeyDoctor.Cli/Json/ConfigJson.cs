namespace KeyDoctor.Cli.Json;

/// <summary>`config verify --json`.</summary>
public sealed record ConfigVerifyDocument(string File, IReadOnlyList<ConfigProviderJson> Providers);

/// <param name="Status">"opens", "partly-opens", "does-not-open", "malformed" or "not-checked".</param>
public sealed record ConfigProviderJson(string Name, string? KeyContainerName, bool UseOaep, string Status, string Message);

/// <summary>`config decrypt --json`: every encrypted attribute; values are "********" unless --reveal.</summary>
public sealed record ConfigDecryptDocument(string File, bool Revealed, IReadOnlyList<ConfigValueJson> Values);

/// <param name="Status">"decrypted", "empty", "malformed", "unknown-provider", "not-opened", "not-checked" or "undecryptable".</param>
public sealed record ConfigValueJson(string Element, string Attribute, int Line, string? Provider, string Status, string Message, string? Value);

/// <summary>`config rekey --json`: the new file (null when nothing was written) and which providers were re-wrapped.</summary>
public sealed record ConfigRekeyDocument(string File, string? Output, IReadOnlyList<string> Rekeyed, IReadOnlyList<ConfigSkippedJson> Skipped);

public sealed record ConfigSkippedJson(string Name, string Reason);

/// <summary>`metabase verify --json`.</summary>
/// <param name="SessionKey">The SessionKey blob's status (Valid, Missing, Malformed, ...).</param>
public sealed record MetabaseVerifyDocument(string File, string SessionKey, bool? ExchangeKeyOpens, bool? SignatureValid, string Message);

/// <summary>`metabase decrypt --json`: the SessionKey and every secure property; values are masked unless --reveal.</summary>
public sealed record MetabaseDecryptDocument(string File, MetabaseSessionKeyJson SessionKey, bool Revealed, IReadOnlyList<MetabaseValueJson> Values);

/// <param name="Rc4Key">How the RC4 key was built (40-bit with or without salt), when the key opened.</param>
public sealed record MetabaseSessionKeyJson(string Status, bool Opens, int? KeyBits, bool? SignatureValid, string? Rc4Key, string Message);

/// <param name="Status">"decrypted", "signature-invalid", "password-protected", "not-opened", "empty" or "malformed".</param>
public sealed record MetabaseValueJson(string KeyType, string Location, string Name, uint? Id, int Line, string? DataType,
    string Status, string? Signature, string Message, string? Value);

/// <summary>`metabase rekey --json`: the new file (null when not written) and what was re-encrypted.</summary>
public sealed record MetabaseRekeyDocument(string File, string? Output, string SessionKey, int Reencrypted, int PasswordSaltedKept,
    bool VerifiedWithNewKey, string? Problem);
