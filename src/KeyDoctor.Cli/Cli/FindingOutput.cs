using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;
using Spectre.Console;

namespace KeyDoctor.Cli;

/// <summary>
/// How every command prints a <see cref="Finding"/>: one JSON shape (<see cref="Json.FindingJson"/>) and one
/// text form of its evidence, so that `scan` and `iis` findings read the same.
/// </summary>
public static class FindingOutput
{
    /// <summary>"description @ location offset 0x.. record .. = value", each part only when known.</summary>
    public static string DescribeEvidence(Evidence e) =>
        e.Description
        + (e.Location is null ? "" : $" @ {e.Location}")
        + (e.Offset is { } o ? $" offset 0x{o:X}" : "")
        + (e.RecordId is { } r ? $" record {r}" : "")
        + (e.Value is null ? "" : $" = {e.Value}");

    /// <summary>
    /// Commands as lines a person pastes: written straight to <paramref name="writer"/>, never wrapped (whatever the
    /// console width) and with no prompt in front; a command someone must run first elsewhere gets a comment line.
    /// </summary>
    public static void WriteCommands(TextWriter writer, string indent, ShellRenderer renderer, IEnumerable<ShellCommand> commands)
    {
        foreach (var command in commands)
        {
            if (command.RunFirstAs is { } who) writer.WriteLine(indent + renderer.Comment($"First, {who}:"));
            writer.WriteLine(indent + renderer.Line(command));
        }
    }

    /// <summary>
    /// One finding as readable text: badge, ID, title, an optional line (the nodes of a farm finding), message,
    /// evidence, the findings it supports, fix (commands unwrapped on <paramref name="raw"/>), risk and help page.
    /// </summary>
    public static void Print(IAnsiConsole console, TextWriter raw, Finding finding, Shell shell, string? context = null)
    {
        console.MarkupLine($"{Badge(finding.Severity)} [bold]{finding.Id}[/] {Markup.Escape(finding.Title)}");
        if (context is not null) console.MarkupLine($"  [bold]{Markup.Escape(context)}[/]");
        console.MarkupLine($"  {Markup.Escape(finding.Message)}");
        foreach (var evidence in finding.Evidence)
            console.MarkupLine($"  [grey]evidence:[/] {Markup.Escape(DescribeEvidence(evidence))}");
        foreach (var related in finding.Related)
            console.MarkupLine($"  [grey]supports:[/] {Markup.Escape(related)}");
        if (finding.Fix is { } fix)
        {
            console.MarkupLine($"  [green]fix:[/] {Markup.Escape(fix.Summary)}");
            WriteCommands(raw, "    ", new ShellRenderer(shell, fix.Inputs), fix.Commands);
            if (fix.Risk is { } risk) console.MarkupLine($"  [yellow]risk:[/] {Markup.Escape(risk)}");
        }
        console.MarkupLine($"  [grey]more: {Markup.Escape(finding.Descriptor.HelpLink)}[/]");
        console.WriteLine();
    }

    /// <summary>A fixed-width severity badge.</summary>
    public static string Badge(Severity severity) => severity switch
    {
        Severity.Critical => "[white on red] CRITICAL [/]",
        Severity.Error => "[red]ERROR[/]   ",
        Severity.Warning => "[yellow]WARNING[/] ",
        _ => "[blue]INFO[/]    ",
    };
}
