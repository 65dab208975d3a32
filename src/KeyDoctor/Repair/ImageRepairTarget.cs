using System.Text;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Collection;

namespace KeyDoctor.Repair;

/// <summary>
/// Applies a plan to an image folder (a mounted or copied system drive): file-level changes (key files restored
/// from a snapshot, precise applicationHost.config edits) are made after copying each file aside; registry changes
/// are written as .reg files (and their undo) for a person to import on the server; everything else is refused.
/// </summary>
public sealed class ImageRepairTarget : IRepairTarget
{
    private readonly string _root;
    private readonly Func<IMachineSource>? _openSnapshot;
    private readonly IReadOnlyList<Diagnosis.Commands.RequiredInput> _inputs;
    private ScanResult? _scan;

    /// <param name="root">The image folder; it is changed in place.</param>
    /// <param name="openSnapshot">Opens the snapshot key files are restored from (null when the plan names none).</param>
    /// <param name="inputs">The plan's inputs, filled (a key file a person brought, read from this machine).</param>
    public ImageRepairTarget(string root, Func<IMachineSource>? openSnapshot, IReadOnlyList<Diagnosis.Commands.RequiredInput>? inputs = null)
    {
        _inputs = inputs ?? [];
        if (!Directory.Exists(root)) throw new InputPathException($"there is no image folder {root}: give --image the root of the mounted or copied system drive.");
        if (File.Exists(Path.Combine(root, BundleManifest.FileName)))
            throw new InvalidOperationException($"{root} is an extracted bundle, which is evidence: apply the plan to the server's disk, not to a copy of what was collected");
        _root = Path.GetFullPath(root);
        _openSnapshot = openSnapshot;
    }

    public string Description => $"image {_root}";

    // From the registry alone: a clean-up plan of a million key files needs no full scan to check the machine.
    public string? MachineGuid => _machineGuid ??= ReadMachineGuid();

    private string? _machineGuid;

    private string? ReadMachineGuid()
    {
        try
        {
            return WindowsRegistry.OpenImage(_root).MachineGuid?.Trim();
        }
        catch (Exception ex) when (ex is Formats.MalformedDataException or IOException)
        {
            return null;
        }
    }

    public string? LocalFolder(string windowsPath) =>
        new CaseInsensitivePathResolver(_root).Resolve(windowsPath) is { } local && Directory.Exists(local) ? local : null;

    /// <summary>The local folder for a Windows folder path, created when it is not there (a quarantine going back).</summary>
    private string LocalFolderForWrite(string windowsPath)
    {
        if (LocalFolder(windowsPath) is { } existing) return existing;
        var file = LocalPathForWrite(windowsPath + @"\placeholder");
        return Path.GetDirectoryName(file)!;
    }

    public bool IsFindingPresent(string findingId, string subject) =>
        Scan().Findings.Any(f => f.Id == findingId && f.Subject == subject);

    public string? CannotApply(RepairStep change) => change.Action switch
    {
        CopyKeyFileAction { Source.SnapshotEntry: not null } when _openSnapshot is null => "the plan names no snapshot",
        CopyKeyFileAction { Source.Input: { } input } when InputValue(input) is not { } path || !File.Exists(path) =>
            $"input {input} is not there on this machine",
        CopyKeyFileAction copy when KeyFileRefusal(copy) is { } refusal => refusal,
        PutBackMachineGuidAction guid when guid.Copies.Select(c => LocalPath(c.Target)).FirstOrDefault(p => p is not null) is { } taken =>
            $"{taken} exists now: the key file made since the GUID change cannot be carried forward over it (make a new plan)",
        QuarantineKeyFilesAction quarantine when LocalFolder(quarantine.Folder) is null => $"{quarantine.Folder} is not in the image",
        CopyKeyFileAction or PutBackMachineGuidAction or RemoveCustomMetadataAction or RegistryChangeAction or QuarantineKeyFilesAction or ReleaseQuarantineAction => null,
        LiveOnlyAction live => $"not on an image: {live.Reason}",
        null => "the plan gives no action for this step (made by an older keydoctor?)",
        _ => $"not on an image: {change.Action.GetType().Name}",
    };

