using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Audit;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

public static partial class AuditCommand
{
    private static Command CreateReport(CliContext context)
    {
        var input = new Argument<string>("source") { Description = "A Security.evtx, an image folder, or a bundle (.zip)." };
        var all = new Option<bool>("--all") { Description = "Show every audited object, not only key files (MachineKeys, Crypto\\Keys, SystemKeys, RSA\\<SID>)." };
        var json = CommonOptions.Json();
        var command = new Command("report",
            "Who touched which key file, when, with which program and access: from events 4656, 4663, 4658, 4660 and 4670; and every key operation (5058 key file, 5061 cryptographic) by key and process, failures and unexpected processes first.")
        {
            input, all, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(input)!;
            using var source = File.Exists(path) && path.EndsWith(".evtx", StringComparison.OrdinalIgnoreCase) ? null : MachineSource.Open(path);
            var logs = source is null ? [path] : SecurityLogs(source);
            if (logs.Count == 0)
                throw new UserInputException($"no Security.evtx in {path} (looked in {WindowsPaths.EventLogs})");

            var accesses = KeyAccessReport.Read(logs, keyStoresOnly: !parse.GetValue(all), problem => context.Error.WriteLine($"keydoctor: {problem}"));
            var operations = KeyOperationReport.Read(logs, problem => context.Error.WriteLine($"keydoctor: {problem}"));
            var groups = KeyOperationReport.Group(operations, source is null ? null : SourceKeyFiles(source));
            if (parse.GetValue(json))
                context.WriteJson(new AuditReportDocument(logs.Select(l => Path.GetFileName(l)).ToList(), accesses, groups,
                    operations.Count, operations.Count(o => o.Failed)), KeyDoctorJson.Default.AuditReportDocument);
            else
            {
                Print(context, accesses, parse.GetValue(all));
                context.Console.WriteLine();
                PrintOperations(context, groups, operations.Count, source is not null);
            }
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static List<string> SecurityLogs(IMachineSource source) =>
        source.EnumerateFiles(WindowsPaths.EventLogs)
            .Where(f => f.Name.Equals("Security.evtx", StringComparison.OrdinalIgnoreCase))
            .Select(f => source.GetLocalPath(f.Path)!)
            .ToList();

    /// <summary>Every key file of the source (machine and profile stores), as paths relative to its system drive.</summary>
    private static List<string> SourceKeyFiles(IMachineSource source) =>
        [.. new[] { WindowsPaths.MachineKeys, WindowsPaths.CngMachineKeys, WindowsPaths.CngSystemKeys }
            .SelectMany(folder => source.EnumerateFiles(folder)).Select(f => f.Path).Order(StringComparer.OrdinalIgnoreCase)];

    private static void PrintOperations(CliContext context, IReadOnlyList<KeyOperationGroup> groups, int events, bool haveSource)
    {
        var console = context.Console;
        if (groups.Count == 0)
        {
            console.WriteLine("No key operations (5058/5061) in the log: \"Audit Other System Events\" was off, or no CNG key was used.");
            return;
        }
        console.MarkupLine($"[bold]Key operations[/] (5058 key file, 5061 cryptographic): {events} event(s), {groups.Count} key/process pair(s); failures first, then processes that do not usually use keys.");
        foreach (var g in groups)
        {
            var flag = g.Failures > 0 ? $"[red]{g.Failures} FAILED[/] ({Markup.Escape(string.Join(", ", g.FailureCodes))}) of {g.Events}" : $"{g.Events} ok";
            var who = g.ExpectedProcess ? Markup.Escape(g.Process) : $"[yellow]{Markup.Escape(g.Process)} (not a process expected to use keys)[/]";
            var pids = g.ProcessIds.Count == 0 ? "" : $" PID {string.Join(", ", g.ProcessIds)}";
            var writer = g.ProcessSource == "event-writer" ? " [grey](the event names no client; this is the process that wrote it, where key isolation runs)[/]" : "";
            console.MarkupLine($"  {flag}  key [bold]{Markup.Escape(g.Key)}[/]{(g.Container is null ? "" : $" ({Markup.Escape(g.Container)})")} by {who}{Markup.Escape(pids)}{writer}");
            console.MarkupLine($"    {g.FirstUtc.ToString("u", System.Globalization.CultureInfo.InvariantCulture)} to {g.LastUtc.ToString("u", System.Globalization.CultureInfo.InvariantCulture)}; " +
                               $"events {string.Join(", ", g.EventIds)}; {Markup.Escape(string.Join(", ", g.Operations))}; as {Markup.Escape(string.Join(", ", g.Accounts))}");
            foreach (var file in g.KeyFiles) console.MarkupLine($"    key file (event): {Markup.Escape(file)}");
            if (g.SourceKeyFiles is { } matched)
                console.MarkupLine(matched.Count == 0
                    ? "    [yellow]no key file of this key in the source[/]"
                    : $"    key file in the source: {Markup.Escape(string.Join(", ", matched))}");
        }
        if (!haveSource)
            console.MarkupLine("[grey]Only a log was given: give the image or bundle instead to see which of its key files each key is.[/]");
    }

    private static void Print(CliContext context, IReadOnlyList<KeyAccess> accesses, bool all)
    {
        if (accesses.Count == 0)
        {
            context.Console.WriteLine(all
                ? "No object-access events (4656/4663/4658/4660/4670) in the log."
                : "No audited access to key files. If auditing was not on, turn it on with 'keydoctor audit enable'; use --all to see other objects.");
            return;
        }
        var table = new Table().AddColumns("Time (UTC)", "Event", "Account", "Process", "Action", "Object", "Access");
        foreach (var a in accesses)
        {
            var target = a.ObjectName is null ? "?" : a.Container is { } container ? $"{a.ObjectName} ({container})" : a.ObjectName;
            table.AddRow(
                a.TimeUtc.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                $"{a.EventId} #{a.RecordId}", Markup.Escape(a.Account), Markup.Escape(a.ProcessName ?? "?"), a.Action,
                Markup.Escape(target), Markup.Escape(string.Join(", ", a.Access)));
        }
        context.Console.Write(table);
    }
}
