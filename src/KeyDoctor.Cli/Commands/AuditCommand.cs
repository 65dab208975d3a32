using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Machine.Audit;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor audit enable | disable | status` (live Windows): auditing of the MachineKeys folder, so the next
/// time a key file changes the Security log names who did it. `audit report` reads those events offline.
/// </summary>
public static partial class AuditCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("audit", "Set up, undo, check and read auditing of the MachineKeys folder.");
        command.Subcommands.Add(Live(context, "enable",
            "Audit MachineKeys (SACL for Everyone, success and failure, inherited by files) and enable the File System and Handle Manipulation audit policy; remembers what it changed.",
            audit => { audit.Enable(); return "Auditing of MachineKeys is on. The next change to a key file is logged in the Security log (4656/4663/4660/4670); read it with 'keydoctor audit report'."; }));
        command.Subcommands.Add(Live(context, "disable",
            "Undo exactly what 'audit enable' changed: the previous SACL and audit policy come back.",
            audit => { audit.Disable(); return "The MachineKeys SACL and the audit policy are back as they were before 'audit enable'."; }));
        command.Subcommands.Add(CreateStatus(context));
        command.Subcommands.Add(CreateReport(context));
        return command;
    }

    private static Command Live(CliContext context, string name, string description, Func<MachineKeysAudit, string> action)
    {
        var command = new Command(name, description) { CommonOptions.Json() };
        command.SetAction(parse =>
        {
            var audit = new MachineKeysAudit(CreateHost());
            var message = action(audit);
            var status = audit.GetStatus();
            if (parse.GetValue<bool>("--json")) context.WriteJson(AuditStatusDocument.From(status), KeyDoctorJson.Default.AuditStatusDocument);
            else context.Console.WriteLine(message);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateStatus(CliContext context)
    {
        var command = new Command("status", "Show the MachineKeys SACL and the audit policy; exit 1 when auditing is off.") { CommonOptions.Json() };
        command.SetAction(parse =>
        {
            var status = new MachineKeysAudit(CreateHost()).GetStatus();
            if (parse.GetValue<bool>("--json")) context.WriteJson(AuditStatusDocument.From(status), KeyDoctorJson.Default.AuditStatusDocument);
            else
            {
                context.Console.MarkupLine(status.Enabled ? "[green]Auditing of MachineKeys is on.[/]" : "[yellow]Auditing of MachineKeys is off.[/]");
                context.Console.MarkupLine($"SACL: {Markup.Escape(status.Sacl ?? "(none)")}{(status.SaclPresent ? "" : " [yellow](no KeyDoctor audit entry)[/]")}");
                foreach (var policy in status.Policy)
                    context.Console.MarkupLine($"Audit policy {Markup.Escape(policy.Name)}: {Markup.Escape(policy.Inclusion)}");
                if (status.State is { } state)
                    context.Console.MarkupLine($"Enabled by KeyDoctor on {state.EnabledUtc:u}; 'keydoctor audit disable' restores the earlier settings.");
            }
            return status.Enabled ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static IAuditHost CreateHost() =>
        OperatingSystem.IsWindows()
            ? new WindowsAuditHost()
            : throw new UserInputException("'audit enable', 'disable' and 'status' change or read the live Windows server; " +
                                           "offline, use 'keydoctor audit report <Security.evtx | image | bundle>'");
}
