using System.Text;

namespace KeyDoctor.Diagnosis.Commands;

public enum Shell
{
    PowerShell,
    Cmd,
}

/// <summary>
/// Renders <see cref="ShellCommand"/>s as lines of one shell. Both shells get the same program and argv: PowerShell
/// quotes with single quotes (no expansion) or, where a token is expanded, double quotes with <c>`</c> escapes;
/// cmd wraps an argument in double quotes whenever it holds anything but plain characters, and expands tokens as
/// <c>%NAME%</c>. An unfilled input is its quoted placeholder (<c>'&lt;PFX file for …&gt;'</c>): visible, and no file
/// of that name can exist on Windows, so a pasted line fails without doing anything.
/// </summary>
public sealed class ShellRenderer(Shell shell, IEnumerable<RequiredInput>? inputs = null)
{
    private readonly Dictionary<string, RequiredInput> _inputs =
        (inputs ?? []).GroupBy(i => i.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    public Shell Shell { get; } = shell;

    /// <summary>The command as one line (never wrapped).</summary>
    public string Line(ShellCommand command)
    {
        var line = new StringBuilder();
        var program = Argument(command.Program);
        // A program path that needs quoting or expanding is a string to PowerShell: call it with '&'.
        if (Shell == Shell.PowerShell && program != Bare(command.Program)) line.Append("& ");
        line.Append(program);
        foreach (var argument in command.Arguments) line.Append(' ').Append(Argument(argument));
        return line.ToString();
    }

    /// <summary>
    /// The line that follows <paramref name="command"/> in a script: PowerShell throws <paramref name="failure"/>
    /// (a message; the exit code is appended); cmd jumps to <paramref name="label"/>.
    /// </summary>
    public string Check(ShellCommand command, string failure, string label) => Shell == Shell.PowerShell
        ? $"if ($LASTEXITCODE -gt {command.MaxExitCode}) {{ throw \"{PowerShellDoubleQuoted(failure)}: exit code $LASTEXITCODE\" }}"
        : $"if errorlevel {command.MaxExitCode + 1} goto :{label}";

    /// <summary>
    /// A comment line. cmd still expands '%' in a <c>rem</c> line (doubled here) and a '^' ending it would swallow
    /// the next line (dropped); nothing else of a <c>rem</c> line is read.
    /// </summary>
    public string Comment(string text) => Shell == Shell.PowerShell
        ? "# " + text.ReplaceLineEndings(" ")
        : "rem " + text.ReplaceLineEndings(" ").Replace("%", "%%", StringComparison.Ordinal).TrimEnd('^', ' ');

    /// <summary>The commands as lines to paste, with a comment before each one a person must run first elsewhere.</summary>
    public string Lines(IEnumerable<ShellCommand> commands)
    {
        var lines = new List<string>();
        foreach (var command in commands)
        {
            if (command.RunFirstAs is { } who) lines.Add(Comment($"First, {who}:"));
            lines.Add(Line(command));
        }
        return string.Join("\n", lines);
    }

    public string Argument(CommandArg argument)
    {
        if (Bare(argument) is { } bare) return bare;
        return Shell == Shell.PowerShell ? PowerShellArgument(argument) : CmdArgument(argument);
    }

    /// <summary>The argument as it is, when every part is literal text the shell takes unquoted.</summary>
    private string? Bare(CommandArg argument)
    {
        var text = new StringBuilder();
        foreach (var part in argument.Parts)
        {
            if (part is LiteralPart literal) text.Append(literal.Text);
            else if (part is InputPart { Name: var name } && _inputs.TryGetValue(name, out var input) && input.Value is { } value) text.Append(value);
            else return null;
        }
        var candidate = text.ToString();
        return IsBare(candidate, Shell) ? candidate : null;
    }

    /// <summary>True when <paramref name="text"/> passes through the shell unquoted and unchanged.</summary>
    public static bool IsBare(string text, Shell shell)
    {
        if (text.Length == 0) return false;
        foreach (var c in text)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or '\\' or ':' or '=' or '+' or '*'
                  || (shell == Shell.Cmd && c is '{' or '}' or ',' or '@' or '#' or '$' or '~' or '[' or ']' or '\'')))
                return false;
        if (shell == Shell.PowerShell)
        {
            // PowerShell reads "-name:value.more" given to a native program as two arguments; "--%" stops parsing.
            if (text.StartsWith('-') && !text.Skip(1).All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
            if (text == "--%") return false;
        }
        return true;
    }

    private string PowerShellArgument(CommandArg argument)
    {
        if (argument.Parts.All(p => p is not TokenPart))
            return "'" + Literal(argument).Replace("'", "''", StringComparison.Ordinal) + "'";
        var text = new StringBuilder("\"");
        for (var i = 0; i < argument.Parts.Count; i++)
        {
            switch (argument.Parts[i])
            {
                case TokenPart token:
                    var name = token.Token switch
                    {
                        ArgToken.SystemDrive => "env:SystemDrive",
                        ArgToken.ProgramData => "env:ProgramData",
                        ArgToken.WinDir => "env:windir",
                        ArgToken.BackupRoot => "BackupRoot",
                        ArgToken.Snapshot => "Snapshot",
                        _ => throw new InvalidOperationException(),
                    };
                    // "$env:windir\x" ends the name at the backslash; anything that could continue a name needs braces.
                    var next = i + 1 < argument.Parts.Count ? PartText(argument.Parts[i + 1]) : "";
                    text.Append(next.Length == 0 || next[0] is '\\' or ' ' ? "$" + name : "${" + name + "}");
                    break;
                default:
                    text.Append(PowerShellDoubleQuoted(PartText(argument.Parts[i])));
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    private string CmdArgument(CommandArg argument)
    {
        var text = new StringBuilder("\"");
        foreach (var part in argument.Parts)
            text.Append(part switch
            {
                TokenPart token => token.Token switch
                {
                    ArgToken.SystemDrive => "%SystemDrive%",
                    ArgToken.ProgramData => "%ProgramData%",
                    ArgToken.WinDir => "%windir%",
                    ArgToken.BackupRoot => "%BACKUPROOT%",
                    ArgToken.Snapshot => "%SNAPSHOT%",
                    _ => throw new InvalidOperationException(),
                },
                _ => PartText(part),
            });
        return text.Append('"').ToString();
    }

    private string Literal(CommandArg argument) => string.Concat(argument.Parts.Select(PartText));

    private string PartText(ArgPart part) => part switch
    {
        LiteralPart literal => literal.Text,
        InputPart input when _inputs.TryGetValue(input.Name, out var known) => known.Value ?? known.Placeholder,
        InputPart input => $"<{input.Name}>",
        _ => "",
    };

    private static string PowerShellDoubleQuoted(string text) =>
        text.Replace("`", "``", StringComparison.Ordinal).Replace("$", "`$", StringComparison.Ordinal).Replace("\"", "`\"", StringComparison.Ordinal);

    /// <summary>Text cmd reads as plain words (a comment, an echo): its special characters escaped with '^', '%' doubled.</summary>
    public static string CmdEscapeText(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c == '%') escaped.Append("%%");
            else if (c is '^' or '&' or '|' or '<' or '>' or '(' or ')' or '"') escaped.Append('^').Append(c);
            else escaped.Append(c);
        }
        return escaped.ToString();
    }
}