    private string? InputValue(string name) => _inputs.FirstOrDefault(i => i.Name == name)?.Value;

    private string? KeyFileRefusal(CopyKeyFileAction copy) =>
        new KeyFileReplaceRule(copy.ReplaceSha256, copy.ReplaceDamaged).Refusal(copy.Target, LocalPath(copy.Target) is { } local ? File.ReadAllBytes(local) : null);

    public StepOutcome Run(RepairStep step, RepairRun run)
    {
        StepOutcome Done(string detail, StepOutcomeKind kind = StepOutcomeKind.Done) =>
            new(step.Order, step.Kind, step.FindingId, step.Subject, kind, detail);
        switch (step.Action)
        {
            case SnapshotAction:
            {
                var zip = Path.Combine(run.Folder, "before-repair.zip");
                var plan = CollectionPlanner.Plan(new CollectionOptions { IncludeEventLogs = false });
                var manifest = new BundleCollector(new ImageCollectionHost(_root), "repair").Collect(plan, zip, "snapshot");
                return Done($"snapshot of {manifest.Files.Count} files in {zip}");
            }
            case BackupAction backup:
                foreach (var path in backup.Paths) BackUp(path, run);
                // Registry values and certificate entries are undone by the undo .reg written with the change.
                return Done(backup.Paths.Count == 0 ? "nothing to copy on an image (the undo .reg is written with the change)"
                    : $"copied aside: {string.Join(", ", backup.Paths)}");
            case RestoreBackupAction restore:
            {
                var problems = restore.Paths.Select(run.Journal.PendingBackupOf)
                    .OfType<JournalFileBackup>().Reverse().Select(f => RestoreFromBackup(f, run, force: true)).OfType<string>().ToList();
                _scan = null;
                return problems.Count == 0 ? Done(restore.Paths.Count == 0 ? "nothing to put back on an image (import the undo .reg if the .reg was imported)" : $"put back: {string.Join(", ", restore.Paths)}")
                    : Done(string.Join("; ", problems), StepOutcomeKind.Failed);
            }
            case CopyKeyFileAction copy:
            {
                var (name, content) = ReadSource(copy.Source);
                if (copy.Sha256 is not null && !RepairFiles.HasSha256(content, copy.Sha256))
                    throw new InvalidOperationException($"{name} is not the file the plan was made with (SHA-256 differs)");
                if (KeyFileReplaceRule.IsDamaged(WindowsPaths.FileName(copy.Target), content)) throw new InvalidOperationException($"{name} is not an intact key file");
                if (KeyFileRefusal(copy) is { } refusal) throw new InvalidOperationException(refusal);
                Write(copy.Target, content, run);
                return Done($"wrote {copy.Target} ({content.Length} bytes) from {name}, checked by SHA-256");
            }
            case PutBackMachineGuidAction guid:
            {
                foreach (var carried in guid.Copies)
                {
                    var source = LocalPath(carried.Path) ?? throw new InvalidOperationException($"{carried.Path} is not in the image any more");
                    if (LocalPath(carried.Target) is not null) throw new InvalidOperationException($"{carried.Target} exists now; not replacing it");
                    Write(carried.Target, File.ReadAllBytes(source), run);
                }
                var name = $"{step.Order:D3}-{step.FindingId}";
                var change = run.WritePrivateFile($"{name}.reg", RegExportWriter.ToFileBytes(guid.RegText));
                run.WritePrivateFile($"{name}-undo.reg", RegExportWriter.ToFileBytes(guid.UndoRegText));
                run.Journal.RegistryFiles.Add(change);
                run.SaveJournal();
                return Done($"copied {guid.Copies.Count} key file(s) to the original GUID's name; MachineGuid {guid.Current} -> {guid.Original}: import {change} on the server (reg import), undo with {name}-undo.reg",
                    StepOutcomeKind.Written);
            }
            case RemoveCustomMetadataAction edit:
            {
                var local = LocalPath(edit.ConfigPath) ?? throw new InvalidOperationException($"{edit.ConfigPath} is not in the image");
                var edited = CustomMetadataEditor.RemoveProperties(File.ReadAllBytes(local), edit.KeyPath, edit.PropertyIds);
                if (edited is null) return Done($"{edit.ConfigPath} has no such properties under {edit.KeyPath}", StepOutcomeKind.Skipped);
                Write(edit.ConfigPath, edited, run);
                return Done($"removed what there was of properties {string.Join(", ", edit.PropertyIds)} in customMetadata key {edit.KeyPath} of {edit.ConfigPath}");
            }
            case RegistryChangeAction registry:
            {
                var name = $"{step.Order:D3}-{step.FindingId}";
                var change = run.WritePrivateFile($"{name}.reg", RegExportWriter.ToFileBytes(registry.RegText));
                run.WritePrivateFile($"{name}-undo.reg", RegExportWriter.ToFileBytes(registry.UndoRegText));
                run.Journal.RegistryFiles.Add(change);
                run.SaveJournal();
                return Done($"{registry.Description}: import {change} on the server (reg import), undo with {name}-undo.reg", StepOutcomeKind.Written);
            }
            case QuarantineKeyFilesAction quarantine:
                return Done(KeyQuarantineSteps.Quarantine(run, quarantine, LocalFolder(quarantine.Folder)
                    ?? throw new InvalidOperationException($"{quarantine.Folder} is not in the image")));
            case ReleaseQuarantineAction release:
            {
                var (detail, failed) = KeyQuarantineSteps.Release(run, release.Folder, release.Quarantine, LocalFolderForWrite(release.Folder));
                return Done(detail, failed ? StepOutcomeKind.Failed : StepOutcomeKind.Done);
            }
            case VerifyFindingGoneAction:
                return Done("checked by the runner");
            case LiveOnlyAction live when step.Kind is RepairStepKind.Backup or RepairStepKind.Rollback:
                // The backup of a change an image can make comes with the change (the undo .reg); nothing to do here.
                return Done($"not needed on an image ({live.Reason})", StepOutcomeKind.Skipped);
            case LiveOnlyAction live:
                return Done($"not on an image: {live.Reason}", StepOutcomeKind.Refused);
            default:
                return Done("the plan gives no action for this step", StepOutcomeKind.Refused);
        }
    }

