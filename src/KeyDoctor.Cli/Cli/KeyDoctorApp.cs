using System.CommandLine;
using System.Reflection;
using KeyDoctor.Cli.Commands;
using KeyDoctor.Formats;
using KeyDoctor.Machine;

namespace KeyDoctor.Cli;

/// <summary>
/// The command line as a function: arguments in, text out, an exit code back. Tests call this in-process.
/// </summary>
public static class KeyDoctorApp
{
    /// <summary>Each command is built by its own class; this is the only list of them.</summary>
    private static readonly (string Name, Func<CliContext, Command> Create)[] Commands =
    [
        ("scan", ScanCommand.Create),
        ("repair", RepairCommand.Create),
        ("explain", ExplainCommand.Create),
        ("keys", KeysCommand.Create),
        ("reg", RegCommand.Create),
        ("certs", CertsCommand.Create),
        ("events", EventsCommand.Create),
        ("iis", IisCommand.Create),
        ("config", ConfigCommand.Create),
        ("metabase", MetabaseCommand.Create),
        ("collect", CollectCommand.CreateCollect),
        ("snapshot", CollectCommand.CreateSnapshot),
        ("diff", DiffCommand.Create),
        ("audit", AuditCommand.Create),
        ("recover", RecoverCommand.Create),
        ("trace", TraceCommand.Create),
        ("farm", FarmCommand.Create),
        ("history", HistoryCommand.Create),
    ];

    public static int Run(string[] args, TextWriter output, TextWriter error, bool? interactive = null)
    {
        var isTerminal = interactive ?? false;
        var context = new CliContext(output, error, isTerminal);
        var root = new RootCommand(
            "KeyDoctor diagnoses and repairs Windows machine private keys that break IIS: " +
            "key containers, certificates and their key links, SSL bindings, metabase and applicationHost.config secrets.\n\n" +
            "Typical use:\n" +
            "  keydoctor collect -o web01.zip          on the server, elevated: gather what scan reads into one bundle\n" +
            "  keydoctor scan web01.zip                on any machine: what broke, the evidence, and the fix\n" +
            "  keydoctor scan /mnt/web01               the same from a copied or mounted system drive\n" +
            "  keydoctor repair plan web01.zip -o plan.ps1   the fix in order, with backups and rollbacks; nothing changes\n" +
            "  keydoctor explain 0x80090016            what an error code or a finding ID means for IIS keys\n" +
            "Run 'keydoctor <command> --help' for a command's options.");
        // Start-up is what an admin running keydoctor dozens of times feels: build only the command being run.
        // Without a known command first (root --help, --version, a typo) every command is built, for the listing
        // and the "did you mean" message.
        var chosen = args.Length > 0 ? Array.FindIndex(Commands, c => c.Name == args[0]) : -1;
        foreach (var (_, create) in chosen >= 0 ? [Commands[chosen]] : Commands) root.Subcommands.Add(create(context));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !IsHelpOrVersion(args))
        {
            error.WriteLine($"keydoctor: {ParseErrorSentence(parse)} (see '{CommandLineOf(parse.CommandResult)} --help')");
            return ExitCodes.UsageOrInputError;
        }

        try
        {
            using var bundleLimits = MachineSource.UseBundleLimits(BundleLimits(parse.GetValue(context.MaxBundleSize)));
            return parse.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (MalformedDataException ex) when (ex.FilePath is not null)
        {
            // A damaged or hostile file is the input's problem, not KeyDoctor's: say which file, where and why.
            var where = ex.Offset > 0 ? $" (at offset 0x{ex.Offset:X})" : "";
            error.WriteLine(context.ShowPathsIn($"keydoctor: cannot read {ex.FilePath} as {ex.Format}: {OneLine(ex.Reason)}{where}. " +
                            "The file is damaged, truncated or not what it claims to be; collect it again or check that it is the right file."));
            return ExitCodes.UsageOrInputError;
        }
        catch (Exception ex) when (Sentence(ex) is { } sentence)
        {
            error.WriteLine(context.ShowPathsIn($"keydoctor: {sentence}"));
            return ExitCodes.UsageOrInputError;
        }
        catch (Exception ex)
        {
            // Never a stack trace on the console: one line that says what failed, and where to report it.
            error.WriteLine($"keydoctor: internal error ({ex.GetType().Name}): {OneLine(ex.Message)}. " +
                            "This is a bug in KeyDoctor: report it with the command line you ran.");
            return ExitCodes.UsageOrInputError;
        }
    }

