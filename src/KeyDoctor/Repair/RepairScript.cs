using System.Text;
using KeyDoctor.Diagnosis.Commands;

namespace KeyDoctor.Repair;

/// <summary>
/// A plan as a script a person runs on the server, in PowerShell or cmd, rendered from the same commands. A dry run
/// by default. For each finding: its backup (a failure stops the script, nothing of that finding changed), then its
/// change and check, each command followed by its result check, so nothing runs after a failure; when one of those
/// fails, that finding's rollback runs and the script stops (findings before it stay fixed: they passed their
/// checks). The plan's JSON rides along at the end (after the script's last line) so <c>repair apply</c> reads it.
/// </summary>
public static class RepairScript
{
    public static string PowerShell(RepairPlan plan)
    {
        var shell = new ShellRenderer(Shell.PowerShell, plan.Inputs);
        var script = new StringBuilder();
        void Line(string text = "") => script.Append(text).Append('\n');
        foreach (var text in Header(plan)) Line(shell.Comment(text));
        Line($"param([switch]$Apply, [string]$Snapshot = '{(plan.Snapshot ?? "").Replace("'", "''", StringComparison.Ordinal)}', [string]$RunId = (Get-Date -Format 'yyyyMMdd-HHmmss'), [string]$BackupRoot = '')");
        Line("$ErrorActionPreference = 'Stop'");
        Line("if (-not $BackupRoot) { $BackupRoot = Join-Path $env:SystemDrive \"kd\\backup\\$RunId\" }");
        if (plan.UnfilledInputs.Count > 0)
            Line($"if ($Apply) {{ throw \"{PsText(UnfilledMessage(plan))}\" }}");
        Line();
        foreach (var group in RepairPlan.GroupByFinding(plan.Steps))
        {
            var label = PsText(GroupLabel(group));
            foreach (var text in GroupComments(group)) Line(shell.Comment(text));
            var work = group.Where(s => s.Kind is RepairStepKind.Change or RepairStepKind.Verify).ToList();
            var rollbacks = group.Where(s => s.Kind == RepairStepKind.Rollback).ToList();
            Line("if ($Apply) {");
            foreach (var step in group.Where(s => s.Kind == RepairStepKind.Backup)) Commands(step, "    ");
            if (rollbacks.Count > 0) Line("    try {");
            foreach (var step in work) Commands(step, rollbacks.Count > 0 ? "        " : "    ");
            if (rollbacks.Count > 0)
            {
                Line("    } catch {");
                Line($"        Write-Warning \"{label}: $($_.Exception.Message); putting back what its steps changed\"");
                foreach (var step in rollbacks)
                {
                    Line($"        # Step {step.Order}: {step.Title}");
                    foreach (var command in step.Commands.Where(c => c.RunFirstAs is null))
                    {
                        Line("        " + shell.Line(command));
                        Line($"        if ($LASTEXITCODE -gt {command.MaxExitCode}) {{ Write-Warning \"step {step.Order} ({PsText(command.ProgramName)}) failed: exit code $LASTEXITCODE; put it back by hand\" }}");
                    }
                }
                Line("        throw");
                Line("    }");
            }
            Line($"}} else {{ Write-Host \"dry run: {label} not applied\" }}");
            Line();
        }
        foreach (var line in Ending(plan))
            Line(line.IsCommand ? $"if ($Apply) {{ {shell.Line(line.Command!)}; if ($LASTEXITCODE -ne 0) {{ throw \"{PsText(line.Command!.ProgramName)} failed: exit code $LASTEXITCODE\" }} }}" : shell.Comment(line.Text!));
        if (plan.Steps.Count > 0)
            Line($"if ($Apply) {{ Write-Host \"{PsText(BackupNote).Replace("{0}", "$BackupRoot", StringComparison.Ordinal)}\" }}");
        foreach (var text in DecisionComments(plan, shell)) Line(text);
        AppendPlan(script, plan);
        return script.ToString();

        void Commands(RepairStep step, string indent)
        {
            Line($"{indent}# Step {step.Order} ({step.Kind.ToString().ToLowerInvariant()}): {step.Title}");
            foreach (var command in step.Commands)
            {
                if (command.RunFirstAs is { } who)
                {
                    Line($"{indent}# Done before this plan runs, {who}: {shell.Line(command)}");
                    continue;
                }
                Line(indent + shell.Line(command));
                Line(indent + shell.Check(command, $"step {step.Order} ({command.ProgramName}) failed", ""));
            }
        }
    }

