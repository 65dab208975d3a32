using System.Text.Json.Serialization;

namespace KeyDoctor.Repair;

/// <summary>
/// What a plan step does, in a form a program can carry out (the PowerShell of the step is the same thing for a
/// person). <c>repair apply</c> on an image folder performs the file-level actions itself, turns registry actions into
/// .reg files for a person to import, and refuses <see cref="LiveOnlyAction"/>s with their reason.
/// Paths are Windows paths relative to the system drive (<see cref="Machine.WindowsPaths"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SnapshotAction), "snapshot")]
[JsonDerivedType(typeof(BackupFilesAction), "backupFiles")]
[JsonDerivedType(typeof(RestoreFromSnapshotAction), "restoreFromSnapshot")]
[JsonDerivedType(typeof(RemoveCustomMetadataAction), "removeCustomMetadata")]
[JsonDerivedType(typeof(RegistryChangeAction), "registryChange")]
[JsonDerivedType(typeof(VerifyFindingGoneAction), "verifyFindingGone")]
[JsonDerivedType(typeof(RestoreBackupAction), "restoreBackup")]
[JsonDerivedType(typeof(LiveOnlyAction), "liveOnly")]
public abstract record RepairAction
{
    /// <summary>Files in the machine this action changes (empty for registry and live-only actions).</summary>
    [JsonIgnore] public virtual IReadOnlyList<string> ChangedFiles => [];
}

/// <summary>A snapshot of the whole machine (key stores, hives, IIS configuration) before anything changes.</summary>
public sealed record SnapshotAction : RepairAction;

/// <summary>Copies the named files aside so the rollback can put them back byte for byte.</summary>
public sealed record BackupFilesAction(IReadOnlyList<string> Paths) : RepairAction;

/// <summary>Puts the backed-up files back (and removes files that did not exist before).</summary>
public sealed record RestoreBackupAction(IReadOnlyList<string> Paths) : RepairAction;

/// <summary>
/// Writes <see cref="Path"/> with the copy of the same file in a snapshot taken earlier (<see cref="SnapshotFile"/>),
/// whose content must still hash to <see cref="Sha256"/>: a key file lost or damaged since the snapshot.
/// </summary>
public sealed record RestoreFromSnapshotAction(string Path, string SnapshotFile, string Sha256) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<string> ChangedFiles => [Path];
}

/// <summary>
/// Removes the customMetadata properties <see cref="PropertyIds"/> of key <see cref="KeyPath"/> from an
/// applicationHost.config (and the key when nothing is left in it); every other byte of the file is kept.
/// </summary>
public sealed record RemoveCustomMetadataAction(string ConfigPath, string KeyPath, IReadOnlyList<uint> PropertyIds) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<string> ChangedFiles => [ConfigPath];
}

/// <summary>
/// A registry change as REGEDIT5 text (<see cref="RegText"/>, with <c>HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet</c>
/// paths as <c>reg import</c> expects), and the text that undoes it (<see cref="UndoRegText"/>, from the values read).
/// </summary>
public sealed record RegistryChangeAction(string Description, string RegText, string UndoRegText) : RepairAction;

/// <summary>Re-reads the machine and checks that finding <see cref="FindingId"/> about <see cref="Subject"/> is gone.</summary>
public sealed record VerifyFindingGoneAction(string FindingId, string Subject) : RepairAction;

/// <summary>
/// A change only the running Windows machine can make (CryptoAPI, NTFS ACLs and attributes, netsh, appcmd).
/// <see cref="RequiredInputs"/> are files a person must put on the server first (a PFX and its password file, a
/// key set); the step is refused while one is missing, so a missing file never triggers a rollback of other steps.
/// </summary>
public sealed record LiveOnlyAction(string Reason) : RepairAction
{
    public IReadOnlyList<string> RequiredInputs { get; init; } = [];
}
