namespace KeyDoctor.Diagnosis;

/// <summary>
/// How a person fixes one finding by hand: a summary, the commands in PowerShell and cmd, what it costs or risks,
/// and whether a reboot or an IIS restart follows. <c>keydoctor repair plan</c> turns these into ordered steps.
/// </summary>
public sealed record Fix(string Summary)
{
    /// <summary>PowerShell commands, one per line; comments start with '#'.</summary>
    public string? PowerShell { get; init; }

    /// <summary>The same as cmd.exe commands, one per line; comments start with 'REM'.</summary>
    public string? Cmd { get; init; }

    /// <summary>What the fix costs or risks, for the person deciding.</summary>
    public string? Risk { get; init; }

    public bool NeedsReboot { get; init; }
    public bool NeedsIisRestart { get; init; }

    /// <summary>True when no safe automatic fix exists and a person must decide.</summary>
    public bool NeedsDecision { get; init; }
}
