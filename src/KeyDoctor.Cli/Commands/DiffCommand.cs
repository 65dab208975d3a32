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
        var all = new Option<bool>("--all") { Description = "Also list changes that do not matter for keys (added key files, added bindings)." };
        var json = CommonOptions.Json();
        var command = new Command("diff",
            "Compare two states of a server (before and after patching): key files, their ACLs and attributes, MachineGuid, certificates and key links, HTTP.sys and IIS bindings, applicationHost.config and MetaBase.xml. Exit 1 when something that matters changed.")
        {
            before, after, all, json,
        };
        command.SetAction(parse =>
        {
            using var old = MachineSource.Open(parse.GetValue(before)!);
            using var now = MachineSource.Open(parse.GetValue(after)!);
            var changes = MachineDiff.Compare(old, now);
            var shown = parse.GetValue(all) ? changes : changes.Where(c => c.Matters).ToList();
            if (parse.GetValue(json))
                context.WriteJson(new DiffDocument(old.Description, now.Description, shown), KeyDoctorJson.Default.DiffDocument);
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
        if (shown.Count == 0)
        {
            context.Console.WriteLine(changes.Count == 0 ? "No changes." : $"No changes that matter ({changes.Count} others; --all lists them).");
            return;
        }
        var table = new Table().AddColumns("Area", "Change", "What", "Before", "After");
        foreach (var change in shown)
            table.AddRow(Markup.Escape(change.Area), change.Matters ? $"[yellow]{Markup.Escape(change.Change)}[/]" : Markup.Escape(change.Change),
                Markup.Escape(change.Subject), Markup.Escape(change.Before ?? ""), Markup.Escape(change.After ?? ""));
        context.Console.Write(table);
    }
}
