using Spectre.Console;

namespace KeyDoctor.Cli;

/// <summary>
/// Where a command writes. Stdout carries the result (text or one JSON document); stderr carries progress,
/// summaries and errors, so <c>--json</c> output stays machine-readable.
/// </summary>
public sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error, bool interactive)
    {
        Output = output;
        Error = error;
        Interactive = interactive;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Piped: the width COLUMNS gives, else 160. Commands are never wrapped at all (FindingOutput.WriteCommands).
        if (!interactive) Console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns >= 40 ? columns : 160;
        ErrorConsole = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
    }

    public TextWriter Output { get; }
    public TextWriter Error { get; }

    /// <summary>True when a person is watching a terminal: progress bars and colour are allowed.</summary>
    public bool Interactive { get; }

    /// <summary>Rich console over stdout, for tables and readable text.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Rich console over stderr, for progress bars that must not pollute stdout.</summary>
    public IAnsiConsole ErrorConsole { get; }

    /// <summary>Writes <paramref name="value"/> as the single JSON document of this command.</summary>
    public void WriteJson<T>(T value) => JsonOutput.Write(Output, value);

    /// <summary>Writes one JSON Lines record (one compact object per line).</summary>
    public void WriteJsonLine<T>(T value) => JsonOutput.WriteLine(Output, value);
}
