using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Collection;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor collect` and `keydoctor snapshot`: gather what `scan` reads into a bundle. On the live Windows
/// server (elevated), or with --from from an offline image on any OS. --plan shows what would be collected and
/// the equivalent manual commands without collecting anything.
/// </summary>
public static class CollectCommand
{
    public static Command CreateCollect(CliContext context) => Create(context, "collect",
        "Gather everything `keydoctor scan` reads (key stores, hives, event logs, IIS configuration, ACLs) into one bundle.",
        includeEventLogs: true);

    public static Command CreateSnapshot(CliContext context) => Create(context, "snapshot",
        "Take a small bundle without event logs, to keep before patching and compare later with `keydoctor diff`.",
        includeEventLogs: false);

    private static Command Create(CliContext context, string name, string description, bool includeEventLogs)
    {
        var output = new Option<FileInfo>("--output", "-o")
        {
            Description = "Bundle to write (.zip); it must not exist. It holds key files: keep it safe.",
            DefaultValueFactory = _ => new FileInfo($"keydoctor-{name}-{Environment.MachineName}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.zip"),
        };
        var from = new Option<DirectoryInfo?>("--from")
        {
            Description = "Collect from an offline image folder (a mounted or copied system drive) instead of this machine.",
        };
        var since = new Option<DateTimeOffset?>("--since")
        {
            Description = "Export only events at or after this time (ISO 8601, e.g. 2026-11-01T00:00Z).",
        };
        var plan = new Option<bool>("--plan") { Description = "Show what would be collected and the manual commands; collect nothing." };
        var json = CommonOptions.Json();
        var command = new Command(name, description) { output, from, plan, json };
        if (includeEventLogs) command.Options.Add(since);

        command.SetAction(parse =>
        {
            var options = new CollectionOptions
            {
                IncludeEventLogs = includeEventLogs,
                EventsSince = includeEventLogs ? parse.GetValue(since) : null,
                Users = OperatingSystem.IsWindows() && parse.GetValue(from) is null ? LoadedUserProfiles.Read() : [],
            };
            var steps = CollectionPlanner.Plan(options);
            if (parse.GetValue(plan))
            {
                WritePlan(context, steps, parse.GetValue(json));
                return ExitCodes.Healthy;
            }

            var image = parse.GetValue(from);
            ICollectionHost host;
            if (image is not null)
            {
                if (!image.Exists) throw new UserInputException($"there is no image folder {image.FullName}: check the path given to --from.");
                MachineSource.RequireSystemDrive(image.FullName);
                host = new ImageCollectionHost(image.FullName, image.Name);
            }
            else if (OperatingSystem.IsWindows())
            {
                var windows = new WindowsCollectionHost();
                if (!windows.IsElevated)
                    throw new UserInputException($"'{name}' reads MachineKeys, the SECURITY hive and the Security log: run it from an elevated prompt (Run as administrator)");
                host = windows;
            }
            else
            {
                throw new UserInputException($"'{name}' collects from a live Windows server; on this OS use --from <image folder>, or --plan to see what it collects");
            }

            var target = parse.GetValue(output)!;
            if (target.Exists) throw new UserInputException($"{target.FullName} exists; choose another --output");
            // A repair plan names the run's backup folder before anything has made it: create it owner-only.
            if (target.Directory is { Exists: false } folder) KeyDoctor.Crypto.KeySets.OwnerOnlyFile.CreateDirectory(folder.FullName);
            var collector = new BundleCollector(host, KeyDoctorApp.Version);
            if (context.Interactive)
                collector.StepStarted += step => context.ErrorConsole.MarkupLine($"[grey]{Markup.Escape(step.Description)}[/]");
            // No bundle that looks complete: a partial one keeps its evidence under a name that says what it is.
            var partial = PartialName(target.FullName);
            var manifest = collector.Collect(steps, target.FullName, includeEventLogs ? "bundle" : "snapshot", partial);
            if (BundleCollector.CoreFailures(manifest) is { Count: > 0 } failures)
            {
                throw new UserInputException(BundleCollector.CoreFailureMessage($"'{name}' could not take the evidence a scan needs", failures) +
                    $" What could be collected is in {partial}, marked partial (a scan of it reports what is missing as KD0001).");
            }

            if (parse.GetValue(json))
                context.WriteJson(new CollectDocument(target.FullName, manifest.Kind, manifest.Files.Count,
                    manifest.Files.Sum(f => f.Length), manifest.Problems), KeyDoctorJson.Default.CollectDocument);
            else
            {
                context.Console.MarkupLine($"Wrote [bold]{Markup.Escape(target.FullName)}[/]: {manifest.Files.Count} files, {manifest.Files.Sum(f => f.Length):N0} bytes.");
                foreach (var problem in manifest.Problems)
                    context.Console.MarkupLine($"[yellow]not collected[/] {Markup.Escape(problem.Path)}: {Markup.Escape(problem.Reason)}");
                context.Console.WriteLine("The bundle holds private key files and master keys: store it like a backup of the server's keys.");
            }
            return ExitCodes.Healthy;
        });
        return command;
    }

    /// <summary>"web01.zip" becomes "web01.partial.zip".</summary>
    public static string PartialName(string zip) =>
        Path.Combine(Path.GetDirectoryName(zip) ?? "", Path.GetFileNameWithoutExtension(zip) + ".partial" + Path.GetExtension(zip));

    private static void WritePlan(CliContext context, IReadOnlyList<CollectionStep> steps, bool json)
    {
        if (json)
        {
            context.WriteJson<IReadOnlyList<CollectionStepJson>>(steps.Select(CollectionStepJson.From).ToList(),
                KeyDoctorJson.Default.IReadOnlyListCollectionStepJson);
            return;
        }
        var table = new Table().AddColumns("What", "From", "Manual command");
        foreach (var step in steps)
            table.AddRow(Markup.Escape(step.Description), Markup.Escape(step.Source), Markup.Escape(step.Command ?? ""));
        context.Console.Write(table);
    }
}
