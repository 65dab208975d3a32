using System.Text;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;

namespace KeyDoctor.Repair;

public enum RepairStepKind
{
    /// <summary>Saves what later steps change, so the rollback has something to restore.</summary>
    Backup,

    /// <summary>The change itself.</summary>
    Change,

    /// <summary>Checks that the change worked (re-runs the relevant check).</summary>
    Verify,

    /// <summary>Undoes the change from the backup, if the verification fails.</summary>
    Rollback,
}

/// <summary>One step of a repair plan, as PowerShell (cmd equivalents in comments), with what it costs.</summary>
public sealed record RepairStep(int Order, RepairStepKind Kind, string FindingId, string Subject, string Title, string PowerShell)
{
    public string? Cmd { get; init; }
    public string? Risk { get; init; }
    public bool NeedsReboot { get; init; }
    public bool NeedsIisRestart { get; init; }
}

/// <summary>
/// The steps that fix a scan's findings, in dependency order, each change between a backup and a verification,
/// with its rollback. Findings with no safe automatic fix are listed for a person to decide, with what to decide.
/// </summary>
public sealed record RepairPlan(IReadOnlyList<RepairStep> Steps, IReadOnlyList<Finding> NeedsDecision)
{
    public bool IsEmpty => Steps.Count == 0 && NeedsDecision.Count == 0;
    public bool NeedsReboot => Steps.Any(s => s.NeedsReboot);
    public bool NeedsIisRestart => Steps.Any(s => s.NeedsIisRestart);

    /// <summary>The plan as a PowerShell script: dry run by default (each change runs only with -Apply).</summary>
    public string ToPowerShell(string source)
    {
        var script = new StringBuilder()
            .AppendLine("# KeyDoctor repair plan")
            .AppendLine($"# Generated from a scan of {source}. Review every step before running it.")
            .AppendLine("# Dry run by default: run with -Apply to make the changes. Steps stop at the first failure.")
            .AppendLine("param([switch]$Apply)")
            .AppendLine("$ErrorActionPreference = 'Stop'")
            .AppendLine("New-Item -ItemType Directory -Force C:\\kd\\backup | Out-Null")
            .AppendLine();
        foreach (var step in Steps)
        {
            script.AppendLine($"# --- Step {step.Order}: {step.Kind} for {step.FindingId} {step.Subject}")
                  .AppendLine($"# {step.Title}");
            if (step.Risk is not null) script.AppendLine($"# Risk: {step.Risk}");
            if (step.Cmd is not null)
                foreach (var line in step.Cmd.Split('\n')) script.AppendLine($"#   cmd: {line}");
            var guard = step.Kind is RepairStepKind.Change or RepairStepKind.Rollback;
            if (guard) script.AppendLine("if ($Apply) {");
            foreach (var line in step.PowerShell.Split('\n')) script.AppendLine((guard ? "    " : "") + line);
            if (guard) script.AppendLine("} else { Write-Host \"dry run: step " + step.Order + " not applied\" }");
            script.AppendLine();
        }
        if (NeedsReboot) script.AppendLine("# A reboot is needed for these changes to reach every service.");
        else if (NeedsIisRestart) script.AppendLine("if ($Apply) { iisreset }");
        foreach (var finding in NeedsDecision)
        {
            script.AppendLine($"# --- Needs a decision: {finding.Id} {finding.Subject}")
                  .AppendLine($"# {finding.Fix?.Summary ?? finding.Message}");
            if (finding.Fix?.Risk is { } risk) script.AppendLine($"# Risk: {risk}");
            foreach (var line in (finding.Fix?.PowerShell ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
                script.AppendLine($"#   {line}");
        }
        return script.ToString();
    }
}

/// <summary>Turns scan findings into an ordered, reversible plan.</summary>
public static class RepairPlanner
{
    // Permissions first (nothing else can be read without them), then the GUID the keys depend on, then the keys,
    // then the configuration and certificates that use the keys, then the bindings that use the certificates.
    private static readonly string[] Order =
        ["KD1004", "KD1001", "KD1003", "KD1002", "KD3001", "KD2008", "KD2002", "KD2009", "KD2003", "KD2001", "KD2007", "KD2004", "KD2005", "KD2006"];

    public static RepairPlan Plan(ScanResult scan)
    {
        var steps = new List<RepairStep>();
        var decisions = new List<Finding>();
        var actionable = scan.Findings
            .Where(f => f.Severity > Severity.Info && Array.IndexOf(Order, f.Id) >= 0 && f.Fix is not null)
            .OrderBy(f => Array.IndexOf(Order, f.Id)).ThenBy(f => f.Subject, StringComparer.Ordinal).ToList();
        if (actionable.Count == 0) return new RepairPlan([], []);

        void Add(RepairStepKind kind, Finding finding, string title, string powerShell, string? cmd = null, string? risk = null,
                 bool reboot = false, bool iis = false) =>
            steps.Add(new RepairStep(steps.Count + 1, kind, finding.Id, finding.Subject, title, powerShell)
            { Cmd = cmd, Risk = risk, NeedsReboot = reboot, NeedsIisRestart = iis });

        var first = actionable[0];
        Add(RepairStepKind.Backup, first, "Snapshot the server before anything changes (key stores, hives, IIS configuration)",
            "keydoctor snapshot -o C:\\kd\\backup\\before-repair.zip", "keydoctor snapshot -o C:\\kd\\backup\\before-repair.zip");

        foreach (var finding in actionable)
        {
            var fix = finding.Fix!;
            // No safe automatic fix: a person chooses (the commands are shown, commented out, with the choice).
            if (fix.NeedsDecision || fix.PowerShell is null)
            {
                decisions.Add(finding);
                continue;
            }
            var (backup, rollback) = BackupAndRollback(finding);
            if (backup is not null) Add(RepairStepKind.Backup, finding, backup.Value.Title, backup.Value.PowerShell, backup.Value.Cmd);
            Add(RepairStepKind.Change, finding, fix.Summary, fix.PowerShell, fix.Cmd, fix.Risk, fix.NeedsReboot, fix.NeedsIisRestart);
            Add(RepairStepKind.Verify, finding, $"Check that {finding.Id} is gone",
                $"keydoctor collect -o C:\\kd\\backup\\after-{finding.Id}.zip\n$verify = keydoctor scan C:\\kd\\backup\\after-{finding.Id}.zip --json | ConvertFrom-Json\n" +
                $"if ($verify.findings | Where-Object {{ $_.id -eq '{finding.Id}' -and $_.subject -eq '{finding.Subject.Replace("'", "''")}' }}) {{ throw '{finding.Id} is still there' }}");
            if (rollback is not null) Add(RepairStepKind.Rollback, finding, rollback.Value.Title, rollback.Value.PowerShell, rollback.Value.Cmd);
        }
        return new RepairPlan(steps, decisions);
    }

