using System.Text.Json.Serialization;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Repair;

/// <summary>
/// What a plan step does, typed so a program can carry it out, and expanded to the <see cref="Commands"/> the live
/// server and the plan's scripts run (rendered for PowerShell and cmd from that one list). <c>repair apply</c> on an
/// image folder performs the file-level actions itself, turns registry actions into .reg files for a person to
/// import, and refuses <see cref="LiveOnlyAction"/>s with their reason.
/// Paths are Windows paths relative to the system drive (<see cref="Machine.WindowsPaths"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SnapshotAction), "snapshot")]
[JsonDerivedType(typeof(BackupAction), "backup")]
[JsonDerivedType(typeof(RestoreBackupAction), "restoreBackup")]
[JsonDerivedType(typeof(CopyKeyFileAction), "copyKeyFile")]
[JsonDerivedType(typeof(PutBackMachineGuidAction), "putBackMachineGuid")]
[JsonDerivedType(typeof(RemoveCustomMetadataAction), "removeCustomMetadata")]
[JsonDerivedType(typeof(RegistryChangeAction), "registryChange")]
[JsonDerivedType(typeof(VerifyFindingGoneAction), "verifyFindingGone")]
[JsonDerivedType(typeof(LiveOnlyAction), "liveOnly")]
[JsonDerivedType(typeof(QuarantineKeyFilesAction), "quarantineKeyFiles")]
[JsonDerivedType(typeof(ReleaseQuarantineAction), "releaseQuarantine")]
public abstract record RepairAction
{
    /// <summary>The commands the live server and the scripts run for this action, in order.</summary>
    [JsonIgnore] public abstract IReadOnlyList<ShellCommand> Commands { get; }

    /// <summary>Files in the machine this action changes, creates or removes (empty for registry and live-only actions).</summary>
    [JsonIgnore] public virtual IReadOnlyList<string> ChangedFiles => [];

    /// <summary>The key file the action creates or replaces; <c>repair apply</c> refuses when it exists and is not proven bad.</summary>
    [JsonIgnore] public virtual KeyFileWrite? WritesKeyFile => null;
}

/// <summary>A key file an action writes, and what proves an existing one may be replaced (null: it must not exist).</summary>
public sealed record KeyFileWrite(string Path, string? ReplaceProof);

/// <summary>
/// A snapshot of the whole machine (key stores, hives, IIS configuration) before anything changes: the evidence the
/// admin keeps, written owner-only into the run's backup folder. At most one per run.
/// </summary>
public sealed record SnapshotAction : RepairAction
{
    public const string FileName = "before-repair.zip";

    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands =>
        [FixCommands.KeyDoctor("snapshot", "-o", CommandArg.Path(ArgToken.BackupRoot, FileName))];
}

/// <summary>
/// Copies exactly the files and registry values a change touches, by name, into the step's own folder of the run
/// (<c>keydoctor repair backup</c>, with a manifest of each name, whether it existed, and its SHA-256).
/// </summary>
public sealed record BackupAction(string Folder, IReadOnlyList<string> Paths) : RepairAction
{
    /// <summary>Registry values as <c>HKLM\key:value</c>.</summary>
    public IReadOnlyList<string> RegistryValues { get; init; } = [];

    /// <summary>Certificates as <c>STORE\thumbprint</c>: their Blob, and the key file an import makes for them.</summary>
    public IReadOnlyList<string> Certificates { get; init; } = [];

    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands
    {
        get
        {
            var arguments = new List<CommandArg> { "repair", "backup", "--to", CommandArg.Path(ArgToken.BackupRoot, Folder) };
            foreach (var path in Paths) arguments.AddRange(["--file", FixCommands.MachinePath(path)]);
            foreach (var value in RegistryValues) arguments.AddRange(["--registry-value", value]);
            foreach (var certificate in Certificates) arguments.AddRange(["--certificate", certificate]);
            return [FixCommands.KeyDoctor([.. arguments])];
        }
    }
}

/// <summary>
/// Puts back exactly what the step's backup holds (<c>keydoctor repair restore</c>): each file and value as it was,
/// removing only what did not exist before; nothing else in the folder is touched.
/// </summary>
public sealed record RestoreBackupAction(string Folder, IReadOnlyList<string> Paths) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands =>
        [FixCommands.KeyDoctor("repair", "restore", "--from", CommandArg.Path(ArgToken.BackupRoot, Folder))];
}

/// <summary>Where a key file is copied from: a file on the machine, an entry of the plan's snapshot, or an input a person supplies.</summary>
public sealed record KeySource
{
    public string? MachinePath { get; init; }
    public string? SnapshotEntry { get; init; }
    public string? Input { get; init; }

    [JsonIgnore] public CommandArg Argument => MachinePath is not null ? FixCommands.MachinePath(MachinePath)
        : SnapshotEntry is not null ? CommandArg.Text(SnapshotEntry)
        : CommandArg.Input(Input ?? throw new InvalidOperationException("a key source names nothing"));

    public override string ToString() => MachinePath ?? (SnapshotEntry is not null ? $"{SnapshotEntry} in the snapshot" : $"input {Input}");
}