    /// <summary>The bytes a key file is copied from: a file in the image, an entry of the snapshot, or an input on this machine.</summary>
    private (string Name, byte[] Content) ReadSource(KeySource source)
    {
        if (source.SnapshotEntry is { } entry)
        {
            using var snapshot = (_openSnapshot ?? throw new InvalidOperationException("the plan names no snapshot"))();
            var (_, content) = RepairFiles.ReadKeyFile(snapshot, entry)
                               ?? throw new InvalidOperationException($"{entry} is not in the snapshot (or too large to be a key file)");
            return ($"{entry} in the snapshot", content);
        }
        var path = source.MachinePath is { } machinePath
            ? LocalPath(machinePath) ?? throw new InvalidOperationException($"{machinePath} is not in the image")
            : InputValue(source.Input!) ?? throw new InvalidOperationException($"input {source.Input} is not filled in");
        if (new FileInfo(path).Length > Machine.KeyStore.KeyFileInspector.MaxKeyFileLength)
            throw new InvalidOperationException($"{path} is too large to be a key file");
        return (path, File.ReadAllBytes(path));
    }

    /// <summary>Puts back every file an earlier run changed in this image (see <see cref="RepairRunner.Rollback"/>).</summary>
    public RollbackResult Rollback(RepairRun run, bool force)
    {
        if (!force && run.Journal.Target != Description)
            throw new InvalidOperationException($"the run changed {run.Journal.Target}, not {Description}; give the folder it changed (--force if the same disk is mounted elsewhere now)");
        var result = RepairRunner.Rollback(run, file => RestoreFromBackup(file, run, force));
        var restored = result.Restored.ToList();
        var problems = result.Problems.ToList();
        foreach (var quarantine in Enumerable.Reverse(run.Journal.Quarantines).Where(q => !q.RolledBack).ToList())
        {
            var (detail, failed) = KeyQuarantineSteps.Release(run, quarantine.Folder, quarantine.Quarantine, LocalFolderForWrite(quarantine.Folder));
            (failed ? problems : restored).Add(detail);
        }
        _scan = null;
        return new RollbackResult(restored, problems);
    }

