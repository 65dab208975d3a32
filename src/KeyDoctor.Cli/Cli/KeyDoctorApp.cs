using System.CommandLine;
using System.Reflection;
using KeyDoctor.Cli.Commands;
using KeyDoctor.Formats;

namespace KeyDoctor.Cli;

/// <summary>
/// The command line as a function: arguments in, text out, an exit code back. Tests call this in-process.
/// </summary>
public static class KeyDoctorApp
{
    /// <summary>Each command is built by its own class; this is the only list of them.</summary>
    private static IEnumerable<Command> CreateCommands(CliContext context) =>
    [
        ScanCommand.Create(context),
        RepairCommand.Create(context),
        ExplainCommand.Create(context),
        KeysCommand.Create(context),
        RegCommand.Create(context),
        CertsCommand.Create(context),
        EventsCommand.Create(context),
        IisCommand.Create(context),
        ConfigCommand.Create(context),
        MetabaseCommand.Create(context),
        CollectCommand.CreateCollect(context),
        CollectCommand.CreateSnapshot(context),
        DiffCommand.Create(context),
        AuditCommand.Create(context),
        RecoverCommand.Create(context),
        TraceCommand.Create(context),
    ];

    public static int Run(string[] args, TextWriter output, TextWriter error, bool? interactive = null)
    {
        var isTerminal = interactive ?? (!Console.IsOutputRedirected && !Console.IsErrorRedirected
                                         && ReferenceEquals(output, Console.Out));
        var context = new CliContext(output, error, isTerminal);
        var root = new RootCommand(
            "KeyDoctor diagnoses and repairs Windows machine private keys that break IIS: " +
            "key containers, certificates and their key links, SSL bindings, metabase and applicationHost.config secrets.");
        foreach (var command in CreateCommands(context)) root.Subcommands.Add(command);

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !IsHelpOrVersion(args))
        {
            error.WriteLine($"keydoctor: {parse.Errors[0].Message} (see 'keydoctor --help')");
            return ExitCodes.UsageOrInputError;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (Exception ex) when (ex is UserInputException or MalformedDataException or IOException
                                       or UnauthorizedAccessException or FormatException or NotSupportedException
                                       or PlatformNotSupportedException)
        {
            error.WriteLine($"keydoctor: {OneLine(ex.Message)}");
            return ExitCodes.UsageOrInputError;
        }
        catch (Exception ex)
        {
            // Never a stack trace on the console: one line that says what failed, and where to report it.
            error.WriteLine($"keydoctor: internal error ({ex.GetType().Name}): {OneLine(ex.Message)}");
            return ExitCodes.UsageOrInputError;
        }
    }

    /// <summary>The tool version with the commit it was built from, e.g. "0.1.0+3f2a9c1".</summary>
    public static string Version =>
        typeof(KeyDoctorApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

    private static bool IsHelpOrVersion(string[] args) =>
        args.Any(a => a is "--help" or "-h" or "-?" or "/?" or "--version");

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
