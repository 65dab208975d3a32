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
    /// evidence, fix (commands unwrapped on <paramref name="raw"/>), risk and the command that explains it.
    /// </summary>
    public static void Print(IAnsiConsole console, TextWriter raw, Finding finding, Shell shell, string? context = null)
    {
        console.MarkupLine($"{Badge(finding.Severity)} [bold]{finding.Id}[/] {Markup.Escape(finding.Title)}");
        if (context is not null) console.MarkupLine($"  [bold]{Markup.Escape(context)}[/]");
        console.MarkupLine($"  {Markup.Escape(finding.Message)}");
        Body(console, raw, [finding], shell, "  ");
        console.WriteLine();
    }

    /// <summary>The command line that prints a finding's page, from the binary.</summary>
    public static string ExplainCommand(string id) => $"keydoctor explain {id}";

    private static void Body(IAnsiConsole console, TextWriter raw, IReadOnlyList<Finding> repeats, Shell shell, string indent)
    {
        var finding = repeats[0];
        foreach (var evidence in repeats.SelectMany(r => r.Evidence))
            console.MarkupLine($"{indent}[grey]evidence:[/] {Markup.Escape(DescribeEvidence(evidence))}");
        if (finding.Fix is { } fix)
        {
            console.MarkupLine($"{indent}[green]fix:[/] {Markup.Escape(fix.Summary)}");
            WriteCommands(raw, indent + "  ", new ShellRenderer(shell, fix.Inputs), fix.Commands);
            if (fix.Risk is { } risk) console.MarkupLine($"{indent}[yellow]risk:[/] {Markup.Escape(risk)}");
        }
        console.MarkupLine($"{indent}[grey]more: {Markup.Escape(ExplainCommand(finding.Id))}[/]");
    }

    /// <summary>
    /// Findings as an answer: root causes first (those that explain the most first), each followed by the findings it
    /// explains, indented ("because of KD1001: ..."), the same finding repeated at several times as one line with a
    /// count and the time range. A consequence shows its message; its evidence and fix only with
    /// <paramref name="details"/>, and the text then says what it left out. Returns the root-cause nodes.
    /// </summary>
    public static IReadOnlyList<FindingNode> PrintGrouped(IAnsiConsole console, TextWriter raw, IReadOnlyList<Finding> findings, Shell shell, bool details)
    {
        var forest = RootCauses.Group(findings);
        foreach (var root in forest)
        {
            PrintNode(console, raw, root, shell, details, 0);
            console.WriteLine();
        }
        return forest;
    }

    private static void PrintNode(IAnsiConsole console, TextWriter raw, FindingNode node, Shell shell, bool details, int depth)
    {
        var f = node.Finding;
        var indent = new string(' ', depth * 4);
        var elsewhere = node.Explains - node.Shown;
        var explains = node.Explains == 0 ? ""
            : elsewhere <= 0 ? $" [bold]· explains {node.Explains} finding(s) below[/]"
            : $" [bold]· explains {node.Explains} finding(s)[/] ({elsewhere} of them shown under another cause)";
        var because = node.Under is { } under ? $"{indent}[bold]because of {under.Id}:[/] " : "";
        console.MarkupLine($"{because}{Badge(f.Severity)} [bold]{f.Id}[/] {Markup.Escape(f.Title)}{explains}");
        var inner = indent + "  ";
        if (node.AlsoBecause.Count > 0)
            console.MarkupLine($"{inner}[grey]also because of:[/] {Markup.Escape(string.Join(", ", node.AlsoBecause.Select(r => r.ToString())))}");
        console.MarkupLine($"{inner}{Markup.Escape(node.Message)}");
        if (node.Under is null || details)
            Body(console, raw, node.Repeats, shell, inner);
        else
        {
            var evidence = node.Repeats.Sum(r => r.Evidence.Count);
            var commands = f.Fix?.Commands.Count ?? 0;
            var hidden = new List<string>();
            if (evidence > 0) hidden.Add($"{evidence} evidence line(s)");
            if (f.Fix is not null) hidden.Add(commands > 0 ? $"its own fix ({commands} command(s))" : "its own fix");
            var causes = string.Join(" or ", new[] { node.Under.Id }.Concat(node.AlsoBecause.Select(r => r.Id)).Distinct());
            console.MarkupLine($"{inner}[green]fix:[/] fix {causes} first, then scan again; if this is still reported, its own fix applies." +
                               (hidden.Count > 0 ? Markup.Escape($" Not shown: {string.Join(" and ", hidden)} (--details shows them).") : ""));
            console.MarkupLine($"{inner}[grey]more: {Markup.Escape(ExplainCommand(f.Id))}[/]");
        }
        foreach (var child in node.Consequences) PrintNode(console, raw, child, shell, details, depth + 1);
    }

    /// <summary>
    /// The closing lines of a grouped answer: how many findings, how many independent problems (root causes above
    /// Info), which to fix first and in what order after it.
    /// </summary>
    public static void PrintSummary(IAnsiConsole console, IReadOnlyList<Finding> findings, IReadOnlyList<FindingNode> forest, bool details)
    {
        var counts = string.Join(", ", Enum.GetValues<Severity>().Reverse()
            .Select(s => (s, n: findings.Count(f => f.Severity == s))).Where(p => p.n > 0).Select(p => $"{p.n} {p.s.ToString().ToLowerInvariant()}"));
        var problems = forest.Where(n => n.Finding.Severity > Severity.Info).ToList();
        var notes = forest.Count - problems.Count;
        console.MarkupLine($"[bold]{findings.Count} finding(s)[/]: {counts}.");
        if (problems.Count == 0)
        {
            console.MarkupLine("No problem to fix: only notes about what could not be checked.");
            return;
        }
        var first = problems[0];
        var firstWhy = first.Explains > 0 ? $": it explains {first.Explains} of the other findings" : "";
        console.MarkupLine($"[bold]{problems.Count} independent problem(s)[/]{(notes > 0 ? $" and {notes} note(s)" : "")}. " +
                           $"[bold]Fix {first.Finding.Id} first[/]{Markup.Escape(firstWhy)}" +
                           (problems.Count > 1 ? Markup.Escape($"; then {string.Join(", ", problems.Skip(1).Select(n => n.Finding.Id))}.") : "."));
        if (!details && forest.Any(HasConsequences))
            console.MarkupLine("[grey]Findings explained by another show their message only; --details adds their evidence and fixes (--json always has everything).[/]");
    }

    private static bool HasConsequences(FindingNode node) => node.Consequences.Count > 0;

    /// <summary>A fixed-width severity badge.</summary>
    public static string Badge(Severity severity) => severity switch
    {
        Severity.Critical => "[white on red] CRITICAL [/]",
        Severity.Error => "[red]ERROR[/]   ",
        Severity.Warning => "[yellow]WARNING[/] ",
        _ => "[blue]INFO[/]    ",
    };
}