    private static ((string Title, string PowerShell, string? Cmd)? Backup, (string Title, string PowerShell, string? Cmd)? Rollback) BackupAndRollback(Finding finding) =>
        finding.Id switch
        {
            "KD1001" => (("Save the Cryptography key", @"reg export HKLM\SOFTWARE\Microsoft\Cryptography C:\kd\backup\Cryptography.reg /y", @"reg export HKLM\SOFTWARE\Microsoft\Cryptography C:\kd\backup\Cryptography.reg /y"),
                         ("Put the MachineGuid back as it was", @"reg import C:\kd\backup\Cryptography.reg", @"reg import C:\kd\backup\Cryptography.reg")),
            "KD1004" => (("Save the MachineKeys ACL", "icacls \"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\" /save C:\\kd\\backup\\MachineKeys.acl", "icacls \"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\" /save C:\\kd\\backup\\MachineKeys.acl"),
                         ("Restore the saved ACL", "icacls \"$env:ProgramData\\Microsoft\\Crypto\\RSA\" /restore C:\\kd\\backup\\MachineKeys.acl", "icacls \"%ProgramData%\\Microsoft\\Crypto\\RSA\" /restore C:\\kd\\backup\\MachineKeys.acl")),
            "KD2004" or "KD2006" => (("Save the HTTP.sys SSL bindings", "netsh http show sslcert > C:\\kd\\backup\\sslcert.txt\nreg export HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters C:\\kd\\backup\\http.reg /y", "reg export HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters C:\\kd\\backup\\http.reg /y"),
                         ("Restore the HTTP.sys bindings", "reg import C:\\kd\\backup\\http.reg\nRestart-Service HTTP -Force", "reg import C:\\kd\\backup\\http.reg")),
            "KD2005" or "KD3001" => (("Back up the IIS configuration", "& $env:windir\\system32\\inetsrv\\appcmd.exe add backup \"keydoctor-" + finding.Id + "\"", "%windir%\\system32\\inetsrv\\appcmd add backup \"keydoctor-" + finding.Id + "\""),
                         ("Restore the IIS configuration", "& $env:windir\\system32\\inetsrv\\appcmd.exe restore backup \"keydoctor-" + finding.Id + "\"", "%windir%\\system32\\inetsrv\\appcmd restore backup \"keydoctor-" + finding.Id + "\"")),
            "KD1002" or "KD1003" or "KD2008" or "KD2002" or "KD2003" or "KD2009" or "KD2001" =>
                (("Save the certificate stores and key folder", "Copy-Item \"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\" C:\\kd\\backup\\MachineKeys -Recurse -Force\nreg export HKLM\\SOFTWARE\\Microsoft\\SystemCertificates C:\\kd\\backup\\SystemCertificates.reg /y", "robocopy \"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\" C:\\kd\\backup\\MachineKeys /B /COPY:DATSO"),
                 ("Put the key files and certificate stores back", "Copy-Item C:\\kd\\backup\\MachineKeys\\* \"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\" -Force\nreg import C:\\kd\\backup\\SystemCertificates.reg", "robocopy C:\\kd\\backup\\MachineKeys \"%ProgramData%\\Microsoft\\Crypto\\RSA\\MachineKeys\" /B /COPY:DATSO\nreg import C:\\kd\\backup\\SystemCertificates.reg")),
            _ => (null, null),
        };
}
