using System.Diagnostics;
using System.Text;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;

namespace KeyDoctor.Repair;

/// <summary>Runs a program with its argv for the live target; a fake in tests.</summary>
public interface ICommandHost
{
    /// <summary>Runs <paramref name="program"/>; returns its exit code and everything it printed (nothing when it shares the console to ask a person).</summary>
    (int ExitCode, string Output) Run(string program, IReadOnlyList<string> arguments, bool interactive);
}

/// <summary>What the live target needs besides the machine: the plan's snapshot and inputs, and the process environment.</summary>
public sealed record LiveTargetOptions
{
    public string? Snapshot { get; init; }
    public IReadOnlyList<RequiredInput> Inputs { get; init; } = [];

    /// <summary>Environment variables (SystemDrive, ProgramData, windir) the commands' tokens expand to.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>True when a person at the console can answer a program's question (a PFX password).</summary>
    public bool CanAsk { get; init; }

    /// <summary>The keydoctor the commands call: this very executable, whatever PATH says.</summary>
    public string KeyDoctorPath { get; init; } = ThisExecutable().Program;

    /// <summary>Arguments before keydoctor's own (the entry assembly, when keydoctor runs as "dotnet keydoctor.dll").</summary>
    public IReadOnlyList<string> KeyDoctorPrefix { get; init; } = ThisExecutable().Prefix;

    private static (string Program, IReadOnlyList<string> Prefix) ThisExecutable()
    {
        var process = System.Environment.ProcessPath ?? "keydoctor";
        return Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
               && System.Environment.GetCommandLineArgs() is [var entry, ..] && entry.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? (process, [entry])
            : (process, []);
    }
}

/// <summary>
/// Applies a plan to the Windows server KeyDoctor runs on: each backup, change and rollback step runs as the plan's
/// commands, program and argv exactly as the scripts show them (no shell between, so no quoting can change them),
/// each checked before the next; every check re-collects and re-scans the machine in process.
/// </summary>
public sealed class LiveRepairTarget(ICommandHost host, Func<ScanResult> scanLive, LiveTargetOptions options) : IRepairTarget
{
    private ScanResult? _scan;

    public string Description => $"this server ({System.Environment.MachineName})";

    public string? MachineGuid => Scan().State.MachineGuid;

    public bool IsFindingPresent(string findingId, string subject) =>
        Scan().Findings.Any(f => f.Id == findingId && f.Subject == subject);

    public string? CannotApply(RepairStep change)
    {
        if (change.Action is CopyKeyFileAction { Source.SnapshotEntry: not null } && string.IsNullOrEmpty(options.Snapshot))
            return "the plan names no snapshot";
        if (change.Commands.FirstOrDefault(c => c.AsksForPassword && c.RunFirstAs is null) is { } asks && !options.CanAsk)
            return $"{asks.ProgramName} asks for a password at the console: run 'repair apply' from an elevated console, where you can answer it";
        if (change.Action?.WritesKeyFile is { } write && Scan().State.KeyFiles.FirstOrDefault(f => f.WindowsPath.Equals(WindowsPaths.Normalize(write.Path), StringComparison.OrdinalIgnoreCase)) is { } existing)
        {
            if (write.ReplaceProof is null)
                return $"{write.Path} exists now, and the plan did not prove it bad: KeyDoctor never replaces a key container that may be good (make a new plan)";
            if (write.ReplaceProof == "damaged" && !MachineState.IsDamaged(existing.Report.Status))
                return $"{write.Path} is no longer damaged: not replacing it (make a new plan)";
        }
        return null;
    }

    public string? LocalFolder(string windowsPath)
    {
        var drive = (options.Environment("SystemDrive") ?? "C:").TrimEnd('\\') + "\\";
        var local = Path.Combine(drive, WindowsPaths.Normalize(windowsPath));
        return Directory.Exists(local) ? local : null;
    }

