using System.Security.Cryptography;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Repair;

/// <summary>What the planner may use besides the scan.</summary>
public sealed record RepairPlanOptions
{
    /// <summary>A snapshot or bundle taken before the damage: key files are restored from it when it holds a good copy.</summary>
    public IMachineSource? Snapshot { get; init; }

    /// <summary>The snapshot as the user named it (recorded in the plan, and the default of the script's -Snapshot).</summary>
    public string? SnapshotPath { get; init; }

    /// <summary>
    /// Findings whose recommended choice a person has made (<c>repair plan --accept</c>): planned as steps instead of
    /// decisions. Only <see cref="RepairPlanner.Acceptable"/> ones have a recommended choice.
    /// </summary>
    public IReadOnlySet<string> Accepted { get; init; } = new HashSet<string>();
}

/// <summary>
/// Turns scan findings into an ordered, reversible plan. Each change is a typed <see cref="RepairAction"/> (what
/// <c>repair apply</c> carries out) and the same change as PowerShell with cmd in comments (what a person reads).
/// </summary>
public static partial class RepairPlanner
{
    // Permissions first (nothing else can be read without them), then the GUID the keys depend on, then the keys,
    // then the configuration and certificates that use the keys, then the bindings that use the certificates.
    private static readonly string[] Order =
        ["KD1004", "KD1001", "KD1003", "KD1002", "KD3001", "KD2008", "KD2002", "KD2009", "KD2003", "KD2001", "KD2007", "KD2004", "KD2005", "KD2006"];

    // Each run backs up into its own folder ($RunId: the script's parameter, or the run folder's name under
    // 'repair apply'), so a second run never mixes its backups with the first's. cmd comments say %RUNID%.
    private const string BackupRoot = @"C:\kd\backup\$RunId";

    /// <summary>The finding id of the steps that serve every finding (the snapshot before anything changes).</summary>
    public const string WholeMachine = "all";

