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
    private ScanResult? _scan;

    /// <param name="root">The image folder; it is changed in place.</param>
    /// <param name="openSnapshot">Opens the snapshot key files are restored from (null when the plan names none).</param>
    public ImageRepairTarget(string root, Func<IMachineSource>? openSnapshot)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"no such image folder: {root}");
        if (File.Exists(Path.Combine(root, BundleManifest.FileName)))
            throw new InvalidOperationException($"{root} is an extracted bundle, which is evidence: apply the plan to the server's disk, not to a copy of what was collected");
        _root = Path.GetFullPath(root);
        _openSnapshot = openSnapshot;
    }

    public string Description => $"image {_root}";

    public string? MachineGuid => Scan().State.MachineGuid;

    public bool IsFindingPresent(string findingId, string subject) =>
        Scan().Findings.Any(f => f.Id == findingId && f.Subject == subject);

    public string? CannotApply(RepairStep change) => change.Action switch
    {
        RestoreFromSnapshotAction => _openSnapshot is null ? "the plan names no snapshot" : null,
        RemoveCustomMetadataAction or RegistryChangeAction => null,
        LiveOnlyAction live => $"not on an image: {live.Reason}",
        null => "the plan gives no action for this step (made by an older keydoctor?)",
        _ => $"not on an image: {change.Action.GetType().Name}",
    };

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
            case BackupFilesAction backup:
                foreach (var path in backup.Paths) BackUp(path, run);
                return Done($"copied aside: {string.Join(", ", backup.Paths)}");
            case RestoreBackupAction restore:
            {
                var problems = restore.Paths.Select(run.Journal.PendingBackupOf)
                    .OfType<JournalFileBackup>().Select(f => RestoreFromBackup(f, run, force: true)).OfType<string>().ToList();
                _scan = null;
                return problems.Count == 0 ? Done($"put back: {string.Join(", ", restore.Paths)}")
                    : Done(string.Join("; ", problems), StepOutcomeKind.Failed);
            }
            case RestoreFromSnapshotAction restore:
            {
                using var snapshot = (_openSnapshot ?? throw new InvalidOperationException("the plan names no snapshot"))();
                var (_, content) = RepairFiles.ReadKeyFile(snapshot, restore.SnapshotFile)
                              ?? throw new InvalidOperationException($"{restore.SnapshotFile} is not in the snapshot (or too large to be a key file)");
                if (!RepairFiles.HasSha256(content, restore.Sha256))
                    throw new InvalidOperationException($"{restore.SnapshotFile} in the snapshot is not the file the plan was made with (SHA-256 differs)");
                Write(restore.Path, content, run);
                return Done($"restored {restore.Path} ({content.Length} bytes) from the snapshot");
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

    /// <summary>Puts back every file an earlier run changed in this image (see <see cref="RepairRunner.Rollback"/>).</summary>
    public RollbackResult Rollback(RepairRun run, bool force)
    {
        if (!force && run.Journal.Target != Description)
            throw new InvalidOperationException($"the run changed {run.Journal.Target}, not {Description}; give the folder it changed (--force if the same disk is mounted elsewhere now)");
        var result = RepairRunner.Rollback(run, file => RestoreFromBackup(file, run, force));
        _scan = null;
        return result;
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
