using System.CommandLine;

namespace KeyDoctor.Cli.Commands;

public static partial class AuditCommand
{
    private static Command CreateReport(CliContext context)
    {
        var input = new Argument<string>("source") { Description = "A Security.evtx, an image folder, or a bundle." };
        var command = new Command("report", "Who touched which key file, from 4656/4663/4658/4660/4670 events.") { input, CommonOptions.Json() };
        command.SetAction(new Func<ParseResult, int>(_ => throw new UserInputException("audit report needs the event log reader, which is not built yet")));
        return command;
    }
}
