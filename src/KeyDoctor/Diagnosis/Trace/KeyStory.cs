using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Diagnosis.Trace;

/// <summary>What a traced access touched.</summary>
public enum KeyResourceKind
{
    /// <summary>Crypto\RSA\MachineKeys: CryptoAPI machine key containers.</summary>
    MachineKeys,
    /// <summary>Crypto\Keys: CNG machine keys.</summary>
    CngKeys,
    /// <summary>Crypto\DSS: DSS/DH key containers.</summary>
    DssKeys,
    /// <summary>Crypto\RSA\&lt;SID&gt;: a user's or service profile's CryptoAPI keys.</summary>
    UserKeys,
    /// <summary>HKLM\SOFTWARE\Microsoft\Cryptography (MachineGuid).</summary>
    MachineGuid,
    /// <summary>SystemCertificates: a certificate store (registry or file).</summary>
    CertificateStore,
    /// <summary>HTTP.sys SslBindingInfo.</summary>
    SslBinding,
}

/// <summary>One event of the trace that touched a key store, MachineGuid, a certificate store or an SSL binding.</summary>
public sealed record KeyAccess
{
    public required long Sequence { get; init; }
    public DateTime? Time { get; init; }
    public required KeyResourceKind Kind { get; init; }
    public required string Operation { get; init; }
    public required string Path { get; init; }
    public required string Result { get; init; }
    public required bool Failed { get; init; }
    public string Detail { get; init; } = "";
    /// <summary>The key file name (&lt;hash&gt;_&lt;MachineGuid&gt;) when the path is one.</summary>
    public string? KeyFile { get; init; }
    /// <summary>The container the file name's hash belongs to, when known (well-known name, or the key file in --source).</summary>
    public string? Container { get; init; }
    /// <summary>What the container is used for, when it is a well-known one.</summary>
    public string? ContainerUse { get; init; }
    /// <summary>The MachineGuid part of the key file name.</summary>
    public Guid? MachineGuidSuffix { get; init; }

    /// <summary>The path was looked up and is not there.</summary>
    public bool NotFound => Result is "NAME NOT FOUND" or "PATH NOT FOUND";

    public bool Denied => Result == "ACCESS DENIED";

    /// <summary>A CreateFile that made the file (or replaced it).</summary>
    public bool Created => Operation == "CreateFile" && !Failed && (Detail.Contains("OpenResult: Created", StringComparison.Ordinal)
                                                                    || Detail.Contains("OpenResult: Superseded", StringComparison.Ordinal)
                                                                    || Detail.Contains("OpenResult: Overwritten", StringComparison.Ordinal));

    /// <summary>
    /// The file was deleted: marked for deletion (SetDispositionInformationFile "Delete: True"; the Ex form with
    /// FILE_DISPOSITION_DELETE, or with no flags decoded, as PML gives it: Windows 10's DeleteFile always sets that
    /// flag), or opened with FILE_DELETE_ON_CLOSE.
    /// </summary>
    public bool Deleted => !Failed && Operation switch
    {
        "SetDispositionInformationFile" => Detail.Contains("Delete: True", StringComparison.Ordinal),
        "SetDispositionInformationEx" => Detail.Length == 0 || Detail.Contains("FILE_DISPOSITION_DELETE", StringComparison.Ordinal),
        "CreateFile" => Detail.Contains("Delete On Close", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>The file was renamed or moved (quarantine does this); <see cref="RenamedTo"/> says where, when the capture has it.</summary>
    public bool Renamed => !Failed && Operation.StartsWith("SetRenameInformation", StringComparison.Ordinal);

    /// <summary>The new name of a rename, from an export's "FileName: …" detail.</summary>
    public string? RenamedTo => Renamed && Detail.IndexOf("FileName: ", StringComparison.Ordinal) is var at and >= 0
        ? Detail[(at + 10)..].Split(", ")[0] : null;
}

/// <summary>One process's part of the story: who it was, what it touched (failures first), and the story in sentences.</summary>
public sealed record KeyStoryProcess
{
    public required ProcmonProcess Process { get; init; }
    public required IReadOnlyList<KeyAccess> Accesses { get; init; }
    public required IReadOnlyList<string> Sentences { get; init; }
    public int Failures => Accesses.Count(a => a.Failed);
}

/// <summary>
/// The key story of a capture: every process that touched key stores, MachineGuid, certificate stores or SSL
/// bindings, processes with failures first, each with its accesses and sentences. This is the typed result a
/// Diagnosis check (scan --trace) can turn into findings.
/// </summary>
public sealed record KeyStory
{
    public required IReadOnlyList<KeyStoryProcess> Processes { get; init; }
    /// <summary>Every MachineGuid value the trace shows being read or written, in order of first appearance.</summary>
    public required IReadOnlyList<string> MachineGuids { get; init; }
    /// <summary>Events read (all classes).</summary>
    public required long EventsRead { get; init; }
}