    /// <summary>
    /// Decisions with one recommended choice a person can accept up front: KD1001, put the original MachineGuid back
    /// (every key made before the change works again; keys made since stop being found).
    /// </summary>
    public static readonly IReadOnlySet<string> Acceptable = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "KD1001" };

    public static RepairPlan Plan(ScanResult scan, RepairPlanOptions? options = null)
    {
        options ??= new RepairPlanOptions();
        var steps = new List<RepairStep>();
        var decisions = new List<Finding>();
        var state = scan.State;
        var actionable = scan.Findings
            .Where(f => f.Severity > Severity.Info && Array.IndexOf(Order, f.Id) >= 0 && f.Fix is not null)
            .OrderBy(f => Array.IndexOf(Order, f.Id)).ThenBy(f => f.Subject, StringComparer.Ordinal).ToList();
        RepairPlan Result() => new(steps, decisions)
        {
            Source = state.Source.Description,
            MachineGuid = state.MachineGuid,
            MachineGuidAfter = steps.Any(s => s.Kind == RepairStepKind.Change && s.FindingId == "KD1001")
                ? actionable.First(f => f.Id == "KD1001").Properties.GetValueOrDefault("likelyOriginalGuid") : null,
            Snapshot = options.SnapshotPath,
        };
        if (actionable.Count == 0) return Result();

        void Add(RepairStepKind kind, Finding finding, string title, string powerShell, RepairAction action, string? cmd = null,
                 string? risk = null, bool reboot = false, bool iis = false) =>
            steps.Add(new RepairStep(steps.Count + 1, kind, finding.Id, finding.Subject, title, powerShell)
            { Cmd = cmd is null ? null : CmdPath(cmd), Risk = risk, NeedsReboot = reboot, NeedsIisRestart = iis, Action = action });

        steps.Add(new RepairStep(1, RepairStepKind.Backup, WholeMachine, "the whole machine",
            "Snapshot the server before anything changes (key stores, hives, IIS configuration)",
            $@"New-Item -ItemType Directory -Force ""{BackupRoot}"" | Out-Null" + "\n" + $@"keydoctor snapshot -o ""{BackupRoot}\before-repair.zip""")
        {
            Cmd = CmdPath($@"keydoctor snapshot -o ""{BackupRoot}\before-repair.zip"""),
            Action = new SnapshotAction(),
        });

        foreach (var finding in actionable)
        {
            var fix = finding.Fix!;
            // No safe automatic fix: a person chooses (the commands are shown, commented out, with the choice).
            var accepted = fix.NeedsDecision && options.Accepted.Contains(finding.Id) && Acceptable.Contains(finding.Id);
            if ((fix.NeedsDecision && !accepted) || fix.PowerShell is null)
            {
                decisions.Add(finding);
                continue;
            }
            var group = $@"{BackupRoot}\{finding.Id}-{steps.Count + 1}";
            var change = ChangeFor(finding, state, options, group);
            if (change.Backup is { } backup) Add(RepairStepKind.Backup, finding, backup.Title, backup.PowerShell, backup.Action, backup.Cmd);
            Add(RepairStepKind.Change, finding, change.Title, change.PowerShell, change.Action, change.Cmd, fix.Risk, fix.NeedsReboot, fix.NeedsIisRestart);
            if (accepted) steps[^1] = steps[^1] with { Title = $"{change.Title} (accepted with --accept {finding.Id})" };
            Add(RepairStepKind.Verify, finding, $"Check that {finding.Id} is gone",
                $@"$after = ""{group}\after.zip""; Remove-Item -LiteralPath $after -ErrorAction SilentlyContinue" + "\n" +
                "keydoctor snapshot -o $after\n" +
                "$verify = keydoctor scan $after --json | ConvertFrom-Json\n" +
                "if ($LASTEXITCODE -ge 2) { throw 'the check could not read the server' } else { $global:LASTEXITCODE = 0 } # 1 = other findings\n" +
                $"if ($verify.findings | Where-Object {{ $_.id -eq '{finding.Id}' -and $_.subject -eq '{Quote(finding.Subject)}' }}) {{ throw '{finding.Id} is still there' }}",
                new VerifyFindingGoneAction(finding.Id, finding.Subject));
            if (change.Rollback is { } rollback) Add(RepairStepKind.Rollback, finding, rollback.Title, rollback.PowerShell, rollback.Action, rollback.Cmd);
        }
        // Only decisions: a snapshot with nothing after it is no step at all.
        if (steps.Count == 1) steps.Clear();
        return Result();
    }

    private sealed record StepText(string Title, string PowerShell, string? Cmd, RepairAction Action);

    private sealed record Change(string Title, string PowerShell, string? Cmd, RepairAction Action, StepText? Backup, StepText? Rollback);

    private static Change ChangeFor(Finding finding, MachineState state, RepairPlanOptions options, string group)
    {
        var fix = finding.Fix!;
        if (RestorableFrom(finding, state, options) is { } restore)
            return FileChange(restore, group, $"Restore {restore.Path} from the snapshot (intact there, SHA-256 {restore.Sha256[..16]}…)",
                RestorePowerShell(restore, options), RestoreCmd(restore, options));
        switch (finding.Id)
        {
            case "KD2005" when finding.Properties.TryGetValue("keyPath", out var keyPath):
            {
                var action = new RemoveCustomMetadataAction(WindowsPaths.ApplicationHostConfig, keyPath, [Formats.Iis.MetabasePropertyIds.SslCertHash, Formats.Iis.MetabasePropertyIds.SslStoreName]);
                var appcmd = $"clear config -section:system.applicationHost/customMetadata \"/[path='{keyPath}']\" /commit:apphost";
                return FileChange(action, group, fix.Summary, $"& $env:windir\\system32\\inetsrv\\appcmd.exe {appcmd}", $"%windir%\\system32\\inetsrv\\appcmd {appcmd}");
            }
            case "KD2004" when finding.Properties.TryGetValue("replacementThumbprint", out var replacement):
                return RegistryChange(finding, state, replacement, fix, options, group);
            case "KD2001" when finding.Properties.ContainsKey("keyFile"):
                return KeyLinkChange(finding, state, fix, options, group);
            case "KD1001" when finding.Properties.TryGetValue("likelyOriginalGuid", out var original):
                return MachineGuidChange(finding, original, fix, options, group);
        }
        var (backup, rollback) = LiveBackupAndRollback(finding, options, group);
        var unattended = Unattended(fix.PowerShell!);
        var inputs = InputFile().Matches(fix.PowerShell!).Select(m => m.Value.TrimEnd('.', ',', ';'))
            .SelectMany(path => path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) ? [path, path + ".password"] : new[] { path })
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return new Change(fix.Summary, unattended, fix.Cmd, new LiveOnlyAction(LiveOnlyReason(finding.Id, options.Snapshot is not null)) { RequiredInputs = inputs }, backup, rollback);
    }

    /// <summary>Files under C:\kd a step reads (not the backups it writes).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"C:\\kd\\(?!backup\\)[^\s""']+", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex InputFile();

    /// <summary>
    /// The fix as a step that runs without a person at the keyboard: certutil reads a PFX password from a file beside
    /// the PFX (never from the plan, so never in the transcript), and a step that must run as another user (the
    /// export from a user's store) becomes a comment saying it must be done first.
    /// </summary>
    private static string Unattended(string powerShell) => string.Join("\n", powerShell.Split('\n').Select(line =>
    {
        var import = PfxImport().Match(line);
        if (import.Success)
            return $"$password = Get-Content -LiteralPath '{import.Groups["pfx"].Value}.password' -TotalCount 1\n" +
                   $"certutil -f -p $password -importpfx {import.Groups["store"].Value} {import.Groups["pfx"].Value} AT_KEYEXCHANGE";
        return line.StartsWith("Export-PfxCertificate", StringComparison.Ordinal) ? $"# Before this plan runs: {line}" : line;
    }));

    [System.Text.RegularExpressions.GeneratedRegex(@"^certutil -f -importpfx (?<store>\S+) (?<pfx>\S+\.pfx) AT_KEYEXCHANGE$")]
    private static partial System.Text.RegularExpressions.Regex PfxImport();

    /// <summary>A change to files: each file is copied aside first, and put back (or removed) by the rollback.</summary>
    private static Change FileChange(RepairAction action, string group, string title, string powerShell, string cmd)
    {
        var files = action.ChangedFiles;
        var backup = new StepText($"Copy {string.Join(", ", files.Select(WindowsPaths.FileName))} aside",
            string.Join("\n", files.Select(f => BackupPowerShell(f, group))), $"mkdir \"{group}\"\n" + string.Join("\n", files.Select(f => $"copy /Y \"%SystemDrive%\\{f}\" \"{group}\\\"")),
            new BackupFilesAction(files));
        var rollback = new StepText($"Put {string.Join(", ", files.Select(WindowsPaths.FileName))} back as it was",
            string.Join("\n", files.Select(f => RollbackPowerShell(f, group))), string.Join("\n", files.Select(f => $"copy /Y \"{group}\\{WindowsPaths.FileName(f)}\" \"%SystemDrive%\\{f}\"")),
            new RestoreBackupAction(files));
        return new Change(title, powerShell, cmd, action, backup, rollback);
    }

    private static string BackupPowerShell(string path, string group)
    {
        var name = WindowsPaths.FileName(path);
        return $"New-Item -ItemType Directory -Force \"{group}\" | Out-Null\n" +
               $"if (Test-Path -LiteralPath \"$env:SystemDrive\\{path}\") {{ Copy-Item -LiteralPath \"$env:SystemDrive\\{path}\" \"{group}\\{name}\" -Force }} " +
               $"else {{ New-Item -ItemType File -Force \"{group}\\{name}.absent\" | Out-Null }}";
    }

    private static string RollbackPowerShell(string path, string group)
    {
        var name = WindowsPaths.FileName(path);
        return $"if (Test-Path -LiteralPath \"{group}\\{name}.absent\") {{ Remove-Item -LiteralPath \"$env:SystemDrive\\{path}\" -Force -ErrorAction SilentlyContinue }} " +
               $"else {{ Copy-Item -LiteralPath \"{group}\\{name}\" \"$env:SystemDrive\\{path}\" -Force }}";
    }

    private static string RestorePowerShell(RestoreFromSnapshotAction restore, RepairPlanOptions options)
    {
        var target = $"\"$env:SystemDrive\\{restore.Path}\"";
        var copy = IsZip(options.SnapshotPath)
            ? "Add-Type -AssemblyName System.IO.Compression.FileSystem\n" +
              "$zip = [IO.Compression.ZipFile]::OpenRead($Snapshot)\n" +
              $"try {{ [IO.Compression.ZipFileExtensions]::ExtractToFile($zip.GetEntry('{Quote(restore.SnapshotFile.Replace('\\', '/'))}'), {target}, $true) }} finally {{ $zip.Dispose() }}"
            : $"Copy-Item -LiteralPath (Join-Path $Snapshot '{Quote(restore.SnapshotFile)}') {target} -Force";
        return copy + $"\nif ((Get-FileHash -Algorithm SHA256 -LiteralPath {target}).Hash -ne '{restore.Sha256}') {{ throw 'the restored file does not match the snapshot' }}";
    }

    private static string RestoreCmd(RestoreFromSnapshotAction restore, RepairPlanOptions options) =>
        IsZip(options.SnapshotPath)
            ? $"REM extract {restore.SnapshotFile.Replace('\\', '/')} from {options.SnapshotPath} to %SystemDrive%\\{restore.Path}"
            : $"copy /Y \"{options.SnapshotPath}\\{restore.SnapshotFile}\" \"%SystemDrive%\\{restore.Path}\"";

    private static bool IsZip(string? path) => path is not null && path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The snapshot's copy of the file a finding is about, when it exists, parses as a healthy key file and, for a
    /// certificate's key, holds the certificate's public key. Null otherwise (the live-only fix is planned instead).
    /// </summary>
    private static RestoreFromSnapshotAction? RestorableFrom(Finding finding, MachineState state, RepairPlanOptions options)
    {
        if (options.Snapshot is not { } snapshot) return null;
        // The damaged file itself, or the file the finding says belongs there under the current MachineGuid.
        string? path = finding.Id switch
        {
            "KD1003" => finding.Subject,
            "KD1002" or "KD2008" or "KD2009" or "KD3001" => finding.Properties.GetValueOrDefault("keyFile"),
            _ => null,
        };
        if (path is null || RepairFiles.ReadKeyFile(snapshot, path) is not { } read) return null;
        var (snapshotPath, data) = read;
        var report = KeyFileInspector.Inspect(WindowsPaths.FileName(path), data, data.Length, machineGuid: Guid.TryParse(state.MachineGuid, out var guid) ? guid : null).Report;
        if (MachineState.IsDamaged(report.Status)) return null;
        if (finding.Properties.TryGetValue("publicKeySha256", out var expected)
            && !string.Equals(expected, report.PublicKeySha256, StringComparison.OrdinalIgnoreCase)) return null;
        if (finding.Id == "KD1002" && !report.KeySpecs.Contains(Formats.KeyFiles.KeySpec.Signature)) return null;
        return new RestoreFromSnapshotAction(path, snapshotPath, RepairFiles.Sha256(data));
    }

    /// <summary>KD2004 with a replacement certificate: the binding's SslCertHash, as .reg text with its undo.</summary>
    private static Change RegistryChange(Finding finding, MachineState state, string replacement, Fix fix, RepairPlanOptions options, string group)
    {
        var binding = state.HttpSysBindings.First(b => b.Endpoint == finding.Properties["endpoint"]);
        var key = $@"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\{HttpSysBindingListName(binding.Kind)}\{binding.Endpoint}";
        string Reg(string hash) => RegText(key, "SslCertHash", Convert.FromHexString(hash));
        var action = new RegistryChangeAction($"HTTP.sys binding {binding.Endpoint}: SslCertHash {binding.CertificateHash} -> {replacement}", Reg(replacement), Reg(binding.CertificateHash!));
        return RegistryBacked(finding, options, group, fix.Summary, fix.PowerShell!, fix.Cmd, action, "HTTP.sys parameters");
    }

    /// <summary>
    /// KD2001 with the key still in MachineKeys: what <c>certutil -repairstore</c> does, offline. The certificate's
    /// registry Blob gains a CERT_KEY_PROV_INFO property naming the container (machine key set, the key spec the file
    /// holds, Microsoft's enhanced RSA and AES provider, which opens every CryptoAPI RSA machine container); the undo
    /// .reg holds the Blob as it was.
    /// </summary>
    private static Change KeyLinkChange(Finding finding, MachineState state, Fix fix, RepairPlanOptions options, string group)
    {
        var thumbprint = finding.Properties["thumbprint"];
        var store = finding.Properties["store"];
        var stored = state.Certificates.First(c => c.Thumbprint.Equals(thumbprint, StringComparison.OrdinalIgnoreCase)
                                                   && c.Store.Equals(store, StringComparison.OrdinalIgnoreCase) && c.Entry is not null);
        var link = new KeyProviderInfo(finding.Properties["container"], EnhancedRsaAesProvider, ProvRsaAes, KeyProviderInfo.MachineKeySetFlag,
            uint.Parse(finding.Properties["keySpec"], System.Globalization.CultureInfo.InvariantCulture), []);
        var relinked = SerializedCertificateEntry.Serialize(stored.Entry!.WithProperty(CertificatePropertyIds.KeyProviderInfo, link.Serialize()));
        var original = SerializedCertificateEntry.Serialize(stored.Entry.Properties);
        var key = $@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SystemCertificates\{store}\Certificates\{stored.KeyName}";
        var action = new RegistryChangeAction($"certificate {thumbprint}: key link to container {link.ContainerName} ({finding.Properties["keyFile"]})",
            RegText(key, "Blob", relinked), RegText(key, "Blob", original));
        return RegistryBacked(finding, options, group, fix.Summary, fix.PowerShell!, fix.Cmd, action, "certificate stores");
    }

    /// <summary>
    /// KD1001 accepted: MachineGuid set back to the GUID most key files carry. The reboot the fix ends with is left to
    /// the end of the run (the plan says a reboot is needed), so the check after the change can still run.
    /// </summary>
    private static Change MachineGuidChange(Finding finding, string original, Fix fix, RepairPlanOptions options, string group)
    {
        const string key = @"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography";
        string Reg(string guid) => RegExportWriter.ToText(new WritableKey("value").SetString("MachineGuid", guid), key, recursive: false);
        var action = new RegistryChangeAction($"MachineGuid {finding.Subject} -> {original}", Reg(original), Reg(finding.Subject));
        string WithoutReboot(string lines, string reboot) =>
            string.Join("\n", lines.Split('\n').Where(line => !line.StartsWith(reboot, StringComparison.OrdinalIgnoreCase)));
        return RegistryBacked(finding, options, group, $"Put the original MachineGuid {original} back",
            WithoutReboot(fix.PowerShell!, "Restart-Computer"), WithoutReboot(fix.Cmd!, "shutdown"), action, "Cryptography key");
    }

    /// <summary>
    /// A registry change: live, the key is exported before and imported back by the rollback; on an image the change
    /// is a .reg file whose undo .reg is its backup, so those two steps have nothing to do there.
    /// </summary>
    private static Change RegistryBacked(Finding finding, RepairPlanOptions options, string group, string title, string powerShell,
                                         string? cmd, RegistryChangeAction action, string saved)
    {
        var (backup, rollback) = LiveBackupAndRollback(finding, options, group);
        return new Change(title, powerShell, cmd, action,
            backup! with { Action = new LiveOnlyAction($"reg export of the {saved}; on an image the undo .reg is written with the change") },
            rollback! with { Action = new LiveOnlyAction($"reg import of the saved {saved}; on an image import the undo .reg") });
    }

    private const string EnhancedRsaAesProvider = "Microsoft Enhanced RSA and AES Cryptographic Provider";
    private const uint ProvRsaAes = 24;

    /// <summary>One binary value of one key as a REGEDIT5 file's text, for <c>reg import</c>.</summary>
    private static string RegText(string keyPath, string valueName, byte[] data) =>
        RegExportWriter.ToText(new WritableKey("value").Set(valueName, RegistryValueType.Binary, data), keyPath, recursive: false);

    private static string HttpSysBindingListName(HttpSysBindingKind kind) => kind switch
    {
        HttpSysBindingKind.Sni => "SslSniBindingInfo",
        HttpSysBindingKind.CentralCertificateStore => "SslCcsBindingInfo",
        _ => "SslBindingInfo",
    };

    private static string LiveOnlyReason(string findingId, bool snapshotGiven)
    {
        var noCopy = snapshotGiven ? "the snapshot holds no intact copy of the key file"
            : "no snapshot to restore the key file from was given (repair plan --snapshot)";
        return findingId switch
        {
            "KD1004" => "NTFS permissions, compression and EFS can only be changed by Windows on the live volume",
            "KD1002" or "KD3001" => $"importing a key set needs CryptoAPI on the server (and the key set file); {noCopy}",
            "KD1003" => $"{noCopy}; restore it from a backup on the server",
            "KD2001" => "re-linking a certificate to its key (certutil -repairstore) needs CryptoAPI on the server",
            "KD2009" => $"re-linking a certificate to its key (certutil -repairstore) needs CryptoAPI on the server; {noCopy}",
            "KD2002" => "the key is protected by the user's DPAPI keys; export it as that user, or use 'keydoctor recover' with the password",
            "KD2003" => "importing a PFX needs CryptoAPI on the server (and the PFX)",
            "KD2008" => $"importing a PFX needs CryptoAPI on the server (and the PFX); {noCopy}",
            "KD2004" or "KD2006" => "netsh changes HTTP.sys on the running server",
            _ => "needs the running Windows server",
        };
    }

    /// <summary>
    /// The live backup and rollback of a change, each in the finding's own folder under C:\kd\backup (so a second
    /// finding's backup never overwrites the first's). Key folders are copied with robocopy /B /COPY:DATSO so the
    /// key files' ACLs come back too, and mirrored back so a container the change created goes again.
    /// </summary>
    private static (StepText? Backup, StepText? Rollback) LiveBackupAndRollback(Finding finding, RepairPlanOptions options, string group)
    {
        var live = new LiveOnlyAction(LiveOnlyReason(finding.Id, options.Snapshot is not null));
        var folder = $"New-Item -ItemType Directory -Force \"{group}\" | Out-Null\n";
        const string robocopyOk = "if ($LASTEXITCODE -lt 8) { $global:LASTEXITCODE = 0 } # robocopy: 0-7 mean success";
        const string machineKeys = @"%ProgramData%\Microsoft\Crypto\RSA\MachineKeys";
        const string psMachineKeys = @"$env:ProgramData\Microsoft\Crypto\RSA\MachineKeys";
        return finding.Id switch
        {
            "KD1001" => (new StepText("Save the Cryptography key", $@"{folder}reg export HKLM\SOFTWARE\Microsoft\Cryptography ""{group}\Cryptography.reg"" /y", $@"reg export HKLM\SOFTWARE\Microsoft\Cryptography ""{group}\Cryptography.reg"" /y", live),
                         new StepText("Put the MachineGuid back as it was", $@"reg import ""{group}\Cryptography.reg""", $@"reg import ""{group}\Cryptography.reg""", live)),
            "KD1004" => (new StepText("Save the MachineKeys ACL", $"{folder}icacls \"{psMachineKeys}\" /save \"{group}\\MachineKeys.acl\"", $"icacls \"{machineKeys}\" /save \"{group}\\MachineKeys.acl\"", live),
                         new StepText("Restore the saved ACL", $"icacls \"$env:ProgramData\\Microsoft\\Crypto\\RSA\" /restore \"{group}\\MachineKeys.acl\"", $"icacls \"%ProgramData%\\Microsoft\\Crypto\\RSA\" /restore \"{group}\\MachineKeys.acl\"", live)),
            "KD2004" or "KD2006" => (new StepText("Save the HTTP.sys SSL bindings", $"{folder}netsh http show sslcert > \"{group}\\sslcert.txt\"\nreg export HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters \"{group}\\http.reg\" /y", $"reg export HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters \"{group}\\http.reg\" /y", live),
                         new StepText("Restore the HTTP.sys bindings", $"reg import \"{group}\\http.reg\"\nRestart-Service HTTP -Force", $"reg import \"{group}\\http.reg\"", live)),
            "KD1002" or "KD1003" or "KD2008" or "KD2002" or "KD2003" or "KD2009" or "KD2001" or "KD3001" =>
                (new StepText("Save the certificate stores and key folder" + (KeyToExport(finding) is { } exported ? $", and export the key set of {exported} while it is readable" : ""),
                    folder + ExportPowerShell(finding, group) +
                    $"robocopy \"{psMachineKeys}\" \"{group}\\MachineKeys\" /E /B /COPY:DATSO /R:1 /W:1 /NP /NFL /NDL\n{robocopyOk}\n" +
                    $"reg export HKLM\\SOFTWARE\\Microsoft\\SystemCertificates \"{group}\\SystemCertificates.reg\" /y",
                    $"robocopy \"{machineKeys}\" \"{group}\\MachineKeys\" /E /B /COPY:DATSO\nreg export HKLM\\SOFTWARE\\Microsoft\\SystemCertificates \"{group}\\SystemCertificates.reg\" /y", live),
                 new StepText("Put the key files and certificate stores back",
                    $"robocopy \"{group}\\MachineKeys\" \"{psMachineKeys}\" /MIR /B /COPY:DATSO /R:1 /W:1 /NP /NFL /NDL\n{robocopyOk}\nreg import \"{group}\\SystemCertificates.reg\"",
                    $"robocopy \"{group}\\MachineKeys\" \"{machineKeys}\" /MIR /B /COPY:DATSO\nreg import \"{group}\\SystemCertificates.reg\"", live)),
            _ => (null, null),
        };
    }

    /// <summary>The container whose key a change replaces, exported first where it is still readable.</summary>
    private static string? KeyToExport(Finding finding) => finding.Id switch
    {
        "KD1002" => "Microsoft Internet Information Server",
        "KD2003" or "KD2009" => finding.Properties.GetValueOrDefault("container"),
        _ => null,
    };

    // A key that cannot be read (the very damage being fixed) is no reason to stop: the file copy is the backup then.
    private static string ExportPowerShell(Finding finding, string group) => KeyToExport(finding) is { } container
        ? $"keydoctor keys export '{Quote(container)}' -o \"{group}\\{SafeFileName(container)}.xml\"\n" +
          "if ($LASTEXITCODE) { Write-Warning 'the key set could not be exported (unreadable); the copy of the key folder is the backup'; $global:LASTEXITCODE = 0 }\n"
        : "";

    private static string SafeFileName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));

    private static string Quote(string text) => text.Replace("'", "''");

    private static string CmdPath(string cmd) => cmd.Replace("$RunId", "%RUNID%", StringComparison.Ordinal);
}
