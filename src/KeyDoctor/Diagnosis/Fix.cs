using KeyDoctor.Diagnosis.Commands;

namespace KeyDoctor.Diagnosis;

/// <summary>
/// How a person fixes one finding by hand: a summary, the commands (one shell-neutral description, rendered as
/// PowerShell and cmd), the inputs a person must supply, what it costs or risks, and whether a reboot or an IIS
/// restart follows. <c>keydoctor repair plan</c> builds its steps from the same commands.
/// </summary>
public sealed record Fix(string Summary)
{
    /// <summary>The commands, in order; each must succeed before the next runs.</summary>
    public IReadOnlyList<ShellCommand> Commands { get; init; } = [];

    /// <summary>What a person must supply (a PFX, a key set, a thumbprint): named per object, placeholders until filled.</summary>
    public IReadOnlyList<RequiredInput> Inputs { get; init; } = [];

    /// <summary>The commands as PowerShell lines (rendered from <see cref="Commands"/>).</summary>
    public string? PowerShell => Commands.Count == 0 ? null : new ShellRenderer(Shell.PowerShell, Inputs).Lines(Commands);

    /// <summary>The same commands as cmd.exe lines.</summary>
    public string? Cmd => Commands.Count == 0 ? null : new ShellRenderer(Shell.Cmd, Inputs).Lines(Commands);

    /// <summary>What the fix costs or risks, for the person deciding.</summary>
    public string? Risk { get; init; }

    public bool NeedsReboot { get; init; }
    public bool NeedsIisRestart { get; init; }

    /// <summary>True when no safe automatic fix exists and a person must decide.</summary>
    public bool NeedsDecision { get; init; }

    /// <summary>The commands rendered for <paramref name="shell"/>.</summary>
    public string? Lines(Shell shell) => shell == Shell.PowerShell ? PowerShell : Cmd;
}
