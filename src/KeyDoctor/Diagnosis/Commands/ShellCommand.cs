using System.Text.Json.Serialization;

namespace KeyDoctor.Diagnosis.Commands;

/// <summary>
/// One command of a fix or a repair step, independent of the shell: a program and its arguments, and what counts
/// as success. PowerShell and cmd lines are rendered from it (<see cref="ShellRenderer"/>), each followed by its check,
/// so the two shells run the same program with the same argv and stop at the same failure.
/// </summary>
public sealed record ShellCommand(CommandArg Program, IReadOnlyList<CommandArg> Arguments)
{
    /// <summary>The highest exit code that still means success (0 for almost every program).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int MaxExitCode { get; init; }

    /// <summary>The program asks the person at the console (a PFX password): it runs only where someone can answer.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool AsksForPassword { get; init; }

    /// <summary>
    /// Not run by the plan: who must run it first, and where (e.g. "as the user who owns the key"). Shown, and
    /// written as a comment in scripts.
    /// </summary>
    public string? RunFirstAs { get; init; }

    /// <summary>A command of <paramref name="program"/> with literal or templated arguments.</summary>
    public static ShellCommand Run(CommandArg program, params CommandArg[] arguments) => new(program, arguments);

    /// <summary>Every input name the command refers to.</summary>
    [JsonIgnore] public IEnumerable<string> Inputs => Arguments.Prepend(Program).SelectMany(a => a.Inputs);

    /// <summary>The program's short name, for messages ("certutil", "appcmd.exe").</summary>
    [JsonIgnore] public string ProgramName
    {
        get
        {
            var last = Program.Parts[^1] is LiteralPart literal ? literal.Text : Program.Template;
            var slash = last.LastIndexOf('\\');
            return slash >= 0 ? last[(slash + 1)..] : last;
        }
    }
}

public enum InputKind
{
    /// <summary>A file a person brings to the server (a PFX, a key set, a key file from a backup).</summary>
    File,

    /// <summary>A certificate thumbprint a person chooses.</summary>
    Thumbprint,

    /// <summary>A security identifier (S-1-5-21-…) a person looks up.</summary>
    Sid,

    /// <summary>A name a person picks from a list the fix shows first (a configuration backup, a MetaBack backup).</summary>
    Name,
}

/// <summary>
/// Something a person must supply before a command can run, named per object (<c>pfx-C22260C5…</c>): the
/// placeholder <c>&lt;PFX file for C22260C5…&gt;</c> stays in every rendering until <see cref="Value"/> is given.
/// </summary>
public sealed record RequiredInput(string Name, string Description, InputKind Kind)
{
    /// <summary>The value given (<c>--input NAME=VALUE</c>); null while unfilled.</summary>
    public string? Value { get; init; }

    /// <summary>What an unfilled input looks like in a command: never runnable by accident.</summary>
    [JsonIgnore] public string Placeholder => $"<{Description}>";

    /// <summary>Why <paramref name="value"/> cannot fill this input, or null when it can.</summary>
    public string? Rejects(string value)
    {
        if (CommandArg.Unsafe(value) is { } problem) return $"{value} cannot be used: {problem}";
        if (Kind == InputKind.Thumbprint && (value.Length != 40 || !value.All(Uri.IsHexDigit)))
            return $"{value} is not a certificate thumbprint (40 hexadecimal digits)";
        if (Kind == InputKind.Sid && !(value.StartsWith("S-1-", StringComparison.OrdinalIgnoreCase) && value.Skip(4).All(c => char.IsAsciiDigit(c) || c == '-')))
            return $"{value} is not a SID (S-1-5-21-…)";
        return null;
    }
}
