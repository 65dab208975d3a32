using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace KeyDoctor.Machine.Tools;

/// <summary>What a program printed and how it ended.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Both streams, trimmed, on one line each, for a message or the manifest.</summary>
    public string Output => string.Join(" ", new[] { StandardError, StandardOutput }
        .Select(s => s.ReplaceLineEndings(" ").Trim()).Where(s => s.Length > 0));
}

/// <summary>
/// Runs a Windows tool (reg.exe, wevtutil.exe, auditpol.exe, ...) with its argv and no shell between; the live
/// hosts use it, tests replace it with a recorded transcript.
/// </summary>
public interface IProcessRunner
{
    /// <summary>Runs the program to its end. Throws <see cref="ToolFailedException"/> when it cannot be started.</summary>
    ProcessResult Run(string program, IReadOnlyList<string> arguments);
}

/// <summary>The real processes.</summary>
public sealed class SystemProcessRunner : IProcessRunner
{
    public static SystemProcessRunner Instance { get; } = new();

    public ProcessResult Run(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception ex)
        {
            throw ToolFailedException.CannotStart(program, arguments, ex.Message);
        }
        if (process is null) throw ToolFailedException.CannotStart(program, arguments, "the process did not start");
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return new ProcessResult(process.ExitCode, stdout, stderr.Result);
        }
    }
}

/// <summary>
/// The live machine refused something (a tool failed, a folder's SACL could not be read): the message is already a
/// full sentence (what failed, on which file or key, what to do) and is shown as it is.
/// </summary>
public class LiveMachineException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// A tool KeyDoctor ran failed, or could not be started: the message is a sentence with the exact command line,
/// what the tool printed, and what to do about it.
/// </summary>
public sealed class ToolFailedException(string message, string commandLine, string? output) : LiveMachineException(message)
{
    /// <summary>The command exactly as run (program and argv, quoted the way cmd shows it).</summary>
    public string CommandLine { get; } = commandLine;

    /// <summary>What the tool printed (stderr then stdout), or null when it never started.</summary>
    public string? ToolOutput { get; } = output;

    public static ToolFailedException CannotStart(string program, IReadOnlyList<string> arguments, string reason)
    {
        var line = CommandLineOf(program, arguments);
        return new ToolFailedException(
            $"could not run '{line}': {program} could not be started ({reason.TrimEnd('.')}). " +
            $"It is part of Windows (System32); check that this is a Windows server and that %SystemRoot%\\System32 is on PATH.",
            line, null);
    }

    public static ToolFailedException Failed(string program, IReadOnlyList<string> arguments, ProcessResult result)
    {
        var line = CommandLineOf(program, arguments);
        var printed = result.Output.Length > 0 ? result.Output : "(it printed nothing)";
        return new ToolFailedException(
            $"'{line}' failed with exit code {result.ExitCode}: {printed.TrimEnd('.')}. {Advice(result.Output)}",
            line, result.Output);
    }

    /// <summary>Runs the tool and throws a <see cref="ToolFailedException"/> unless it exits 0; returns its stdout.</summary>
    public static string RunChecked(IProcessRunner runner, string program, params string[] arguments)
    {
        var result = runner.Run(program, arguments);
        if (result.ExitCode != 0) throw Failed(program, arguments, result);
        return result.StandardOutput;
    }

    private static string Advice(string output) =>
        output.Contains("denied", StringComparison.OrdinalIgnoreCase) || output.Contains("privilege", StringComparison.OrdinalIgnoreCase)
            ? "Run keydoctor from an elevated prompt (Run as administrator) as a member of Administrators."
            : output.Contains("not found", StringComparison.OrdinalIgnoreCase) || output.Contains("cannot find", StringComparison.OrdinalIgnoreCase)
                || output.Contains("unable to find", StringComparison.OrdinalIgnoreCase) || output.Contains("does not exist", StringComparison.OrdinalIgnoreCase)
                ? "Check that the key, log or path it names exists on this server."
                : "Run the same command by hand from an elevated prompt to see why.";

    public static string CommandLineOf(string program, IEnumerable<string> arguments)
    {
        var text = new StringBuilder(program);
        foreach (var argument in arguments)
            text.Append(' ').Append(argument.Length == 0 || argument.Contains(' ') ? $"\"{argument}\"" : argument);
        return text.ToString();
    }
}
