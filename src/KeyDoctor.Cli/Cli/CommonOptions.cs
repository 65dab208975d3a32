using System.CommandLine;

namespace KeyDoctor.Cli;

/// <summary>Options shared by every command, so they read and behave the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<bool> Json() => new("--json")
    {
        Description = "Write one JSON document to stdout (nothing else goes there), for scripts.",
    };

    /// <summary>Given to the commands that read bundles (and, recursive, to their subcommands): see <see cref="CliContext.MaxBundleSize"/>.</summary>
    public static Option<string?> MaxBundleSize() => new("--max-bundle-size")
    {
        Description = "Largest total a bundle zip may extract to, e.g. 8GB (default 4GB; a collected server needs far less).",
        Recursive = true,
    };
}
