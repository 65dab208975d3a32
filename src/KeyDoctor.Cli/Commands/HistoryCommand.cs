using System.CommandLine;
using System.Globalization;
using KeyDoctor.Cli.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Store;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor history --store`: how each node's findings changed from one recorded scan to the next.</summary>
public static class HistoryCommand
{
    public static Command Create(CliContext context)
    {
        var store = new Option<string>("--store")
        {
            Description = "The scan store: a SQLite file, or a PostgreSQL connection string (postgres://… or Host=…).",
            Required = true,
        };
        var node = new Option<string?>("--node")
        {
            Description = "Only this node (its computer name, or the source it was scanned from when the name was unknown).",
        };
        var json = CommonOptions.Json();
        var command = new Command("history",
            "Show how the findings of each node recorded with 'scan --store' changed over time: every scan, oldest first, with the findings that appeared and the ones resolved since the scan before.")
        {
            store, node, json,
        };
        command.SetAction(parse =>
        {
            var (description, nodes) = ScanStore.ReadHistory(parse.GetValue(store)!, parse.GetValue(node));
            if (parse.GetValue(json)) context.WriteJson(new HistoryDocument(description, nodes), KeyDoctorJson.Default.HistoryDocument);
            else Print(context.Console, description, nodes);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, string store, IReadOnlyList<NodeHistory> nodes)
    {
        console.MarkupLine($"[bold]History[/] in {Markup.Escape(store)}: {nodes.Count} node(s), {nodes.Sum(n => n.Scans.Count)} scan(s)");
        foreach (var node in nodes)
        {
            console.WriteLine();
            console.MarkupLine($"[bold]{Markup.Escape(node.Node)}[/]");
            foreach (var scan in node.Scans)
            {
                var counts = string.Join(", ", Enum.GetValues<Severity>().Reverse()
                    .Select(s => (s, n: scan.Findings.Count(f => f.Severity == s))).Where(c => c.n > 0)
                    .Select(c => $"{c.n} {c.s.ToString().ToLowerInvariant()}"));
                console.MarkupLine($"  {scan.ScannedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}  " +
                                   $"{Markup.Escape(scan.Source)}  {(scan.Findings.Count == 0 ? "[green]no findings[/]" : Markup.Escape(counts))}");
                foreach (var added in scan.Added)
                    console.MarkupLine($"    [red]+[/] {added.Id} {Markup.Escape(added.Subject)}: {Markup.Escape(added.Message)}");
                foreach (var resolved in scan.Resolved)
                    console.MarkupLine($"    [green]-[/] {resolved.Id} {Markup.Escape(resolved.Subject)} (resolved)");
            }
        }
    }
}