    public static string Cmd(RepairPlan plan)
    {
        var shell = new ShellRenderer(Shell.Cmd, plan.Inputs);
        var script = new StringBuilder();
        void Line(string text = "") => script.Append(text).Append("\r\n");
        Line("@echo off");
        foreach (var text in Header(plan)) Line(shell.Comment(text));
        // cmd reads a script in the console's code page: say UTF-8 when a name needs it.
        if (plan.ToJson().Any(c => c > 0x7E)) Line("chcp 65001 >nul");
        Line("setlocal EnableExtensions DisableDelayedExpansion");
        Line($"set \"SNAPSHOT={plan.Snapshot?.Replace("%", "%%", StringComparison.Ordinal)}\"");
        Line("if /i \"%~1\"==\"apply\" goto :apply");
        foreach (var group in RepairPlan.GroupByFinding(plan.Steps))
            Line($"echo dry run: {ShellRenderer.CmdEscapeText(GroupLabel(group))} not applied");
        Line("echo Run it again with the argument apply ^(and a run id, if you like^) from an elevated prompt to make the changes.");
        Line("exit /b 0");
        Line();
        Line(":apply");
        if (plan.UnfilledInputs.Count > 0)
        {
            Line($"echo {ShellRenderer.CmdEscapeText(UnfilledMessage(plan))} 1>&2");
            Line("exit /b 2");
        }
        Line("set \"RUNID=%~2\"");
        // The default run id is the date and time, with the characters a locale puts in them made file-name safe.
        Line("if not defined RUNID set \"RUNID=%DATE%-%TIME%\"");
        Line("set \"RUNID=%RUNID:/=-%\"");
        Line("set \"RUNID=%RUNID::=-%\"");
        Line("set \"RUNID=%RUNID:.=-%\"");
        Line("set \"RUNID=%RUNID:,=-%\"");
        Line("set \"RUNID=%RUNID: =_%\"");
        Line("if not defined BACKUPROOT set \"BACKUPROOT=%SystemDrive%\\kd\\backup\\%RUNID%\"");
        Line();
        foreach (var group in RepairPlan.GroupByFinding(plan.Steps))
        {
            var id = group[0].Order.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
            var label = ShellRenderer.CmdEscapeText(GroupLabel(group));
            foreach (var text in GroupComments(group)) Line(shell.Comment(text));
            var hasRollback = group.Any(s => s.Kind == RepairStepKind.Rollback);
            foreach (var step in group.Where(s => s.Kind == RepairStepKind.Backup)) Commands(step, $"stop{id}");
            foreach (var step in group.Where(s => s.Kind is RepairStepKind.Change or RepairStepKind.Verify)) Commands(step, hasRollback ? $"undo{id}" : $"stop{id}");
            Line($"goto :done{id}");
            Line($":stop{id}");
            Line($"echo {label}: a step failed; the script stops 1>&2");
            Line("exit /b 1");
            if (hasRollback)
            {
                Line($":undo{id}");
                Line($"echo {label}: a step failed; putting back what its steps changed 1>&2");
                foreach (var step in group.Where(s => s.Kind == RepairStepKind.Rollback))
                {
                    Line(shell.Comment($"Step {step.Order}: {step.Title}"));
                    foreach (var command in step.Commands.Where(c => c.RunFirstAs is null))
                    {
                        Line(shell.Line(command));
                        Line($"if errorlevel {command.MaxExitCode + 1} echo {ShellRenderer.CmdEscapeText($"step {step.Order} ({command.ProgramName}) failed; put it back by hand")} 1>&2");
                    }
                }
                Line("exit /b 1");
            }
            Line($":done{id}");
            Line();
        }
        foreach (var line in Ending(plan))
        {
            if (!line.IsCommand)
            {
                Line(shell.Comment(line.Text!));
                continue;
            }
            Line(shell.Line(line.Command!));
            Line($"if errorlevel {line.Command!.MaxExitCode + 1} exit /b 1");
        }
        if (plan.Steps.Count > 0) Line($"echo {ShellRenderer.CmdEscapeText(BackupNote).Replace("{0}", "%BACKUPROOT%", StringComparison.Ordinal)}");
        foreach (var text in DecisionComments(plan, shell)) Line(text);
        Line("exit /b 0");
        AppendPlan(script, plan);
        return script.ToString();

        void Commands(RepairStep step, string label)
        {
            Line(shell.Comment($"Step {step.Order} ({step.Kind.ToString().ToLowerInvariant()}): {step.Title}"));
            foreach (var command in step.Commands)
            {
                if (command.RunFirstAs is { } who)
                {
                    Line(shell.Comment($"Done before this plan runs, {who}: {shell.Line(command)}"));
                    continue;
                }
                Line(shell.Line(command));
                Line(shell.Check(command, "", label));
            }
        }
    }

