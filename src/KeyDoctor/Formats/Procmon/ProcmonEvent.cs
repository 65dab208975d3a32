namespace KeyDoctor.Formats.Procmon;

/// <summary>Process Monitor's event classes (the PML numbering).</summary>
public enum ProcmonEventClass
{
    Unknown = 0,
    Process = 1,
    Registry = 2,
    FileSystem = 3,
    Profiling = 4,
    Network = 5,
}

/// <summary>A process as the capture describes it (PML process table, or the columns of an export).</summary>
public sealed record ProcmonProcess
{
    public int Index { get; init; }
    public uint ProcessId { get; init; }
    public uint? ParentProcessId { get; init; }
    public string Name { get; init; } = "";
    public string? ImagePath { get; init; }
    public string? CommandLine { get; init; }
    /// <summary>DOMAIN\user, e.g. "IIS APPPOOL\DefaultAppPool" or "NT AUTHORITY\SYSTEM".</summary>
    public string? User { get; init; }
    public string? Integrity { get; init; }
    public bool? Is64Bit { get; init; }
    public ulong? AuthenticationId { get; init; }
    public uint? Session { get; init; }
    public string? Company { get; init; }
    public string? Version { get; init; }
    public string? Description { get; init; }
}

/// <summary>
/// One Process Monitor event, whatever it was read from (a PML capture, a CSV or an XML export). The five
/// columns everyone compares (process, PID, operation, path, result) are always there; typed details are filled
/// from a PML capture, where the raw values exist (an export has only the Detail text).
/// </summary>
public sealed record ProcmonEvent
{
    /// <summary>Position in the capture, from 0.</summary>
    public long Sequence { get; init; }
    public required ProcmonProcess Process { get; init; }
    public uint ThreadId { get; init; }
    public ProcmonEventClass Class { get; init; }
    /// <summary>As Procmon names it: RegOpenKey, CreateFile, QueryOpen, Process Create, TCP Send, …</summary>
    public required string Operation { get; init; }
    /// <summary>UTC for a PML capture; an export's local time of the capturing machine (Kind Unspecified).</summary>
    public DateTime? Time { get; init; }
    public TimeSpan? Duration { get; init; }
    /// <summary>As Procmon shows it: HKLM\…, C:\…, host:port -> host:port.</summary>
    public string Path { get; init; } = "";
    /// <summary>The NTSTATUS (PML only).</summary>
    public uint? Status { get; init; }
    /// <summary>As Procmon names it: SUCCESS, NAME NOT FOUND, ACCESS DENIED, or 0x… for other codes.</summary>
    public required string Result { get; init; }
    /// <summary>The Detail column: "Desired Access: Read, Disposition: …", "Type: REG_SZ, Length: 12, Data: …".</summary>
    public string Detail { get; init; } = "";
    /// <summary>Desired access mask of CreateFile, RegOpenKey and RegCreateKey (PML only).</summary>
    public uint? DesiredAccess { get; init; }
    /// <summary>CreateFile's disposition (Open, Create, OpenIf, …) or the registry's (REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY).</summary>
    public string? Disposition { get; init; }
    /// <summary>CreateFile's outcome: Opened, Created, Overwritten, … (PML only).</summary>
    public string? OpenResult { get; init; }
    /// <summary>Registry value type (REG_SZ, REG_DWORD, …) of a value read or written, where the capture has it.</summary>
    public string? ValueType { get; init; }
    /// <summary>Registry value data as Procmon shows it, where the capture has it.</summary>
    public string? ValueData { get; init; }

    /// <summary>The columns of Procmon's export (what `trace` lists).</summary>
    public ProcmonEventColumns Columns => new(Time, Process, ThreadId, Operation, Path, Result, Detail);
}

/// <summary>
/// The columns of Procmon's own export for one event, without the typed details: a struct, so a PML capture's
/// millions of events can be listed without an object each (<see cref="PmlReader.ReadColumnBatches{T}"/>).
/// </summary>
public readonly record struct ProcmonEventColumns(DateTime? Time, ProcmonProcess Process, uint ThreadId, string Operation, string Path,
    string Result, string Detail);
