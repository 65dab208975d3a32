using System.CommandLine;
using System.Text.Json;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Collection;
using KeyDoctor.Repair;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor repair plan|apply|rollback` and the step verbs: the ordered, reversible steps that fix a scan's findings, and running them.</summary>
public static class RepairCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("repair",
            "Fix what 'scan' found: plan the steps (backup, change, check, rollback for each finding, in dependency order), apply them with a transcript, roll them back.\n\n" +
            "Typical use:\n" +
            "  keydoctor repair plan web01.zip --snapshot before.zip -o plan.ps1   read the plan; nothing changes\n" +
            "  keydoctor repair plan web01.zip --shell cmd -o plan.cmd             the same plan as a cmd script\n" +
            "  keydoctor repair apply plan.ps1 --input pfx-C2226...=C:\\certs\\api.pfx   on the server, elevated\n" +
            "  keydoctor repair apply plan.ps1 --image /mnt/web01                  on its disk, from another machine\n" +
            "  keydoctor repair rollback keydoctor-repair-<time> [--image /mnt/web01]");
        command.Subcommands.Add(CreatePlan(context));
        command.Subcommands.Add(CreateApply(context));
        command.Subcommands.Add(CreateRollback(context));
        foreach (var step in RepairStepCommands.Create(context)) command.Subcommands.Add(step);
        command.Options.Add(context.MaxBundleSize); // plans, snapshots and checks read bundles
        return command;
    }

    private static Option<string?> SnapshotOption(string description) => new("--snapshot") { Description = description };

    private static Option<string[]> InputOption(string description) => new("--input")
    {
        Description = description,
        AllowMultipleArgumentsPerToken = true,
        HelpName = "NAME=VALUE",
    };

    internal static Option<Shell> ShellOption() => new("--shell")
    {
        Description = "How commands are shown: powershell (default) or cmd. Both run the same programs with the same arguments.",
        DefaultValueFactory = _ => Shell.PowerShell,
        CustomParser = result => result.Tokens.Count == 0 ? Shell.PowerShell
            : result.Tokens[0].Value.ToLowerInvariant() switch
            {
                "powershell" or "ps" or "ps1" => Shell.PowerShell,
                "cmd" or "bat" => Shell.Cmd,
                var other => Fail(result, $"--shell {other}: say powershell or cmd"),
            },
    };

    private static Shell Fail(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return Shell.PowerShell;
    }

    /// <summary>--input NAME=VALUE pairs; a value never on a command line twice, never empty.</summary>
    private static Dictionary<string, string> Inputs(string[]? values)
    {
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            var equals = value.IndexOf('=');
            if (equals <= 0 || equals == value.Length - 1) throw new UserInputException($"--input {value}: write NAME=VALUE (e.g. pfx-C22260C5...=C:\\certs\\api.pfx)");
            if (!inputs.TryAdd(value[..equals], value[(equals + 1)..])) throw new UserInputException($"--input {value[..equals]} is given twice");
        }
        return inputs;
    }

    private static RepairPlan Fill(RepairPlan plan, Dictionary<string, string> inputs)
    {
        try
        {
            return plan.WithInputs(inputs);
        }
        catch (ArgumentException ex)
        {
            throw new UserInputException(ex.Message);
        }
    }

    private static Command CreatePlan(CliContext context)
    {
        var input = new Argument<string?>("source")
        {
            Description = "An image folder or a bundle (.zip) to scan and plan for; left out on Windows: this server.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var output = (new Option<FileInfo?>("--output", "-o")
        {
            Description = "Write the plan: .json, a PowerShell script (.ps1: dry run unless run with -Apply) or a cmd script (.cmd: dry run unless its first argument is apply); 'repair apply' reads each.",
        }).InExistingFolder();
        var snapshot = SnapshotOption("A snapshot or bundle taken before the damage (keydoctor snapshot): key files intact in it are restored from it.");
        var accept = new Option<string[]>("--accept")
        {
            Description = "Take the recommended choice of a decision and plan it as steps: KD1001 puts the original MachineGuid back (keys made since the change that something uses are copied to its name first).",
            AllowMultipleArgumentsPerToken = true,
        };
        var inputs = InputOption("Fill a required input of the plan (a PFX or key set a person brings), e.g. --input pfx-C22260C5...=C:\\certs\\api.pfx; the plan lists its inputs.");
        var shell = ShellOption();
        var json = CommonOptions.Json();
        var plan = new Command("plan", "Scan, then write the repair plan: nothing is changed.") { input, output, snapshot, accept, inputs, shell, json };
        plan.SetAction(parse =>
        {
            var path = parse.GetValue(input);
            var snapshotPath = parse.GetValue(snapshot);
            var accepted = (parse.GetValue(accept) ?? []).Select(id => id.Trim().ToUpperInvariant()).ToHashSet();
            if (accepted.FirstOrDefault(id => !RepairPlanner.Acceptable.Contains(id)) is { } unknown)
                throw new UserInputException($"--accept {unknown}: only {string.Join(", ", RepairPlanner.Acceptable)} has a recommended choice; the other decisions need a person");
            var file = parse.GetValue(output);
            if (file is { Exists: true }) throw new UserInputException($"{file.FullName} exists; choose another --output");
            using var source = LiveMachine.OpenSourceOrLive(path, "repair plan", includeEventLogs: false);
            using var snapshotSource = snapshotPath is null ? null : MachineSource.Open(snapshotPath);
            RepairPlan result;
            try
            {
                result = RepairPlanner.Plan(Scanner.Scan(source), new RepairPlanOptions
                {
                    Snapshot = snapshotSource,
                    SnapshotPath = snapshotPath is null ? null : Path.GetFullPath(snapshotPath),
                    Accepted = accepted,
                    Inputs = Inputs(parse.GetValue(inputs)),
                });
            }
            catch (ArgumentException ex)
            {
                throw new UserInputException(ex.Message);
            }
            var textShell = parse.GetValue(shell);
            if (file is not null)
            {
                var kind = ScriptKind(file, parse.GetResult(shell) is null ? null : textShell);
                var text = kind switch { "json" => result.ToJson(), "cmd" => result.ToCmd(), _ => result.ToPowerShell() };
                // Windows PowerShell 5.1 reads a script without a byte-order mark in the ANSI code page.
                File.WriteAllText(file.FullName, text, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: kind == "ps1"));
            }
            if (parse.GetValue(json)) context.Output.WriteLine(result.ToJson());
            else PrintPlan(context.Console, context.Output, result, file, textShell);
            return result.IsEmpty ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return plan;
    }

    /// <summary>json, cmd or ps1, by the output's extension (or --shell when the extension says nothing).</summary>
    private static string ScriptKind(FileInfo file, Shell? shell) => file.Extension.ToLowerInvariant() switch
    {
        ".json" => "json",
        ".cmd" or ".bat" => "cmd",
        ".ps1" => "ps1",
        _ => shell == Shell.Cmd ? "cmd" : "ps1",
    };

    private static Command CreateApply(CliContext context)
    {
        var planFile = new Argument<FileInfo>("plan") { Description = "A plan from 'keydoctor repair plan -o' (.ps1, .cmd or .json)." };
        var image = new Option<DirectoryInfo?>("--image")
        {
            Description = "Apply to an image folder (a mounted system drive) instead of this server: file-level steps are made, registry changes are written as .reg files, the rest is refused.",
        };
        var snapshot = SnapshotOption("Where the plan's snapshot is now, if it moved since the plan was made.");
        var runFolder = new Option<DirectoryInfo?>("--run-folder")
        {
            Description = "Folder for the backups, transcript, journal and .reg files of this run (default: keydoctor-repair-<time> here). Keep it: 'repair rollback' needs it.",
        };
        var inputs = InputOption("Fill a required input the plan still has (NAME=VALUE); apply refuses while one is unfilled.");
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask before changing anything (for scripts)." };
        var json = CommonOptions.Json();
        var apply = new Command("apply",
            "Carry out a plan: for each finding still there, back up, change, check; at the first failed check, roll back what this run did and stop.")
        {
            planFile, image, snapshot, runFolder, inputs, yes, json,
        };
        apply.SetAction(parse =>
        {
            var file = parse.GetValue(planFile)!;
            if (!file.Exists) throw new UserInputException($"there is no plan {file.FullName}: give the file 'keydoctor repair plan -o' wrote (.json, .ps1 or .cmd).");
            if (file.Length > RepairPlan.MaxPlanBytes) throw new UserInputException($"{file.FullName} is too large to be a plan");
            var plan = Fill(RepairPlan.Parse(File.ReadAllText(file.FullName)), Inputs(parse.GetValue(inputs)));
            var snapshotPath = parse.GetValue(snapshot) ?? plan.Snapshot;
            if (snapshotPath is not null && !File.Exists(snapshotPath) && !Directory.Exists(snapshotPath))
                throw new UserInputException($"the plan's snapshot {snapshotPath} is not there; give --snapshot with where it is now");
            var target = CreateTarget(context, parse.GetValue(image), snapshotPath, plan.Inputs, canAsk: context.Interactive && !Console.IsInputRedirected);
            // Every placeholder filled, every file there, before anything (the run folder included) is written.
            if (RepairRunner.InputProblems(plan, target, File.Exists) is { Count: > 0 } problems)
                throw new UserInputException($"the plan cannot run yet: {string.Join("; ", problems)}");

            try
            {
                RepairRunner.EnsureSameMachine(plan, target); // before anything, the run folder included, is written
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
            var changes = plan.Steps.Count(s => s.Kind == RepairStepKind.Change);
            if (changes == 0)
            {
                Report(context, parse.GetValue(json), new RepairResult([], ""), plan);
                return plan.NeedsDecision.Count == 0 ? ExitCodes.Healthy : ExitCodes.Findings;
            }
            if (!parse.GetValue(yes) && !Confirm(context, plan, target))
            {
                context.Error.WriteLine("keydoctor: nothing was changed");
                return ExitCodes.Findings;
            }

            var folder = parse.GetValue(runFolder)?.FullName
                         ?? Path.GetFullPath($"keydoctor-repair-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            var run = RepairRun.Create(folder, target.Description, file.FullName);
            RepairResult result;
            try
            {
                run.WritePrivateFile("plan.json", System.Text.Encoding.UTF8.GetBytes(plan.ToJson()));
                result = RepairRunner.Apply(plan, target, run, context.Interactive && !parse.GetValue(json)
                    ? outcome => context.ErrorConsole.MarkupLine($"[grey]{outcome.Order}. {outcome.Kind} {Markup.Escape(outcome.FindingId)}: {outcome.Outcome}[/]")
                    : null);
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
            finally
            {
                run.Close();
            }
            Report(context, parse.GetValue(json), result, plan);
            var clean = !result.Failed && !result.LeftSomethingUndone && plan.NeedsDecision.Count == 0;
            return clean ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return apply;
    }

    private static Command CreateRollback(CliContext context)
    {
        var runFolder = new Argument<DirectoryInfo>("run-folder") { Description = "The folder 'repair apply' wrote (journal.json, backups)." };
        var image = new Option<DirectoryInfo?>("--image") { Description = "The image folder the run changed (on the live server, leave it out)." };
        var force = new Option<bool>("--force") { Description = "Put files back even if they changed again after the repair." };
        var json = CommonOptions.Json();
        var rollback = new Command("rollback", "Undo a repair run: put back every file it changed, byte for byte, from its backups (newest first).")
        {
            runFolder, image, force, json,
        };
        rollback.SetAction(parse =>
        {
            var folder = parse.GetValue(runFolder)!;
            if (!folder.Exists) throw new UserInputException($"there is no run folder {folder.FullName}: give the folder 'keydoctor repair apply' printed (keydoctor-repair-<time>).");
            var run = RepairRun.Open(folder.FullName);
            RollbackResult result;
            try
            {
                if (parse.GetValue(image) is { } imageFolder)
                    result = new ImageRepairTarget(imageFolder.FullName, null).Rollback(run, parse.GetValue(force));
                else
                {
                    if (!OperatingSystem.IsWindows())
                        throw new UserInputException("rolling back on the live server needs Windows; for an image folder give --image DIR");
                    var plan = RepairPlan.Parse(File.ReadAllText(Path.Combine(folder.FullName, "plan.json")));
                    result = RepairRunner.RollbackLive(plan, CreateTarget(context, null, plan.Snapshot, plan.Inputs, canAsk: context.Interactive), run);
                }
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
            finally
            {
                run.Close();
            }
            if (parse.GetValue(json))
                context.Output.WriteLine(JsonSerializer.Serialize(new RepairRollbackReport(folder.FullName, result.Restored, result.Problems), RepairJson.Context.RepairRollbackReport));
            else
            {
                foreach (var line in result.Restored) context.Console.MarkupLine($"[green]rolled back[/] {Markup.Escape(line)}");
                foreach (var problem in result.Problems) context.Console.MarkupLine($"[red]not rolled back[/] {Markup.Escape(problem)}");
                if (result.Restored.Count == 0 && result.Problems.Count == 0)
                    context.Console.WriteLine("Nothing to roll back: everything this run changed is already back.");
                if (run.Journal.RegistryFiles.Count > 0)
                    context.Console.MarkupLine($"The run also wrote .reg files for the server; if they were imported, import their -undo.reg too ({Markup.Escape(folder.FullName)}).");
            }
            return result.Problems.Count == 0 ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return rollback;
    }

    private static IRepairTarget CreateTarget(CliContext context, DirectoryInfo? image, string? snapshotPath,
                                              IReadOnlyList<RequiredInput> inputs, bool canAsk)
    {
        Func<IMachineSource>? openSnapshot = snapshotPath is null ? null : () => MachineSource.Open(snapshotPath);
        if (image is not null)
        {
            if (File.Exists(image.FullName))
                throw new UserInputException($"{image.FullName} is a file: --image is a folder laid out like the server's system drive (a mounted disk), never a bundle or snapshot");
            if (!image.Exists) throw new UserInputException($"no such image folder: {image.FullName}");
            try
            {
                return new ImageRepairTarget(image.FullName, openSnapshot, inputs);
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
        }
        if (!OperatingSystem.IsWindows())
            throw new UserInputException("'repair apply' changes the live Windows server it runs on; on this OS give --image DIR to apply the file-level steps to a mounted disk");
        var host = new WindowsCollectionHost();
        if (!host.IsElevated) throw new UserInputException("'repair apply' changes key files, the registry and IIS: run it from an elevated prompt (Run as administrator)");
        return new LiveRepairTarget(new WindowsCommandHost(), () => OperatingSystem.IsWindows() ? ScanLive(host) : throw new PlatformNotSupportedException(),
            new LiveTargetOptions { Snapshot = snapshotPath, Inputs = inputs, CanAsk = canAsk });
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static ScanResult ScanLive(WindowsCollectionHost host)
    {
        using var source = LiveMachine.Collect(host, includeEventLogs: false);
        return Scanner.Scan(source);
    }

    private static bool Confirm(CliContext context, RepairPlan plan, IRepairTarget target)
    {
        if (!context.Interactive || Console.IsInputRedirected)
            throw new UserInputException("'repair apply' asks before changing anything; with no terminal to ask on, give --yes");
        PrintPlan(context.ErrorConsole, context.Error, plan, null, Shell.PowerShell);
        var preview = RepairRunner.Preview(plan, target);
        var changes = preview.Count(p => p.Verdict is null);
        var refused = preview.Count(p => p.Verdict == StepOutcomeKind.Refused);
        if (changes == 0) return true; // nothing will change: the run only reports what is skipped or refused
        context.Error.Write($"Apply {changes} change(s) to {target.Description}{(refused > 0 ? $" ({refused} more cannot be made there)" : "")}? Each is backed up first. [y/N] ");
        var answer = Console.ReadLine()?.Trim();
        return answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    private static void Report(CliContext context, bool json, RepairResult result, RepairPlan plan)
    {
        var backupFolder = result.RunFolder.Length == 0 ? null : Path.Combine(result.RunFolder, "backup");
        if (json)
        {
            var report = new RepairApplyReport(result.RunFolder.Length == 0 ? null : result.RunFolder, result.Outcomes,
                !result.RolledBack && ChangesMade(plan, result).Any(s => s.NeedsReboot),
                !result.RolledBack && ChangesMade(plan, result).Any(s => s.NeedsIisRestart),
                result.Failed, result.RolledBack, plan.NeedsDecision) { BackupFolder = backupFolder };
            context.Output.WriteLine(JsonSerializer.Serialize(report, RepairJson.Context.RepairApplyReport));
            return;
        }
        var console = context.Console;
        // In plan order: the runner decides what to skip or refuse before it changes anything.
        foreach (var outcome in result.Outcomes.Select((o, i) => (o, i)).OrderBy(p => p.o.Order).ThenBy(p => p.i).Select(p => p.o))
        {
            var colour = outcome.Outcome switch
            {
                StepOutcomeKind.Done => "green",
                StepOutcomeKind.Failed => "red",
                StepOutcomeKind.Refused or StepOutcomeKind.Written => "yellow",
                _ => "grey",
            };
            console.MarkupLine($"[bold]{outcome.Order}.[/] [{colour}]{outcome.Outcome}[/] {outcome.Kind} {Markup.Escape(outcome.FindingId)} {Markup.Escape(outcome.Subject)}: {Markup.Escape(outcome.Detail)}");
        }
        foreach (var decision in plan.NeedsDecision)
            console.MarkupLine($"[yellow]Needs a decision[/] {Markup.Escape(decision.Id)} {Markup.Escape(decision.Subject)}: {Markup.Escape(decision.Decision)}");
        if (result.RolledBack) console.MarkupLine("[red]A check failed: every change of this run was rolled back.[/]");
        else if (!result.ChangedAnything && result.Outcomes.All(o => o.Outcome == StepOutcomeKind.Skipped)) console.WriteLine("Nothing to change.");
        else
        {
            // What the changes made still need before services see them (the plan's script does this at its end).
            var made = ChangesMade(plan, result);
            var regFiles = result.Outcomes.Any(o => o.Kind == RepairStepKind.Change && o.Outcome == StepOutcomeKind.Written);
            if (made.Any(s => s.NeedsReboot))
                console.MarkupLine(regFiles ? "[yellow]After importing the .reg files on the server, reboot it[/] for these changes to reach every service."
                                            : "[yellow]Reboot the server[/] for these changes to reach every service.");
            else if (made.Any(s => s.NeedsIisRestart))
                console.MarkupLine(regFiles ? "[yellow]After importing the .reg files on the server, restart IIS[/] (iisreset)."
                                            : "[yellow]Restart IIS[/] (iisreset) for it to read the repaired keys and configuration.");
        }
        if (result.RunFolder.Length > 0)
        {
            console.MarkupLine($"Transcript, journal and backups in [bold]{Markup.Escape(result.RunFolder)}[/] ('keydoctor repair rollback' undoes the run).");
            console.MarkupLine("The run folder is owner-only: its backups hold key files, and its snapshot every machine key. Delete it when you are satisfied with the repair.");
        }
    }

    /// <summary>The plan's changes this run made, or wrote for a person to make.</summary>
    private static List<RepairStep> ChangesMade(RepairPlan plan, RepairResult result) =>
        plan.Steps.Where(s => result.Outcomes.Any(o => o.Order == s.Order && o.Kind == RepairStepKind.Change
                                                       && o.Outcome is StepOutcomeKind.Done or StepOutcomeKind.Written)).ToList();

    /// <summary>
    /// The plan as text: each step and its commands, as lines to paste (never wrapped, no prompt before them), the
    /// inputs still to fill, the findings an earlier step makes unnecessary, and the decisions.
    /// </summary>
    private static void PrintPlan(IAnsiConsole console, TextWriter raw, RepairPlan plan, FileInfo? written, Shell shell)
    {
        if (plan.IsEmpty)
        {
            console.WriteLine("Nothing to repair.");
            return;
        }
        var renderer = new ShellRenderer(shell, plan.Inputs);
        foreach (var step in plan.Steps)
        {
            var where = step.Action is LiveOnlyAction ? " [grey](live server only)[/]" : "";
            console.MarkupLine($"[bold]{step.Order}.[/] [blue]{step.Kind}[/] {Markup.Escape(step.FindingId)} {Markup.Escape(step.Title)}{where}");
            FindingOutput.WriteCommands(raw, "    ", renderer, step.Commands);
            if (step.Risk is { } risk) console.MarkupLine($"    [yellow]risk:[/] {Markup.Escape(risk)}");
        }
        foreach (var skipped in plan.NotNeeded)
            console.MarkupLine($"[grey]Not needed[/] {Markup.Escape(skipped.Id)} {Markup.Escape(skipped.Subject)}: {Markup.Escape(skipped.Reason)}");
        foreach (var decision in plan.NeedsDecision)
        {
            console.MarkupLine($"[yellow]Needs a decision[/] {Markup.Escape(decision.Id)} {Markup.Escape(decision.Subject)}: {Markup.Escape(decision.Decision)}");
            FindingOutput.WriteCommands(raw, "    ", new ShellRenderer(shell, decision.Inputs), decision.Commands);
        }
        foreach (var input in plan.UnfilledInputs)
            console.MarkupLine($"[yellow]Input to fill[/] {Markup.Escape(input.Name)}: {Markup.Escape(input.Description)} (--input {Markup.Escape(input.Name)}=VALUE); 'repair apply' refuses until it is filled.");
        if (plan.NeedsReboot) console.WriteLine("A reboot follows these changes.");
        else if (plan.NeedsIisRestart) console.WriteLine("IIS is restarted after these changes (iisreset).");
        if (plan.Steps.Count > 0)
            console.WriteLine("Backups go to %SystemDrive%\\kd\\backup\\<run id> (owner-only; the snapshot holds every machine key): delete them when you are satisfied with the repair.");
        if (written is not null)
            console.MarkupLine(written.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase)
                ? $"Plan written to [bold]{Markup.Escape(written.FullName)}[/] ('keydoctor repair apply' carries it out)."
                : $"Plan written to [bold]{Markup.Escape(written.FullName)}[/] (a dry run unless asked to apply; 'keydoctor repair apply' reads it too).");
    }
}
