using KeyDoctor.Cli;

namespace KeyDoctor.Tests;

/// <summary>Runs the command line in-process and captures what it writes.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = KeyDoctorApp.Run(args, stdout, stderr, interactive: false);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
