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
            "Who touched which key file, when, with which program and access: from events 4656, 4663, 4658, 4660 and 4670.")
        {
            input, all, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(input)!;
            using var source = File.Exists(path) && path.EndsWith(".evtx", StringComparison.OrdinalIgnoreCase) ? null : MachineSource.Open(path);
            var logs = source is null ? [path] : SecurityLogs(source);
            if (logs.Count == 0)
                throw new UserInputException($"no Security.evtx in {path} (looked in {WindowsPaths.EventLogs})");

            var accesses = KeyAccessReport.Read(logs, keyStoresOnly: !parse.GetValue(all), problem => context.Error.WriteLine($"keydoctor: {problem}"));
            if (parse.GetValue(json))
                context.WriteJson(new AuditReportDocument(logs.Select(l => Path.GetFileName(l)).ToList(), accesses), KeyDoctorJson.Default.AuditReportDocument);
            else
                Print(context, accesses, parse.GetValue(all));
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static List<string> SecurityLogs(IMachineSource source) =>
        source.EnumerateFiles(WindowsPaths.EventLogs)
            .Where(f => f.Name.Equals("Security.evtx", StringComparison.OrdinalIgnoreCase))
            .Select(f => source.GetLocalPath(f.Path)!)
            .ToList();

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
