namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// The integrity verdicts for one key file. The names (<see cref="KeyFileStatusNames"/>) are stable: scripts
/// and the diagnosis layer match on them.
/// </summary>
public enum KeyFileStatus
{
    Ok,
    ZeroLength,
    Unreadable,
    NotAKeyFile,
    Truncated,
    DpapiBlobMalformed,
    PublicKeyMalformed,
    TrailingData,
    NameMismatch,
    GuidMismatch,
    DuplicateContainer,
}

public static class KeyFileStatusNames
{
    /// <summary>The stable kebab-case name of a status, e.g. "dpapi-blob-malformed".</summary>
    public static string Of(KeyFileStatus status) => status switch
    {
        KeyFileStatus.Ok => "ok",
        KeyFileStatus.ZeroLength => "zero-length",
        KeyFileStatus.Unreadable => "unreadable",
        KeyFileStatus.NotAKeyFile => "not-a-key-file",
        KeyFileStatus.Truncated => "truncated",
        KeyFileStatus.DpapiBlobMalformed => "dpapi-blob-malformed",
        KeyFileStatus.PublicKeyMalformed => "public-key-malformed",
        KeyFileStatus.TrailingData => "trailing-data",
        KeyFileStatus.NameMismatch => "name-mismatch",
        KeyFileStatus.GuidMismatch => "guid-mismatch",
        KeyFileStatus.DuplicateContainer => "duplicate-container",
        _ => status.ToString(),
    };

    public static string Describe(KeyFileStatus status) => status switch
    {
        KeyFileStatus.Ok => "parses completely and its name matches its content",
        KeyFileStatus.ZeroLength => "the file is empty (a failed write or a disk-full crash)",
        KeyFileStatus.Unreadable => "the file could not be opened or read",
        KeyFileStatus.NotAKeyFile => "the header is not a CAPI or CNG key-file header",
        KeyFileStatus.Truncated => "the header declares more bytes than the file holds",
        KeyFileStatus.DpapiBlobMalformed => "a DPAPI blob (private key, export flag or private properties) does not parse",
        KeyFileStatus.PublicKeyMalformed => "the clear-text public key or public properties do not parse",
        KeyFileStatus.TrailingData => "bytes follow the last section the header declares",
        KeyFileStatus.NameMismatch => "the name stored inside does not hash to the file-name prefix",
        KeyFileStatus.GuidMismatch => "the file-name suffix is not this machine's MachineGuid",
        KeyFileStatus.DuplicateContainer => "the same container prefix exists under several GUID suffixes",
        _ => status.ToString(),
    };
}

/// <summary>One verdict with the evidence for it (offsets, lengths, the values compared).</summary>
public sealed record KeyFileProblem(KeyFileStatus Status, string Evidence)
{
    public string Name => KeyFileStatusNames.Of(Status);
}
