using System.CommandLine;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor explain`: placeholder until the error-code decoder lands.</summary>
public static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var input = new Argument<string[]>("code") { Arity = ArgumentArity.OneOrMore, Description = "Codes or message text." };
        var json = CommonOptions.Json();
        var command = new Command("explain", "Decode Windows error codes (HRESULT, Win32, NTSTATUS).") { input, json };
        command.SetAction(parse =>
        {
            context.Output.WriteLine(string.Join(' ', parse.GetValue(input)!));
            return ExitCodes.Healthy;
        });
        return command;
    }
}
