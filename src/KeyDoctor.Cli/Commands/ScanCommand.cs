using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Scan;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor scan`: read a server image or bundle once, run every check, report findings worst first.</summary>
public static class ScanCommand
{
    public static Command Create(CliContext context)
    {
        var input = new Argument<string?>("source")
        {
            Description = "An image folder (a mounted or copied system drive) or a bundle from 'keydoctor collect' (.zip); left out on Windows: this server (elevated).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = CommonOptions.Json();
        var html = (new Option<FileInfo?>("--html")
        {
            Description = "Also write the report as one self-contained HTML file (findings, fixes with copy buttons, SSL chains, certificates, key store).",
        }).InExistingFolder();
        var traces = new Option<string[]>("--trace")
        {
            Description = "A Process Monitor capture of this server (.PML, or Procmon's CSV or XML export); repeatable. Adds what it proves: a key looked up under a new MachineGuid (KD6001), access denied on a key file (KD6002), a key file deleted by a process (KD6003). Captures in the bundle's traces folder are read too.",
            Arity = ArgumentArity.OneOrMore,
        };
        var shell = RepairCommand.ShellOption();
        var store = new Option<string?>("--store")
        {
            Description = "Also record the scan (node, time, findings, and the facts 'farm --store' compares) in a scan store: a SQLite file, or a PostgreSQL connection string (postgres://… or Host=…).",
        };
        var details = new Option<bool>("--details")
        {
            Description = "Also print the evidence and fix of every finding that another one explains (shown under its cause with its message only).",
        };
        var command = new Command("scan",
            "Diagnose a server: MachineGuid, key files, the IIS 6 container, certificates and their keys, HTTP.sys and IIS bindings, protected configuration, and the event logs that tell the story. Exit 1 when something is found.")
        {
            input, json, html, traces, shell, store, details,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var captures = parse.GetValue(traces) ?? [];
            foreach (var capture in captures)
                if (!File.Exists(capture))
                    throw new UserInputException($"no such capture: {capture}; give --trace a Process Monitor capture (.PML, or its CSV or XML export) that exists");
            using var source = LiveMachine.OpenSourceOrLive(parse.GetValue(input), "scan");
            ScanResult result;
            if (context.Interactive)
                result = context.ErrorConsole.Status().Start("Reading", status =>
                    Scanner.Scan(source, step => status.Status($"Reading {step}"), captures));
            else
                result = Scanner.Scan(source, traces: captures);

            if (parse.GetValue(html) is { } report)
                File.WriteAllText(report.FullName, KeyDoctor.Diagnosis.Reports.HtmlReport.Render(result, KeyDoctorApp.Version));
            if (parse.GetValue(store) is { } target)
            {
                var (recorded, description) = KeyDoctor.Store.ScanStore.RecordScan(target, result,
                    parse.GetValue(input) ?? "live:" + (result.State.ComputerName ?? Environment.MachineName), KeyDoctorApp.Version);
                context.Error.WriteLine($"recorded the scan of {recorded.Node} in {description} ({recorded.ScansOfNode} scan(s) of this node)");
            }
            if (parse.GetValue(json)) context.WriteJson(ScanDocument.From(result), KeyDoctorJson.Default.ScanDocument);
            else Print(context.Console, context.Output, result, parse.GetValue(shell), parse.GetValue(details), parse.GetValue(input));
            return result.Findings.Any(f => f.Severity > Severity.Info) ? ExitCodes.Findings : ExitCodes.Healthy;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, TextWriter raw, ScanResult result, Shell shell, bool details, string? source)
    {
        var state = result.State;
        console.MarkupLine($"[bold]KeyDoctor scan[/] of {Markup.Escape(state.Source.Description)}");
        console.MarkupLine($"MachineGuid {Markup.Escape(state.MachineGuid ?? "(unknown)")} · {state.KeyFileCount:N0} key files · " +
                           $"{state.Certificates.Count} machine certificates · {state.HttpSysBindings.Count} HTTP.sys SSL bindings · " +
                           $"{state.ApplicationHost?.Sites.Count ?? 0} IIS sites{(state.Metabase is null ? "" : " · IIS 6 metabase")} · {state.Events.Count} relevant events" +
                           (state.Traces.Count == 0 ? "" : $" · {state.Traces.Count} Process Monitor capture(s), {state.Traces.Sum(t => t.Story.EventsRead):N0} events"));
        console.WriteLine();
        if (result.Findings.Count == 0)
        {
            console.MarkupLine("[green]No findings: the key store, certificates and bindings look healthy.[/]");
            return;
        }
        console.MarkupLine("[grey]Root causes first, the most far-reaching first; what each one explains is indented under it (\"because of KDxxxx\").[/]");
        console.WriteLine();
        var forest = FindingOutput.PrintGrouped(console, raw, result.Findings, shell, details);
        FindingOutput.PrintSummary(console, result.Findings, forest, details);
        if (forest.Any(n => n.Finding.Severity > Severity.Info))
        {
            var target = source is null ? "" : " " + (source.Any(char.IsWhiteSpace) ? $"'{source}'" : source);
            var accept = forest.Any(n => n.Finding.Id == FindingCatalog.MachineGuidChanged.Id)
                ? " (--accept KD1001 takes the recommended MachineGuid choice instead of listing it as a decision)" : "";
            console.MarkupLine(Markup.Escape($"What to run: the fix under each root cause, in that order; or 'keydoctor repair plan{target}' for them as ordered, reversible steps{accept}."));
        }
    }
}