    public StepOutcome Run(RepairStep step, RepairRun run)
    {
        StepOutcome Outcome(StepOutcomeKind kind, string detail) => new(step.Order, step.Kind, step.FindingId, step.Subject, kind, detail);
        _scan = null;
        // keydoctor moves key files itself: no program between, the same code as on an image.
        if (step.Action is QuarantineKeyFilesAction quarantine)
            return Outcome(StepOutcomeKind.Done, KeyQuarantineSteps.Quarantine(run, quarantine,
                LocalFolder(quarantine.Folder) ?? throw new InvalidOperationException($"{quarantine.Folder} is not on this server")));
        if (step.Action is ReleaseQuarantineAction release)
        {
            var folder = LocalFolder(release.Folder) ?? Directory.CreateDirectory(Path.Combine((options.Environment("SystemDrive") ?? "C:").TrimEnd('\\') + "\\", release.Folder)).FullName;
            var (detail, failed) = KeyQuarantineSteps.Release(run, release.Folder, release.Quarantine, folder);
            return Outcome(failed ? StepOutcomeKind.Failed : StepOutcomeKind.Done, detail);
        }
        foreach (var command in step.Commands)
        {
            if (command.RunFirstAs is { } who)
            {
                run.Log($"step {step.Order}: done before the plan by a person, {who}: {new ShellRenderer(Shell.PowerShell, options.Inputs).Line(command)}");
                continue;
            }
            var program = Expand(command.Program, run);
            var arguments = command.Arguments.Select(a => Expand(a, run)).ToList();
            if (program == "keydoctor")
            {
                program = options.KeyDoctorPath;
                arguments.InsertRange(0, options.KeyDoctorPrefix);
            }
            run.Log($"step {step.Order} {step.Kind} {step.FindingId}: running {Describe(program, arguments)}");
            var (exitCode, output) = host.Run(program, arguments, command.AsksForPassword);
            if (output.Length > 0) run.Log(output.TrimEnd());
            if (exitCode > command.MaxExitCode || exitCode < 0)
                return Outcome(StepOutcomeKind.Failed, $"{command.ProgramName} exited with {exitCode}: {LastLine(output)}");
        }
        return Outcome(StepOutcomeKind.Done, step.Title);
    }

    /// <summary>An argument with its tokens and inputs filled in, as the program receives it.</summary>
    private string Expand(CommandArg argument, RepairRun run)
    {
        var text = new StringBuilder();
        foreach (var part in argument.Parts)
            text.Append(part switch
            {
                LiteralPart literal => literal.Text,
                TokenPart { Token: ArgToken.SystemDrive } => options.Environment("SystemDrive") ?? "C:",
                TokenPart { Token: ArgToken.ProgramData } => options.Environment("ProgramData") ?? throw new InvalidOperationException("%ProgramData% is not set"),
                TokenPart { Token: ArgToken.WinDir } => options.Environment("windir") ?? throw new InvalidOperationException("%windir% is not set"),
                TokenPart { Token: ArgToken.BackupRoot } => Path.Combine(run.Folder, "backup"),
                TokenPart { Token: ArgToken.Snapshot } => options.Snapshot ?? throw new InvalidOperationException("the plan names no snapshot"),
                InputPart input => options.Inputs.FirstOrDefault(i => i.Name == input.Name)?.Value
                                   ?? throw new InvalidOperationException($"input {input.Name} is not filled in"),
                _ => throw new InvalidOperationException("unknown argument part"),
            });
        return text.ToString();
    }

    private static string Describe(string program, IEnumerable<string> arguments) =>
        string.Join(" ", arguments.Prepend(program).Select(a => a.Contains(' ') ? $"\"{a}\"" : a));

    private ScanResult Scan() => _scan ??= scanLive();

    private static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}

/// <summary>
/// Runs programs on Windows with their argv (CommandLineToArgvW quoting by .NET, no shell between). A program that
/// asks a person something shares the console; everything else has its output captured for the transcript.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("windows")]
public sealed class WindowsCommandHost : ICommandHost
{
    public (int ExitCode, string Output) Run(string program, IReadOnlyList<string> arguments, bool interactive)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = !interactive,
            RedirectStandardError = !interactive,
            CreateNoWindow = !interactive,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var output = new StringBuilder();
        if (!interactive)
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