    private const string BackupNote =
        "Backups of this run are in {0} (owner-only: they hold key files, and the snapshot holds every machine key). Delete the folder when you are satisfied with the repair.";

    private static IEnumerable<string> Header(RepairPlan plan)
    {
        yield return "KeyDoctor repair plan";
        yield return $"Made from a scan of {plan.Source ?? "a machine"}. Review every step before running it.";
        yield return "A dry run unless asked to apply. For each finding: its backup, its change, its check; each command's result is checked before the next runs.";
        yield return "When a change or check fails, that finding's rollback runs and the script stops. 'keydoctor repair apply' runs the same plan and rolls back the whole run.";
        yield return "keydoctor must be on PATH. Backups go to %SystemDrive%\\kd\\backup\\<run id> unless given another folder.";
        foreach (var input in plan.Inputs)
            yield return input.Value is null
                ? $"Input {input.Name}: {input.Placeholder} is not filled in: make the plan again with --input {input.Name}=VALUE."
                : $"Input {input.Name}: {input.Description} = {input.Value}";
        foreach (var skipped in plan.NotNeeded)
            yield return $"Not needed: {skipped.Id} {skipped.Subject}: {skipped.Reason}";
    }

    private static string UnfilledMessage(RepairPlan plan) =>
        $"This plan still has unfilled inputs ({string.Join(", ", plan.UnfilledInputs.Select(i => i.Name))}): make it again with --input NAME=VALUE for each.";

    private static string GroupLabel(List<RepairStep> group)
    {
        var first = group[0];
        var steps = group.Count > 1 ? $"steps {first.Order}-{group[^1].Order}" : $"step {first.Order}";
        return first.FindingId == RepairPlanner.WholeMachine ? $"snapshot ({steps})" : $"{first.FindingId} {first.Subject} ({steps})";
    }

    private static IEnumerable<string> GroupComments(List<RepairStep> group)
    {
        yield return $"=== {GroupLabel(group)}";
        foreach (var step in group)
        {
            if (step.Risk is { } risk) yield return $"Step {step.Order} risk: {risk}";
            if (step.Commands.Any(c => c.AsksForPassword && c.RunFirstAs is null))
                yield return $"Step {step.Order} asks for a password at the console: run the script where someone can answer.";
        }
    }

    private sealed record EndLine(string? Text, ShellCommand? Command)
    {
        public bool IsCommand => Command is not null;
    }

    private static IEnumerable<EndLine> Ending(RepairPlan plan)
    {
        if (plan.NeedsReboot) yield return new EndLine("A reboot is needed for these changes to reach every service; this script does not reboot.", null);
        else if (plan.NeedsIisRestart)
        {
            yield return new EndLine("iisreset restarts IIS (IISADMIN, WAS, W3SVC): every site is down for a few seconds.", null);
            yield return new EndLine(null, ShellCommand.Run("iisreset"));
        }
    }

    private static IEnumerable<string> DecisionComments(RepairPlan plan, ShellRenderer shell)
    {
        foreach (var decision in plan.NeedsDecision)
        {
            yield return shell.Comment($"--- Needs a decision: {decision.Id} {decision.Subject}");
            yield return shell.Comment(decision.Decision);
            if (decision.Risk is { } risk) yield return shell.Comment($"Risk: {risk}");
            var rendered = new ShellRenderer(shell.Shell, decision.Inputs);
            foreach (var command in decision.Commands) yield return shell.Comment("  " + rendered.Line(command));
        }
    }

    // The plan itself, for 'keydoctor repair apply'. '#' occurs only inside JSON strings, where "\u003E" is the same
    // '>', so escaping every "#>" keeps PowerShell's comment from ending early and the JSON unchanged. In cmd the block
    // follows the last 'exit /b' and is never read as commands.
    private static void AppendPlan(StringBuilder script, RepairPlan plan)
    {
        var newline = script.ToString().Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        script.Append(newline).Append("<#").Append(RepairPlan.ScriptMarker).Append(newline)
              .Append(plan.ToJson().Replace("#>", "#\\u003E", StringComparison.Ordinal).ReplaceLineEndings(newline)).Append(newline)
              .Append(RepairPlan.ScriptMarker).Append("#>").Append(newline);
    }

    private static string PsText(string text) =>
        text.Replace("`", "``", StringComparison.Ordinal).Replace("$", "`$", StringComparison.Ordinal).Replace("\"", "'", StringComparison.Ordinal);
}