/// <summary>
/// Writes key file <see cref="Target"/> with a copy of <see cref="Source"/> (whose content must hash to
/// <see cref="Sha256"/> when given), checked by SHA-256 after writing. The target must not exist, unless it is
/// proven bad: its SHA-256 is <see cref="ReplaceSha256"/>, or <see cref="ReplaceDamaged"/> and it does not parse.
/// </summary>
public sealed record CopyKeyFileAction(KeySource Source, string Target) : RepairAction
{
    public string? Sha256 { get; init; }
    public string? ReplaceSha256 { get; init; }
    public bool ReplaceDamaged { get; init; }

    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands =>
        [FixCommands.CopyKeyFile(Source.Argument, Target, Sha256, Source.SnapshotEntry is not null, ReplaceSha256, ReplaceDamaged)];

    [JsonIgnore] public override IReadOnlyList<string> ChangedFiles => [Target];

    [JsonIgnore] public override KeyFileWrite? WritesKeyFile =>
        new(Target, ReplaceSha256 is not null ? $"SHA-256 {ReplaceSha256}" : ReplaceDamaged ? "damaged" : null);
}

/// <summary>
/// KD1001 accepted: the key files made under <see cref="Current"/> that something uses are copied to the original
/// GUID's name (<see cref="Copies"/>, each checked by SHA-256), then MachineGuid is set back to <see cref="Original"/>.
/// On an image the copies are made and the registry change is written as a .reg file with its undo.
/// </summary>
public sealed record PutBackMachineGuidAction(string Current, string Original, IReadOnlyList<Diagnosis.Scan.CarriedKeyFile> Copies) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands =>
        [.. Copies.Select(c => FixCommands.CopyKeyFile(FixCommands.MachinePath(c.Path), c.Target)), FixCommands.SetMachineGuid(Original)];

    [JsonIgnore] public override IReadOnlyList<string> ChangedFiles => [.. Copies.Select(c => c.Target)];

    [JsonIgnore] public string RegText => GuidRegText(Original);
    [JsonIgnore] public string UndoRegText => GuidRegText(Current);

    private static string GuidRegText(string guid) =>
        RegExportWriter.ToText(new WritableKey("value").SetString("MachineGuid", guid), @"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography", recursive: false);
}

/// <summary>
/// Removes the customMetadata properties <see cref="PropertyIds"/> of key <see cref="KeyPath"/> from an
/// applicationHost.config (and the key when nothing is left in it); every other byte of the file is kept. The same
/// edit on the live server (<c>keydoctor repair remove-metadata</c>) and on an image.
/// </summary>
public sealed record RemoveCustomMetadataAction(string ConfigPath, string KeyPath, IReadOnlyList<uint> PropertyIds) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands => [FixCommands.RemoveCustomMetadata(ConfigPath, KeyPath, PropertyIds)];

    [JsonIgnore] public override IReadOnlyList<string> ChangedFiles => [ConfigPath];
}

/// <summary>
/// A registry change: <see cref="Run"/> on the live server (netsh, certutil), and on an image REGEDIT5 text
/// (<see cref="RegText"/>, <c>HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet</c> paths as <c>reg import</c> expects) with
/// the text that undoes it (<see cref="UndoRegText"/>, from the values read).
/// </summary>
public sealed record RegistryChangeAction(string Description, string RegText, string UndoRegText, IReadOnlyList<ShellCommand> Run) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands => Run;
}

/// <summary>Re-reads the machine and checks that finding <see cref="FindingId"/> about <see cref="Subject"/> is gone.</summary>
public sealed record VerifyFindingGoneAction(string FindingId, string Subject) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands => [FixCommands.Check(FindingId, Subject)];
}

/// <summary>
/// A change only the running Windows machine can make (CryptoAPI, NTFS ACLs and attributes, netsh), with the reason
/// it cannot be made on an image.
/// </summary>
public sealed record LiveOnlyAction(string Reason, IReadOnlyList<ShellCommand> Run) : RepairAction
{
    /// <summary>The key file (machine path) the commands create: refused at run time when it exists and is not proven bad.</summary>
    public string? CreatesKeyFile { get; init; }

    /// <summary>Why an existing <see cref="CreatesKeyFile"/> may be replaced (null: it must not exist).</summary>
    public string? ReplaceProof { get; init; }

    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands => Run;

    [JsonIgnore] public override KeyFileWrite? WritesKeyFile => CreatesKeyFile is null ? null : new KeyFileWrite(CreatesKeyFile, ReplaceProof);
}

/// <summary>
/// <c>keys clean</c>: moves the orphan key files <see cref="Names"/> of key folder <see cref="Folder"/> into
/// <see cref="Quarantine"/> under the run's folder, with a manifest of each file (name, size, SHA-256, times,
/// attributes and ACL on Windows). Nothing is deleted. A file modified after <see cref="PlannedUtc"/> is left where
/// it is (something used it since the plan). Carried out by keydoctor itself (image and live), so it has no commands
/// for a script; the plan is applied with <c>keydoctor repair apply</c>.
/// </summary>
public sealed record QuarantineKeyFilesAction(string Folder, string Quarantine, DateTimeOffset PlannedUtc, IReadOnlyList<string> Names) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands => [];
}

/// <summary>Puts every file of quarantine <see cref="Quarantine"/> back into <see cref="Folder"/>, byte for byte, with its times (and ACL on Windows).</summary>
public sealed record ReleaseQuarantineAction(string Folder, string Quarantine) : RepairAction
{
    [JsonIgnore] public override IReadOnlyList<ShellCommand> Commands => [];
}
