using System.Diagnostics;
using System.Text;
using KeyDoctor.Diagnosis.Scan;

namespace KeyDoctor.Repair;

/// <summary>Runs PowerShell for the live target; a fake in tests.</summary>
public interface IPowerShellHost
{
    /// <summary>Runs a script; returns its exit code and everything it printed.</summary>
    (int ExitCode, string Output) Run(string script);
}

/// <summary>
/// Applies a plan to the Windows server KeyDoctor runs on: each backup, change and rollback step runs as the
/// PowerShell the plan shows (so the transcript is what a person would have typed), and every check re-collects
/// and re-scans the machine in process.
/// </summary>
public sealed class LiveRepairTarget(IPowerShellHost powerShell, Func<ScanResult> scanLive, string? snapshot,
                                     Func<string, bool>? fileExists = null) : IRepairTarget
{
    private readonly Func<string, bool> _fileExists = fileExists ?? File.Exists;

    private ScanResult? _scan;

    public string Description => $"this server ({Environment.MachineName})";

    public string? MachineGuid => Scan().State.MachineGuid;

    public bool IsFindingPresent(string findingId, string subject) =>
        Scan().Findings.Any(f => f.Id == findingId && f.Subject == subject);

    public string? CannotApply(RepairStep change) => change.Action switch
    {
        RestoreFromSnapshotAction when string.IsNullOrEmpty(snapshot) => "the plan names no snapshot",
        LiveOnlyAction live when live.RequiredInputs.FirstOrDefault(p => !_fileExists(p)) is { } missing =>
            $"{missing} is not there: put {string.Join(" and ", live.RequiredInputs)} on the server first, then apply the plan again",
        _ => null,
    };

    public StepOutcome Run(RepairStep step, RepairRun run)
    {
        var script = new StringBuilder()
            .AppendLine("$ErrorActionPreference = 'Stop'")
            .AppendLine($"$Snapshot = '{(snapshot ?? "").Replace("'", "''")}'")
            // The plan's backups go to C:\kd\backup\$RunId: one folder per run, named after the run folder.
            .AppendLine($"$RunId = '{Path.GetFileName(run.Folder.TrimEnd(Path.DirectorySeparatorChar)).Replace("'", "''")}'")
            // The plan calls 'keydoctor'; use this very executable, whatever PATH says.
            .AppendLine($"Set-Alias keydoctor '{(Environment.ProcessPath ?? "keydoctor").Replace("'", "''")}'")
            .AppendLine(step.PowerShell)
            // Native commands (netsh, certutil, icacls) report failure only through their exit code.
            .AppendLine("if ($LASTEXITCODE) { exit $LASTEXITCODE }")
            .ToString();
        run.Log($"step {step.Order} {step.Kind} {step.FindingId}: running\n{step.PowerShell}");
        var (exitCode, output) = powerShell.Run(script);
        if (output.Length > 0) run.Log(output.TrimEnd());
        _scan = null;
        return new StepOutcome(step.Order, step.Kind, step.FindingId, step.Subject,
            exitCode == 0 ? StepOutcomeKind.Done : StepOutcomeKind.Failed,
            exitCode == 0 ? step.Title : $"PowerShell exited with {exitCode}: {LastLine(output)}");
    }

    private ScanResult Scan() => _scan ??= scanLive();

    private static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}

/// <summary>powershell.exe, with the script on standard input (no quoting games, nothing in the process list).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("windows")]
public sealed class WindowsPowerShellHost : IPowerShellHost
{
    public (int ExitCode, string Output) Run(string script)
    {
        var start = new ProcessStartInfo("powershell.exe", "-NoProfile -NonInteractive -ExecutionPolicy Bypass -Command -")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("powershell.exe did not start");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // A script read from stdin runs when stdin closes; end with an explicit exit so failures give a code.
        process.StandardInput.WriteLine("try {");
        process.StandardInput.WriteLine(script);
        process.StandardInput.WriteLine("} catch { Write-Error $_; exit 1 }");
        process.StandardInput.WriteLine("exit 0");
        process.StandardInput.Close();
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
