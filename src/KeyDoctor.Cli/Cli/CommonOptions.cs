using System.CommandLine;

namespace KeyDoctor.Cli;

/// <summary>Options shared by every command, so they read and behave the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<bool> Json() => new("--json")
    {
        Description = "Write one JSON document to stdout (nothing else goes there), for scripts.",
    };

    /// <summary>
    /// An option naming a file or folder to write: its folder must exist, checked when the command line is read, so the
    /// error names the option and the folder instead of a system "could not find a part of the path" after the work.
    /// </summary>
    public static TOption InExistingFolder<TOption>(this TOption option) where TOption : Option
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.FirstOrDefault()?.Value is not { Length: > 0 } value) return;
            var folder = Path.GetDirectoryName(Path.GetFullPath(value));
            if (folder is not null && !Directory.Exists(folder))
                result.AddError($"{option.Name} {value}: the folder {folder} does not exist; create it or choose another place");
        });
        return option;
    }

    /// <summary>Given to the commands that read bundles (and, recursive, to their subcommands): see <see cref="CliContext.MaxBundleSize"/>.</summary>
    public static Option<string?> MaxBundleSize() => new("--max-bundle-size")
    {
        Description = "Largest total a bundle zip may extract to, e.g. 8GB (default 4GB; a collected server needs far less).",
        Recursive = true,
    };
}
