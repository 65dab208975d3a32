using System.CommandLine;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor repair plan`: the ordered, reversible steps that fix a scan's findings.</summary>
public static class RepairCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("repair", "Plan the fix for what 'scan' found: backup, change, check and rollback for each finding, in dependency order.");
        var input = new Argument<string>("source") { Description = "An image folder or a bundle (.zip) to scan and plan for." };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the plan as a PowerShell script (dry run unless run with -Apply)." };
        var json = CommonOptions.Json();
        var plan = new Command("plan", "Scan, then write the repair plan: nothing is changed.") { input, output, json };
        plan.SetAction(parse =>
        {
            var path = parse.GetValue(input)!;
            using var source = MachineSource.Open(path);
            var result = RepairPlanner.Plan(Scanner.Scan(source));
            if (parse.GetValue(output) is { } file)
            {
                if (file.Exists) throw new UserInputException($"{file.FullName} exists; choose another --output");
                File.WriteAllText(file.FullName, result.ToPowerShell(source.Description));
            }
            if (parse.GetValue(json))
                context.WriteJson(new
                {
                    steps = result.Steps,
                    needsDecision = result.NeedsDecision.Select(f => new { id = f.Id, subject = f.Subject, decision = f.Fix?.Summary, risk = f.Fix?.Risk }),
                    needsReboot = result.NeedsReboot,
                    needsIisRestart = result.NeedsIisRestart,
                });
            else Print(context.Console, result, parse.GetValue(output));
            return result.IsEmpty ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        command.Subcommands.Add(plan);
        return command;
    }

    private static void Print(IAnsiConsole console, RepairPlan plan, FileInfo? written)
    {
        if (plan.IsEmpty)
        {
            console.WriteLine("Nothing to repair.");
            return;
        }
        foreach (var step in plan.Steps)
        {
            console.MarkupLine($"[bold]{step.Order}.[/] [blue]{step.Kind}[/] {Markup.Escape(step.FindingId)} {Markup.Escape(step.Title)}");
            foreach (var line in step.PowerShell.Split('\n')) console.MarkupLine($"    [grey]PS>[/] {Markup.Escape(line)}");
            if (step.Risk is { } risk) console.MarkupLine($"    [yellow]risk:[/] {Markup.Escape(risk)}");
        }
        foreach (var finding in plan.NeedsDecision)
            console.MarkupLine($"[yellow]Needs a decision[/] {Markup.Escape(finding.Id)} {Markup.Escape(finding.Subject)}: {Markup.Escape(finding.Fix?.Summary ?? finding.Message)}");
        if (plan.NeedsReboot) console.WriteLine("A reboot follows these changes.");
        else if (plan.NeedsIisRestart) console.WriteLine("IIS is restarted after these changes (iisreset).");
        if (written is not null) console.MarkupLine($"Plan written to [bold]{Markup.Escape(written.FullName)}[/] (dry run unless run with -Apply).");
    }
}
