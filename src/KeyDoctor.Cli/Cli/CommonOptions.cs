using System.CommandLine;

namespace KeyDoctor.Cli;

/// <summary>Options shared by every command, so they read and behave the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<bool> Json() => new("--json")
    {
        Description = "Write one JSON document to stdout (nothing else goes there), for scripts.",
    };
}
