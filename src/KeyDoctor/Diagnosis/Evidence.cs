namespace KeyDoctor.Diagnosis;

/// <summary>What kind of thing a piece of evidence points at.</summary>
public enum EvidenceKind
{
    File,
    Registry,
    Event,
    Configuration,
    Certificate,
    Value,
}

/// <summary>
/// One fact behind a finding, pointing at where it was read: a key file and offset, a registry value, an event
/// record, a configuration element. Evidence never carries secrets.
/// </summary>
public sealed record Evidence(EvidenceKind Kind, string Description)
{
    /// <summary>Path of the file, registry key, or configuration file the fact was read from.</summary>
    public string? Location { get; init; }

    /// <summary>Byte offset in <see cref="Location"/>, when the fact is at a precise place.</summary>
    public long? Offset { get; init; }

    /// <summary>The value read (a GUID, a hash, a status), when it is short and not secret.</summary>
    public string? Value { get; init; }

    /// <summary>Event log record id, for <see cref="EvidenceKind.Event"/>.</summary>
    public ulong? RecordId { get; init; }

    public static Evidence ForFile(string path, string description, long? offset = null, string? value = null) =>
        new(EvidenceKind.File, description) { Location = path, Offset = offset, Value = value };

    public static Evidence ForRegistry(string keyPath, string description, string? value = null) =>
        new(EvidenceKind.Registry, description) { Location = keyPath, Value = value };

    public static Evidence ForEvent(string logPath, ulong recordId, string description) =>
        new(EvidenceKind.Event, description) { Location = logPath, RecordId = recordId };

    public static Evidence ForConfiguration(string path, string description, string? value = null) =>
        new(EvidenceKind.Configuration, description) { Location = path, Value = value };

    public static Evidence ForCertificate(string thumbprint, string description) =>
        new(EvidenceKind.Certificate, description) { Value = thumbprint };

    public static Evidence ForValue(string description, string value) =>
        new(EvidenceKind.Value, description) { Value = value };
}