    private ScanResult Scan()
    {
        if (_scan is null)
        {
            using var source = new FolderMachineSource(_root, MachineSourceKind.Image, Description);
            _scan = Scanner.Scan(source);
        }
        return _scan;
    }

    private void BackUp(string path, RepairRun run)
    {
        // Only the first copy counts: it is the state before this run touched the file.
        if (run.Journal.PendingBackupOf(path) is not null) return;
        var local = LocalPath(path);
        JournalFileBackup entry;
        if (local is null)
            entry = new JournalFileBackup(path, Existed: false, BackupFile: null, Sha256Before: null);
        else
        {
            var content = File.ReadAllBytes(local);
            var backupFile = Path.Combine("backup", $"{run.Journal.Files.Count:D3}-{WindowsPaths.FileName(path)}");
            run.WritePrivateFile(backupFile, content);
            entry = new JournalFileBackup(path, Existed: true, backupFile, RepairFiles.Sha256(content));
        }
        // Journal first, change second: a crash between the two leaves a journal the rollback can use.
        run.Journal.Files.Add(entry);
        run.SaveJournal();
    }

    private string? RestoreFromBackup(JournalFileBackup file, RepairRun run, bool force)
    {
        var local = LocalPath(file.Path);
        if (!force && file.Sha256After is { } after
            && (local is null || !RepairFiles.HasSha256(File.ReadAllBytes(local), after)))
            return local is null ? $"{file.Path} is gone since the repair; not restoring it (use --force)"
                : $"{file.Path} changed again after the repair; not overwriting it (use --force)";
        if (!file.Existed)
        {
            if (local is not null) File.Delete(local);
        }
        else
        {
            var content = File.ReadAllBytes(Path.Combine(run.Folder, file.BackupFile!));
            if (!RepairFiles.HasSha256(content, file.Sha256Before))
                return $"the backup of {file.Path} in {run.Folder} is damaged (SHA-256 differs); not restoring it";
            WriteInPlace(local ?? LocalPathForWrite(file.Path), content);
        }
        file.RolledBack = true;
        run.SaveJournal();
        _scan = null;
        return null;
    }

    private void Write(string path, byte[] content, RepairRun run)
    {
        var entry = run.Journal.PendingBackupOf(path) ?? throw new InvalidOperationException($"{path} was not backed up; refusing to change it");
        WriteInPlace(LocalPath(path) ?? LocalPathForWrite(path), content);
        entry.Sha256After = RepairFiles.Sha256(content);
        run.SaveJournal();
        _scan = null;
    }

    // Writes through a temporary file beside the target, so a crash never leaves a half-written key file.
    private static void WriteInPlace(string local, byte[] content)
    {
        var temp = local + ".keydoctor-tmp";
        File.WriteAllBytes(temp, content);
        File.Move(temp, local, overwrite: true);
    }

    private string? LocalPath(string windowsPath) =>
        new CaseInsensitivePathResolver(_root).Resolve(windowsPath) is { } local && File.Exists(local) ? local : null;

    /// <summary>Where a file that does not exist yet goes: existing folders in their own case, new ones created.</summary>
    private string LocalPathForWrite(string windowsPath)
    {
        var parts = WindowsPaths.Normalize(windowsPath).Split('\\', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or "..")) throw new InvalidOperationException($"not a path inside the image: {windowsPath}");
        var resolver = new CaseInsensitivePathResolver(_root);
        var folder = _root;
        for (var i = 1; i < parts.Length; i++)
        {
            var existing = resolver.Resolve(string.Join('\\', parts[..i]));
            folder = existing is not null && Directory.Exists(existing) ? existing : Path.Combine(folder, parts[i - 1]);
        }
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, parts[^1]);
    }
}
