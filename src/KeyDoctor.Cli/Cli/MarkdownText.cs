using System.Text.RegularExpressions;
using Spectre.Console;

namespace KeyDoctor.Cli;

/// <summary>
/// Prints one of KeyDoctor's own Markdown pages (the finding pages) readably in a terminal: headings bold, `code`
/// and **bold** marked up, links as "text (target)", fenced code blocks as unwrapped, indented lines a person can
/// paste (straight to the raw writer, like fix commands), tables and lists as written.
/// </summary>
public static partial class MarkdownText
{
    public static void Print(IAnsiConsole console, TextWriter raw, string markdown)
    {
        var inCode = false;
        foreach (var line in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
                continue;
            }
            if (inCode)
            {
                raw.WriteLine("    " + line);
                continue;
            }
            if (line.StartsWith("# ", StringComparison.Ordinal))
                console.MarkupLine($"[bold underline]{Markup.Escape(line[2..])}[/]");
            else if (line.StartsWith("## ", StringComparison.Ordinal) || line.StartsWith("### ", StringComparison.Ordinal))
            {
                console.WriteLine();
                console.MarkupLine($"[bold]{Markup.Escape(line.TrimStart('#', ' ').ToUpperInvariant())}[/]");
            }
            else
                console.MarkupLine(Inline(line));
        }
    }

    /// <summary>Inline Markdown of one line as Spectre markup: links, **bold**, `code`; everything else escaped.</summary>
    public static string Inline(string line)
    {
        line = Link().Replace(line, m => m.Groups[2].Value.StartsWith('#') ? m.Groups[1].Value : $"{m.Groups[1].Value} ({m.Groups[2].Value})");
        var result = new System.Text.StringBuilder();
        var last = 0;
        foreach (Match m in Emphasis().Matches(line))
        {
            result.Append(Markup.Escape(line[last..m.Index]));
            result.Append(m.Groups["code"].Success
                ? $"[cyan]{Markup.Escape(m.Groups["code"].Value)}[/]"
                : $"[bold]{Markup.Escape(m.Groups["bold"].Value)}[/]");
            last = m.Index + m.Length;
        }
        result.Append(Markup.Escape(line[last..]));
        return result.ToString();
    }

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"`(?<code>[^`]+)`|\*\*(?<bold>[^*]+)\*\*")]
    private static partial Regex Emphasis();
}