    /// <summary>
    /// The one-line error for an exception that is the input's or the machine's problem, not KeyDoctor's: a sentence
    /// with what failed and what to do. KeyDoctor's own messages (UserInputException, a tool that failed) are sentences
    /// already; a system exception's message alone ("Access is denied.", a bare path) is not, so it gets one around it.
    /// Null for anything else (an internal error).
    /// </summary>
    public static string? Sentence(Exception ex) => ex switch
    {
        UserInputException or Machine.Tools.LiveMachineException or KeyDoctor.Store.ScanStoreException
            or KeyDoctor.Diagnosis.Farm.FarmNodeException or Machine.InputPathException => OneLine(ex.Message),
        MalformedDataException malformed => $"cannot read the input as {malformed.Format}: {OneLine(malformed.Reason).TrimEnd('.')}. " +
                                            "Check that it is the right file and that it is not damaged.",
        UnauthorizedAccessException => $"access was denied ({Detail(ex)}). Run keydoctor from an elevated prompt (Run as administrator), " +
                                       "or give the account it runs as read access to the file or folder.",
        DirectoryNotFoundException => $"a folder KeyDoctor needs was not found ({Detail(ex)}). Check the path you gave; " +
                                      "on a live server, check that the folder exists (IIS or the key store may not be installed).",
        FileNotFoundException notFound => $"a file KeyDoctor needs was not found ({Detail(ex, notFound.FileName)}). Check the path you gave.",
        PathTooLongException => $"a path is too long for this system ({Detail(ex)}). Copy the input to a shorter folder and run again.",
        IOException => $"a file could not be read or written ({Detail(ex)}). Check that it exists, that no other program holds it " +
                       "locked, and that the disk has room.",
        System.Security.Cryptography.CryptographicException => $"the system's cryptography failed ({Detail(ex)}). On Windows, check that " +
            "the key is present and readable by this account; under Wine, CNG key operations are not implemented (run on Windows).",
        PlatformNotSupportedException => $"this needs something this system does not have ({Detail(ex)}). Run it on the Windows " +
                                         "server, or give it a bundle or image folder to read offline.",
        FormatException or NotSupportedException => $"a value could not be understood ({Detail(ex)}). Check the command line against " +
                                                    "'keydoctor <command> --help'.",
        _ => null,
    };

    // What the system said, and the file when it named one but its message does not: never the message alone.
    private static string Detail(Exception ex, string? file = null)
    {
        var message = OneLine(ex.Message).TrimEnd('.');
        if (message.Length == 0) message = ex.GetType().Name;
        return file is not null && !message.Contains(file, StringComparison.Ordinal) ? $"{file}: {message}" : message;
    }

    /// <summary>The tool version    /// <summary>The tool version with the commit it was built from, e.g. "0.1.0+3f2a9c1".</summary>
    public static string Version =>
        typeof(KeyDoctorApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

    /// <summary>
    /// A mistyped command says so, with the nearest command when one is close ("'scna' is not a command of
    /// 'keydoctor'; did you mean 'scan'?"), and a command group without its command names them, instead of the
    /// parser's "Required command was not provided".
    /// </summary>
    private static string ParseErrorSentence(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (command.Subcommands.Count > 0 && parse.UnmatchedTokens.Count > 0 && !parse.UnmatchedTokens[0].StartsWith('-'))
        {
            var typed = parse.UnmatchedTokens[0];
            var nearest = command.Subcommands.Select(c => c.Name)
                .Select(name => (Name: name, Distance: EditDistance(typed.ToLowerInvariant(), name)))
                .Where(c => c.Distance <= Math.Max(1, c.Name.Length / 3))
                .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Name).FirstOrDefault();
            return $"'{typed}' is not a command of '{CommandLineOf(parse.CommandResult)}'" + (nearest is null ? "." : $"; did you mean '{nearest}'?");
        }
        if (command.Subcommands.Count > 0 && command.Action is null && parse.UnmatchedTokens.Count == 0)
            return $"'{CommandLineOf(parse.CommandResult)}' needs one of its commands: {string.Join(", ", command.Subcommands.Select(c => c.Name))}.";
        return parse.Errors[0].Message;
    }

    // Edits, with two swapped neighbours counted as one ("scna" is one away from "scan").
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    /// <summary>"keydoctor certs list" for the command a parse stopped in, so the help pointed to is that command's.</summary>
    private static string CommandLineOf(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new List<string>();
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            if (r.Command is not RootCommand) names.Add(r.Command.Name);
        names.Add("keydoctor");
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The bundle limits with --max-bundle-size applied: "8GB", "512MB", "1.5GiB" or a number of bytes.</summary>
    private static SafeZipExtractor.Limits BundleLimits(string? maxSize)
    {
        if (maxSize is null) return SafeZipExtractor.Limits.Default;
        var text = maxSize.Trim().ToUpperInvariant().Replace("IB", "B", StringComparison.Ordinal);
        var (digits, shift) = text switch
        {
            _ when text.EndsWith("TB", StringComparison.Ordinal) => (text[..^2], 40),
            _ when text.EndsWith("GB", StringComparison.Ordinal) => (text[..^2], 30),
            _ when text.EndsWith("MB", StringComparison.Ordinal) => (text[..^2], 20),
            _ when text.EndsWith("KB", StringComparison.Ordinal) => (text[..^2], 10),
            _ when text.EndsWith('B') => (text[..^1], 0),
            _ => (text, 0),
        };
        if (!double.TryParse(digits, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var number)
            || number <= 0 || number * (1L << shift) > long.MaxValue / 2)
            throw new UserInputException($"--max-bundle-size '{maxSize}' is not a size; give one like 8GB, 512MB or a number of bytes");
        return SafeZipExtractor.Limits.Default with { MaxTotalBytes = (long)(number * (1L << shift)) };
    }

    private static bool IsHelpOrVersion(string[] args) =>
        args.Any(a => a is "--help" or "-h" or "-?" or "/?" or "--version");

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
