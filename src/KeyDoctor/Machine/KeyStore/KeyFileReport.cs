using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// What a listing says about one key file: identity, key facts read without decrypting, file facts and the
/// integrity verdict. Holds no key material and no reference to the file's bytes.
/// </summary>
public sealed record KeyFileReport
{
    public required string Path { get; init; }
    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>CAPI or CNG, from the content (or from the folder when the content says nothing).</summary>
    public KeyProviderKind? Kind { get; init; }

    /// <summary>The container name stored inside the file.</summary>
    public string? Container { get; init; }

    /// <summary>The well-known container the file-name prefix belongs to, even when the content is unreadable.</summary>
    public WellKnownContainer? WellKnown { get; init; }

    /// <summary>CAPI key slots present (empty for CNG keys, which have no key spec).</summary>
    public IReadOnlyList<KeySpec> KeySpecs { get; init; } = [];

    public string? Algorithm { get; init; }
    public int? KeyBits { get; init; }
    public ulong? Exponent { get; init; }

    /// <summary>SHA-256 of the DER SubjectPublicKeyInfo (the same bytes a certificate carries).</summary>
    public string? PublicKeySha256 { get; init; }

    /// <summary>Master keys that protect the file's DPAPI blobs, in file order, without repeats.</summary>
    public IReadOnlyList<Guid> MasterKeyGuids { get; init; } = [];

    public long Size { get; init; }
    public DateTime? CreatedUtc { get; init; }
    public DateTime? ModifiedUtc { get; init; }
    // No last-access time: reading the file to report on it moves that time, so the
    // figure would describe KeyDoctor's own read and two runs would disagree.

    public IReadOnlyList<KeyFileProblem> Problems { get; init; } = [];

    /// <summary>The most severe problem, or <see cref="KeyFileStatus.Ok"/>.</summary>
    public KeyFileStatus Status => Problems.Count == 0 ? KeyFileStatus.Ok : Problems.Min(p => p.Status);
}
