using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Farm;
using KeyDoctor.Diagnosis.Reports;
using KeyDoctor.Store;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor farm`: compare the nodes of an IIS farm (one image or bundle each, or the latest scans in a store).</summary>
public static class FarmCommand
{
    public static Command Create(CliContext context)
    {
        var sources = new Argument<string[]>("source")
        {
            Description = "One image folder or bundle from 'keydoctor collect' per node (two or more); they name the nodes in the output.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var store = new Option<string?>("--store")
        {
            Description = "Compare the latest scan of every node recorded in this store instead ('keydoctor scan <source> --store …'): a SQLite file, or a PostgreSQL connection string (postgres://… or Host=…).",
        };
        var json = CommonOptions.Json();
        var shell = RepairCommand.ShellOption();
        var html = (new Option<FileInfo?>("--html")
        {
            Description = "Also write the farm as one self-contained HTML file: nodes as columns, keys, certificates, bindings and providers as rows, differences marked.",
        }).InExistingFolder();
        var command = new Command("farm",
            "Compare the servers of an IIS farm: shared MachineGuids (clones without sysprep), the configuration keys iisConfigurationKey/iisWasKey, the certificates HTTPS bindings use, and shared-configuration drift; plus every node's own scan. Exit 1 when anything is found.")
        {
            sources, store, json, html, shell,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var given = parse.GetValue(sources) ?? [];
            var target = parse.GetValue(store);
            if (target is not null && given.Length > 0)
                throw new UserInputException("give the nodes' sources or --store, not both");
            if (target is null && given.Length < 2)
                throw new UserInputException("a farm needs two or more sources (one image folder or bundle per node), or --store with recorded scans");
            if (given.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new UserInputException($"{twice.Key} is given twice: give each node's image folder or bundle once");

            FarmReport report;
            if (target is not null) report = ScanStore.CompareLatest(target);
            else if (context.Interactive)
                report = context.ErrorConsole.Status().Start("Scanning nodes", status =>
                {
                    var done = 0;
                    return FarmScanner.Scan(given, source => status.Status($"Scanned {Interlocked.Increment(ref done)} of {given.Length} nodes ({source})"));
                });
            else report = FarmScanner.Scan(given);

            if (parse.GetValue(html) is { } file)
                File.WriteAllText(file.FullName, FarmHtmlReport.Render(report, KeyDoctorApp.Version));
            if (parse.GetValue(json)) context.WriteJson(FarmDocument.From(report), KeyDoctorJson.Default.FarmDocument);
            else Print(context.Console, context.Output, report, parse.GetValue(shell));
            return report.HasFindings ? ExitCodes.Findings : ExitCodes.Healthy;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, TextWriter raw, FarmReport report, Shell shell)
    {
        console.MarkupLine($"[bold]KeyDoctor farm[/] of {report.Nodes.Count} nodes");
        var table = new Table().AddColumns("Node", "Source", "MachineGuid", "Key files", "Certificates", "Bindings", "Findings");
        foreach (var node in report.Nodes)
        {
            var worst = node.Findings.Where(f => f.Severity > Severity.Info).ToList();
            table.AddRow(Markup.Escape(node.ComputerName ?? "(unknown)"), Markup.Escape(node.Source), Markup.Escape(node.MachineGuid ?? "(unknown)"),
                node.KeyFileCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                node.RegistryRead ? node.Certificates.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "not read",
                node.RegistryRead ? node.Bindings.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "not read",
                worst.Count == 0 ? "[green]none[/]" : Markup.Escape(string.Join(", ", worst.Select(f => f.Id).Distinct())));
        }
        console.Write(table);
        console.WriteLine();
        foreach (var farmFinding in report.Findings)
        {
            FindingOutput.Print(console, raw, farmFinding.Finding, shell,
                "nodes: " + string.Join(", ", farmFinding.Nodes.Select(s => report.Nodes.First(n => n.Source == s).Label)));
        }
        foreach (var node in report.Nodes)
            foreach (var finding in node.Findings.Where(f => f.Severity > Severity.Info))
                console.MarkupLine($"{FindingOutput.Badge(finding.Severity)} [bold]{finding.Id}[/] on {Markup.Escape(node.Label)}: {Markup.Escape(finding.Message)}");
        var nodeFindings = report.Nodes.Sum(n => n.Findings.Count(f => f.Severity > Severity.Info));
        if (nodeFindings > 0)
        {
            console.MarkupLine($"  [grey]each node's evidence and fixes: keydoctor scan <source>, or farm --json[/]");
            console.WriteLine();
        }
        console.MarkupLine(!report.HasFindings
            ? "[green]The farm is consistent and every node looks healthy.[/]"
            : $"[bold]{report.Findings.Count} farm finding(s)[/], {nodeFindings} node finding(s) above info");
    }
}
