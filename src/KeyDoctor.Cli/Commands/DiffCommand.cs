using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Diff;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor diff <before> <after>`: what changed between two snapshots, bundles or images.</summary>
public static class DiffCommand
{
    public static Command Create(CliContext context)
    {
        var before = new Argument<string>("before") { Description = "The earlier state: a snapshot or bundle (.zip), or an image folder." };
        var after = new Argument<string>("after") { Description = "The later state, of the same kinds." };
        var all = new Option<bool>("--all") { Description = "Every change is listed by default; kept so older scripts still run.", Hidden = true };
        var mattersOnly = new Option<bool>("--matters-only")
        {
            Description = "Text: list only the changes marked 'matters' (the text says how many others it left out). --json always has every change.",
        };
        var json = CommonOptions.Json();
        var command = new Command("diff",
            "Compare two states of a server (before and after patching): key files, their ACLs and attributes, MachineGuid, certificates and key links, HTTP.sys and IIS bindings, applicationHost.config and MetaBase.xml. Exit 1 when something that matters changed.")
        {
            before, after, all, mattersOnly, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            using var old = MachineSource.Open(parse.GetValue(before)!);
            using var now = MachineSource.Open(parse.GetValue(after)!);
            var changes = MachineDiff.Compare(old, now);
            var shown = parse.GetValue(mattersOnly) ? changes.Where(c => c.Matters).ToList() : changes;
            if (parse.GetValue(json))
                context.WriteJson(new DiffDocument(old.Description, now.Description, changes,
                    changes.Count(c => c.Matters), changes.Count(c => !c.Matters)), KeyDoctorJson.Default.DiffDocument);
            else
                Print(context, old, now, changes, shown);
            return changes.Any(c => c.Matters) ? ExitCodes.Findings : ExitCodes.Healthy;
        });
        return command;
    }

    private static void Print(CliContext context, IMachineSource old, IMachineSource now,
                              IReadOnlyList<MachineChange> changes, IReadOnlyList<MachineChange> shown)
    {
        context.Console.MarkupLine($"[bold]{Markup.Escape(old.Description)}[/] → [bold]{Markup.Escape(now.Description)}[/]");
        var matters = changes.Count(c => c.Matters);
        if (changes.Count == 0)
        {
            context.Console.WriteLine("No changes.");
            return;
        }
        // One line per change (paths and thumbprints are never split across table cells), those that matter first.
        foreach (var change in shown)
        {
            var mark = change.Matters ? "[yellow]matters[/]" : "[grey]noise  [/]";
            var values = (change.Before, change.After) switch
            {
                (null, null) => "",
                (null, { } a) => $": now {a}",
                ({ } b, null) => $": was {b}",
                ({ } b, { } a) => $": {b} → {a}",
            };
            context.Console.MarkupLine($"{mark} {Markup.Escape(change.Area)} [bold]{Markup.Escape(change.Change)}[/] {Markup.Escape(change.Subject)}{Markup.Escape(values)}");
        }
        context.Console.MarkupLine($"{changes.Count} change(s): {matters} that matter for keys, certificates or bindings (listed first), {changes.Count - matters} noise.");
        var left = changes.Count - shown.Count;
        if (left > 0)
            context.Console.MarkupLine($"[bold]{left} change(s) marked noise are not listed here[/] (--matters-only); run without --matters-only, or with --json, to see them.");
    }
}
