using System.Globalization;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Repair;

/// <summary>What the planner may use besides the scan.</summary>
public sealed record RepairPlanOptions
{
    /// <summary>A snapshot or bundle taken before the damage: key files are restored from it when it holds a good copy.</summary>
    public IMachineSource? Snapshot { get; init; }

    /// <summary>The snapshot as the user named it (recorded in the plan, and the default of the scripts' snapshot).</summary>
    public string? SnapshotPath { get; init; }

    /// <summary>
    /// Findings whose recommended choice a person has made (<c>repair plan --accept</c>): planned as steps instead of
    /// decisions. Only <see cref="RepairPlanner.Acceptable"/> ones have a recommended choice.
    /// </summary>
    public IReadOnlySet<string> Accepted { get; init; } = new HashSet<string>();

    /// <summary>Values of the plan's inputs given up front (<c>--input NAME=VALUE</c>).</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Turns scan findings into an ordered, reversible plan by walking them in dependency order over a model of the
/// machine (<see cref="MachineModel"/>): each step's effect is applied to the model, a later finding an earlier step
/// fixed is dropped with the reason, and a step that would write over a key container the model holds is left for a
/// person unless that container is proven bad. Each change is a typed <see cref="RepairAction"/> expanded to the
/// commands the scripts and the live server run.
/// </summary>
public static class RepairPlanner
{
    // Permissions first (nothing else can be read without them), then the GUID the keys depend on, then the keys,
    // then the configuration and certificates that use the keys, then the bindings that use the certificates.
    private static readonly string[] Order =
        ["KD1004", "KD1001", "KD1003", "KD1002", "KD3001", "KD2008", "KD2002", "KD2009", "KD2003", "KD2001", "KD2007", "KD2004", "KD2005", "KD2006", "KD1007"];

    /// <summary>The finding id of the steps that serve every finding (the snapshot before anything changes).</summary>
    public const string WholeMachine = "all";

    /// <summary>
    /// Decisions with one recommended choice a person can accept up front: KD1001, put the original MachineGuid back
    /// (the keys made since the change that something uses are carried forward first).
    /// </summary>
    public static readonly IReadOnlySet<string> Acceptable = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "KD1001" };

    /// <summary>Plans <paramref name="scan"/>; throws <see cref="ArgumentException"/> for an input the plan does not have.</summary>
    public static RepairPlan Plan(ScanResult scan, RepairPlanOptions? options = null) =>
        new Builder(scan.State, options ?? new RepairPlanOptions()).Build(scan.Findings);

    /// <summary>One change and what goes around it.</summary>
    private sealed record Change(string Title, RepairAction Action)
    {
        /// <summary>The backup step's action (null: nothing to back up).</summary>
        public RepairAction? Backup { get; init; }
        public string? BackupTitle { get; init; }
        public RepairAction? Rollback { get; init; }
        public string? RollbackTitle { get; init; }
        public IReadOnlyList<RequiredInput> Inputs { get; init; } = [];
        public string? Risk { get; init; }

        /// <summary>What the change does to the model, given the change step's number.</summary>
        public Action<MachineModel, int>? Effect { get; init; }
    }

    private sealed class Builder(MachineState state, RepairPlanOptions options)
    {
        private readonly MachineModel _initial = MachineModel.Of(state);
        private readonly MachineModel _model = MachineModel.Of(state);
        private readonly List<RepairStep> _steps = [];
        private readonly List<RepairDecision> _decisions = [];
        private readonly List<NotNeeded> _notNeeded = [];
        private readonly List<RequiredInput> _inputs = [];
        private readonly Dictionary<int, string> _stepFor = []; // change step → its finding, for the reasons given

        public RepairPlan Build(IReadOnlyList<Finding> findings)
        {
            var actionable = findings
                .Where(f => f.Severity > Severity.Info && Array.IndexOf(Order, f.Id) >= 0 && f.Fix is not null)
                .OrderBy(f => Array.IndexOf(Order, f.Id)).ThenBy(f => f.Subject, StringComparer.Ordinal).ToList();
            // The snapshot before anything changes is step 1; dropped again when nothing follows it.
            _steps.Add(new RepairStep(1, RepairStepKind.Backup, WholeMachine, "the whole machine",
                $"Snapshot the server before anything changes (key stores, hives, IIS configuration), owner-only in the run's backup folder")
            {
                Action = new SnapshotAction(),
            });
            string? guidAfter = null;
            foreach (var finding in actionable)
            {
                // An earlier step of this plan fixed it too (the GUID put back finds the IIS container again).
                if (_initial.Holds(finding) && !_model.Holds(finding))
                {
                    _notNeeded.Add(new NotNeeded(finding.Id, finding.Subject, NotNeededReason(finding)));
                    continue;
                }
                var fix = finding.Fix!;
                var accepted = fix.NeedsDecision && options.Accepted.Contains(finding.Id) && Acceptable.Contains(finding.Id);
                if ((fix.NeedsDecision && !accepted) || fix.Commands.Count == 0)
                {
                    _decisions.Add(RepairDecision.From(finding));
                    continue;
                }
                var (change, refusal) = ChangeFor(finding, fix);
                if (refusal is not null)
                {
                    _decisions.Add(RepairDecision.From(finding, refusal));
                    continue;
                }
                AddGroup(finding, fix, change!, accepted);
                if (change!.Action is PutBackMachineGuidAction guid) guidAfter = guid.Original;
            }
            if (_steps.Count == 1) _steps.Clear();
            var plan = new RepairPlan
            {
                Source = state.Source.Description,
                MachineGuid = state.MachineGuid,
                MachineGuidAfter = guidAfter,
                Snapshot = options.SnapshotPath,
                Inputs = _inputs.Where(i => _steps.Any(s => s.Commands.Any(c => c.Inputs.Contains(i.Name)))).ToList(),
                Steps = _steps,
                NeedsDecision = _decisions,
                NotNeeded = _notNeeded,
            };
            return plan.WithInputs(options.Inputs);
        }

        private string NotNeededReason(Finding finding)
        {
            if (finding.Id == "KD1001" || _model.GuidSetByStep is not { } guidStep || string.Equals(_model.Guid, _initial.Guid, StringComparison.OrdinalIgnoreCase))
                return WrittenReason(finding) ?? "an earlier step fixed it";
            var file = finding.Id switch
            {
                "KD1002" => _model.KeyFilePath(_model.MachineKeys, KeyStoreChecks.Iis6Prefix),
                _ => _model.ExpectedFile(finding),
            };
            return $"not needed after step {guidStep} (MachineGuid put back to {_model.Guid})" +
                   (file is null ? "" : $": {file} is found again ({_model.File(file)?.Origin ?? "on the machine"})");
        }

        private string? WrittenReason(Finding finding)
        {
            var path = finding.Id == "KD1003" ? finding.Subject : _model.ExpectedFile(finding);
            return path is not null && _model.File(path) is { WrittenByStep: { } step } ? $"not needed after step {step}: {path} is written there" : null;
        }

        private void AddGroup(Finding finding, Fix fix, Change change, bool accepted)
        {
            var first = _steps.Count + 1;
            var folder = $"{first:D3}-{finding.Id}";
            RepairStep Step(RepairStepKind kind, string title, RepairAction action) =>
                new(_steps.Count + 1, kind, finding.Id, finding.Subject, title) { Action = action };
            if (change.Backup is { } backup)
                _steps.Add(Step(RepairStepKind.Backup, change.BackupTitle ?? "Back up what the change touches", WithFolder(backup, folder)));
            var risk = string.Join(" ", new[] { fix.Risk, change.Risk }.OfType<string>());
            _steps.Add(Step(RepairStepKind.Change, accepted ? $"{change.Title} (accepted with --accept {finding.Id})" : change.Title, change.Action) with
            {
                Risk = risk.Length == 0 ? null : risk,
                NeedsReboot = fix.NeedsReboot,
                NeedsIisRestart = fix.NeedsIisRestart,
            });
            var changeStep = _steps.Count;
            _stepFor[changeStep] = finding.Id;
            _steps.Add(Step(RepairStepKind.Verify, $"Check that {finding.Id} is gone", new VerifyFindingGoneAction(finding.Id, finding.Subject)));
            if (change.Rollback is { } rollback)
                _steps.Add(Step(RepairStepKind.Rollback, change.RollbackTitle ?? "Put back what the change touched", WithFolder(rollback, folder)));
            foreach (var input in change.Inputs)
                if (_inputs.All(i => i.Name != input.Name)) _inputs.Add(input);
            change.Effect?.Invoke(_model, changeStep);
        }

        private static RepairAction WithFolder(RepairAction action, string folder) => action switch
        {
            BackupAction backup => backup with { Folder = folder },
            RestoreBackupAction restore => restore with { Folder = folder },
            LiveOnlyAction live => live with { Run = [.. live.Run.Select(c => c with { Arguments = [.. c.Arguments.Select(a => FolderArg(a, folder))] })] },
            _ => action,
        };

        // A placeholder folder name in live-only backup commands ("{BackupRoot}\@") becomes the step's own folder.
        private static CommandArg FolderArg(CommandArg argument, string folder) =>
            argument.Template.Contains(StepFolder, StringComparison.Ordinal)
                ? CommandArg.Parse(argument.Template.Replace(StepFolder, folder, StringComparison.Ordinal)) : argument;

        private const string StepFolder = "@step";

        private (Change? Change, string? Refusal) ChangeFor(Finding finding, Fix fix)
        {
            if (RestorableFrom(finding) is { } restored) return restored;
            switch (finding.Id)
            {
                case "KD1001" when finding.Properties.TryGetValue("likelyOriginalGuid", out var original):
                    return PutBackMachineGuid(finding, original);
                case "KD1003":
                    return RestoreDamagedFile(finding);
                case "KD1002":
                    return ImportKeySet(finding, fix, _model.KeyFilePath(_model.MachineKeys, KeyStoreChecks.Iis6Prefix), "Microsoft Internet Information Server",
                        file => file.Damaged ? "damaged" : !file.HasSignatureKey ? "no signature key: it did not sign the metabase's SessionKey"
                            : file.WrittenByStep is null ? finding.Properties.GetValueOrDefault("replaceProof") : null);
                case "KD3001" when _model.ExpectedFile(finding) is { } path && finding.Properties.ContainsKey("keyFile"):
                    return ImportKeySet(finding, fix, path, ContainerOf(finding), file => file.Damaged ? "damaged" : null);
                case "KD2005" when finding.Properties.TryGetValue("keyPath", out var keyPath):
                {
                    var action = new RemoveCustomMetadataAction(WindowsPaths.ApplicationHostConfig, keyPath, IisConfigFindings.LegacySslPropertyIds);
                    return (FileChange(fix.Summary, action), null);
                }
                case "KD2004" when finding.Properties.TryGetValue("replacementThumbprint", out var replacement):
                    return (HttpSysChange(finding, replacement), null);
                case "KD2001" when finding.Properties.ContainsKey("keyFile"):
                    return (KeyLinkChange(finding, fix), null);
                case "KD1004" when finding.Subject.EndsWith(" ACL", StringComparison.Ordinal):
                    return (AclChange(fix, finding.Properties.GetValueOrDefault("folder") ?? _model.MachineKeys), null);
                case "KD1004":
                    // Undoing compression and EFS is not undone: nothing to back up.
                    return (new Change(fix.Summary, new LiveOnlyAction(LiveOnlyReason(finding.Id), fix.Commands)), null);
                case "KD2002" or "KD2003" or "KD2008" or "KD2009" or "KD2001":
                    return (CertificateKeyChange(finding, fix), null);
            }
            return (null, $"KeyDoctor has no safe automatic step for {finding.Id} here.");
        }

        /// <summary>
        /// KD1001 accepted: the used key files made since the change are copied to the original GUID's name (none may
        /// exist there), then the GUID goes back. A conflict is a person's decision, with what would break.
        /// </summary>
        private (Change?, string?) PutBackMachineGuid(Finding finding, string original)
        {
            var carry = GuidCarryForward.Analyse(state, Guid.Parse(finding.Subject), Guid.Parse(original));
            if (carry.Conflicts.Count > 0)
                return (null, "--accept KD1001 is not planned: putting the GUID back would break " +
                              string.Join("; ", carry.Conflicts.Select(c => $"{c.Breaks} (its key {c.Path} cannot be carried forward: {c.Existing} exists and holds another key)")) + ".");
            var unused = UnusedKeyFiles(finding.Subject, carry);
            var action = new PutBackMachineGuidAction(finding.Subject, original, carry.Copies);
            var copied = string.Join(", ", carry.Copies.Select(c => WindowsPaths.FileName(c.Path)));
            return (new Change($"Put the original MachineGuid {original} back" + (carry.Copies.Count == 0 ? "" : $", after copying {carry.Copies.Count} key file(s) made since the change to its name ({copied})"), action)
            {
                Backup = new BackupAction("", action.ChangedFiles) { RegistryValues = [$@"{FixCommands.MachineGuidKey}:MachineGuid"] },
                BackupTitle = "Save MachineGuid" + (carry.Copies.Count == 0 ? "" : " and note that the copies' names do not exist yet"),
                Rollback = new RestoreBackupAction("", action.ChangedFiles),
                RollbackTitle = "Put MachineGuid back as it was and remove the copies",
                Risk = unused.Count == 0 ? null
                    : $"Not carried forward (nothing KeyDoctor knows of uses them; they stop being found): {string.Join(", ", unused)}.",
                Effect = (model, step) =>
                {
                    foreach (var copy in carry.Copies)
                        if (model.File(copy.Path) is { } source) model.Put(source with { Path = copy.Target, WrittenByStep = step });
                    model.SetGuid(original, step);
                },
            }, null);
        }

        /// <summary>Key files under the current GUID nothing uses (read from the source: the scan keeps only used ones).</summary>
        private List<string> UnusedKeyFiles(string current, GuidCarryForward carry)
        {
            var used = state.KeyFiles.Select(f => f.WindowsPath).ToHashSet(StringComparer.OrdinalIgnoreCase);
            return new[] { _model.MachineKeys, _model.CngMachineKeys }
                .SelectMany(folder => state.Source.EnumerateFiles(folder).Select(f => f.Path))
                .Where(path => path.EndsWith("_" + current, StringComparison.OrdinalIgnoreCase) && !used.Contains(WindowsPaths.Normalize(path)))
                .Select(WindowsPaths.FileName).Order(StringComparer.OrdinalIgnoreCase).ToList();
        }

        /// <summary>KD1003 without a snapshot: the file comes from a backup a person brings, and replaces the damaged one only.</summary>
        private (Change?, string?) RestoreDamagedFile(Finding finding)
        {
            var input = FixCommands.KeyFileInput(WindowsPaths.FileName(finding.Subject));
            return WriteKeyFile(new KeySource { Input = input.Name }, finding.Subject, null, "Restore {0} from a copy a person brings (a backup of this server)",
                file => file.Damaged ? "damaged" : null, [input]);
        }

        /// <summary>
        /// KD1002 and KD3001: the key set is checked against the configuration first, then imported into a new
        /// container, or over one proven bad; an existing container not proven bad is never replaced.
        /// </summary>
        private (Change?, string?) ImportKeySet(Finding finding, Fix fix, string target, string container, Func<ModelKeyFile, string?> provenBad)
        {
            var existing = _model.File(target);
            var proof = existing is null ? null : provenBad(existing);
            if (existing is not null && proof is null)
                return (null, $"importing the {container} key set would replace {target} ({existing.Origin}), which is not proven bad; KeyDoctor never replaces a key container that may be good.");
            var keySet = FixCommands.KeySetInput(container);
            var verify = finding.Id == "KD1002" ? FixCommands.VerifyMetabaseKey(keySet) : FixCommands.VerifyConfigKey(keySet);
            var action = new LiveOnlyAction(LiveOnlyReason(finding.Id), [verify, FixCommands.ImportKeySet(keySet, container, replace: proof is not null)])
            {
                CreatesKeyFile = target,
                ReplaceProof = proof,
            };
            return (new Change(fix.Summary, action)
            {
                Backup = new BackupAction("", [target]),
                BackupTitle = $"Copy {WindowsPaths.FileName(target)} aside (or note that it does not exist)",
                Rollback = new RestoreBackupAction("", [target]),
                RollbackTitle = $"Put {WindowsPaths.FileName(target)} back as it was (remove it if the import created it)",
                Inputs = [keySet],
                Effect = (model, step) => model.Put(new ModelKeyFile(target, false, null, finding.Id == "KD1002", step)),
            }, null);
        }

        /// <summary>A certificate's key re-linked or re-imported on the server: its registry Blob is saved, and the key file an import makes is removed by the rollback.</summary>
        private Change CertificateKeyChange(Finding finding, Fix fix)
        {
            var stored = CertificateOf(finding);
            var certificate = stored is null ? null : $@"{stored.Store}\{stored.KeyName}";
            return new Change(fix.Summary, new LiveOnlyAction(LiveOnlyReason(finding.Id), fix.Commands))
            {
                Backup = certificate is null ? null : new BackupAction("", []) { Certificates = [certificate] },
                BackupTitle = $"Save certificate {finding.Subject}'s registry entry (its key link)",
                Rollback = certificate is null ? null : new RestoreBackupAction("", []),
                RollbackTitle = $"Put certificate {finding.Subject}'s registry entry back (and remove a key file the change made for it)",
                Inputs = fix.Inputs,
            };
        }

        private StoredCertificate? CertificateOf(Finding finding) =>
            state.Certificates.FirstOrDefault(c => c.Entry is not null && c.Thumbprint.Equals(finding.Subject, StringComparison.OrdinalIgnoreCase)
                && (!finding.Properties.TryGetValue("store", out var store) || c.Store.Equals(store, StringComparison.OrdinalIgnoreCase)));

        /// <summary>A change to files, each backed up by name first and put back (or removed) by the rollback.</summary>
        private static Change FileChange(string title, RepairAction action)
        {
            var names = string.Join(", ", action.ChangedFiles.Select(WindowsPaths.FileName));
            return new Change(title, action)
            {
                Backup = new BackupAction("", action.ChangedFiles),
                BackupTitle = $"Copy {names} aside",
                Rollback = new RestoreBackupAction("", action.ChangedFiles),
                RollbackTitle = $"Put {names} back as it was",
            };
        }

        /// <summary>
        /// A key file written by <c>keydoctor repair copy-file</c>: created where none exists, or over one proven bad;
        /// refused over one that may be good.
        /// </summary>
        private (Change?, string?) WriteKeyFile(KeySource source, string target, string? sha256, string title, Func<ModelKeyFile, string?> provenBad,
                                                IReadOnlyList<RequiredInput> inputs, ModelKeyFile? written = null)
        {
            var existing = _model.File(target);
            string? replaceSha256 = null;
            var replaceDamaged = false;
            if (existing is not null)
            {
                var proof = provenBad(existing);
                if (proof is null)
                    return (null, $"restoring {target} would replace the file there ({existing.Origin}), which is not proven bad; KeyDoctor never replaces a key container that may be good.");
                if (existing.Damaged) replaceDamaged = true;
                else if (existing.WrittenByStep is null && RepairFiles.ReadKeyFile(state.Source, target) is { } read) replaceSha256 = RepairFiles.Sha256(read.Content);
                else return (null, $"{target} would be replaced, but its content cannot be pinned down before the plan runs.");
            }
            var action = new CopyKeyFileAction(source, target) { Sha256 = sha256, ReplaceSha256 = replaceSha256, ReplaceDamaged = replaceDamaged };
            return (FileChange(string.Format(CultureInfo.InvariantCulture, title, target), action) with
            {
                Inputs = inputs,
                Effect = (model, step) => model.Put((written ?? new ModelKeyFile(target, false, null, false, null)) with { Path = target, WrittenByStep = step }),
            }, null);
        }

        /// <summary>
        /// The snapshot's copy of the file a finding is about, when it parses as a healthy key file and, for a
        /// certificate's key, holds the certificate's public key. Null otherwise (the live-only fix is planned instead).
        /// </summary>
        private (Change?, string?)? RestorableFrom(Finding finding)
        {
            if (options.Snapshot is not { } snapshot) return null;
            string? path = finding.Id switch
            {
                "KD1003" => finding.Subject,
                "KD1002" => _model.KeyFilePath(_model.MachineKeys, KeyStoreChecks.Iis6Prefix),
                "KD2008" or "KD2009" or "KD3001" => _model.ExpectedFile(finding),
                _ => null,
            };
            if (path is null || RepairFiles.ReadKeyFile(snapshot, path) is not { } read) return null;
            var (snapshotPath, data) = read;
            var report = KeyFileInspector.Inspect(WindowsPaths.FileName(path), data, data.Length, machineGuid: Guid.TryParse(_model.Guid, out var guid) ? guid : null).Report;
            if (MachineState.IsDamaged(report.Status)) return null;
            var expected = finding.Properties.GetValueOrDefault("publicKeySha256");
            if (expected is not null && !string.Equals(expected, report.PublicKeySha256, StringComparison.OrdinalIgnoreCase)) return null;
            if (finding.Id == "KD1002" && !report.KeySpecs.Contains(KeySpec.Signature)) return null;
            var sha256 = RepairFiles.Sha256(data);
            Func<ModelKeyFile, string?> provenBad = finding.Id switch
            {
                "KD2009" => file => expected is not null && !string.Equals(file.PublicKeySha256, expected, StringComparison.OrdinalIgnoreCase) ? "holds another key than the certificate's" : null,
                "KD1002" => file => file.Damaged ? "damaged" : !file.HasSignatureKey ? "no signature key" : null,
                _ => file => file.Damaged ? "damaged" : null,
            };
            return WriteKeyFile(new KeySource { SnapshotEntry = snapshotPath }, path, sha256,
                $"Restore {{0}} from the snapshot (intact there, SHA-256 {sha256[..16]}…)", provenBad, [],
                new ModelKeyFile(path, false, report.PublicKeySha256, report.KeySpecs.Contains(KeySpec.Signature), null));
        }

        /// <summary>KD2004 with a replacement certificate: netsh update (no restart) live, the binding's SslCertHash as .reg text on an image.</summary>
        private Change HttpSysChange(Finding finding, string replacement)
        {
            var binding = state.HttpSysBindings.First(b => b.Endpoint == finding.Properties["endpoint"]);
            var key = $@"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\{HttpSysBindingListName(binding.Kind)}\{binding.Endpoint}";
            string Reg(string hash) => RegText(key, "SslCertHash", Convert.FromHexString(hash));
            var update = FixCommands.NetshUpdate(binding, replacement, out var notCarried);
            var undo = FixCommands.NetshUpdate(binding, binding.CertificateHash!, out _);
            var action = new RegistryChangeAction($"HTTP.sys binding {binding.Endpoint}: SslCertHash {binding.CertificateHash} -> {replacement}",
                Reg(replacement), Reg(binding.CertificateHash!), [update]);
            return new Change(finding.Fix!.Summary, action)
            {
                // netsh update changes HTTP.sys in place: no service restarts. The binding as it was is in the plan.
                Backup = new LiveOnlyAction("shows the HTTP.sys binding as it is (the transcript keeps it); on an image the undo .reg is written with the change",
                    [FixCommands.NetshShow(binding.Kind, binding.Endpoint)]),
                BackupTitle = $"Show HTTP.sys binding {binding.Endpoint} as it is",
                Rollback = new LiveOnlyAction("netsh changes HTTP.sys on the running server; on an image import the undo .reg", [undo]),
                RollbackTitle = $"Point HTTP.sys binding {binding.Endpoint} back at {binding.CertificateHash} (netsh update, no restart; netsh may refuse a certificate that is gone)",
                Risk = notCarried is null ? null : $"netsh re-creates the binding and cannot carry over: {notCarried}.",
            };
        }

        /// <summary>
        /// KD2001 with the key still in MachineKeys: <c>certutil -repairstore</c> live; on an image what it does, offline:
        /// the certificate's registry Blob gains a CERT_KEY_PROV_INFO property naming the container (machine key set,
        /// the key spec the file holds, Microsoft's enhanced RSA and AES provider, which opens every CryptoAPI RSA
        /// machine container); the undo .reg holds the Blob as it was.
        /// </summary>
        private Change KeyLinkChange(Finding finding, Fix fix)
        {
            var thumbprint = finding.Properties["thumbprint"];
            var store = finding.Properties["store"];
            var stored = state.Certificates.First(c => c.Thumbprint.Equals(thumbprint, StringComparison.OrdinalIgnoreCase)
                                                       && c.Store.Equals(store, StringComparison.OrdinalIgnoreCase) && c.Entry is not null);
            var link = new KeyProviderInfo(finding.Properties["container"], EnhancedRsaAesProvider, ProvRsaAes, KeyProviderInfo.MachineKeySetFlag,
                uint.Parse(finding.Properties["keySpec"], CultureInfo.InvariantCulture), []);
            var relinked = SerializedCertificateEntry.Serialize(stored.Entry!.WithProperty(CertificatePropertyIds.KeyProviderInfo, link.Serialize()));
            var original = SerializedCertificateEntry.Serialize(stored.Entry.Properties);
            var key = $@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SystemCertificates\{store}\Certificates\{stored.KeyName}";
            var action = new RegistryChangeAction($"certificate {thumbprint}: key link to container {link.ContainerName} ({finding.Properties["keyFile"]})",
                RegText(key, "Blob", relinked), RegText(key, "Blob", original), fix.Commands);
            return new Change(fix.Summary, action)
            {
                Backup = new BackupAction("", []) { Certificates = [$@"{store}\{stored.KeyName}"] },
                BackupTitle = $"Save certificate {thumbprint}'s registry entry; on an image the undo .reg is written with the change",
                Rollback = new RestoreBackupAction("", []),
                RollbackTitle = $"Put certificate {thumbprint}'s registry entry back",
            };
        }

        /// <summary>KD1004 ACL: icacls saves the folder's ACL into the step's backup folder first and restores it.</summary>
        private static Change AclChange(Fix fix, string folder)
        {
            var name = WindowsPaths.FileName(folder);
            var saved = CommandArg.Parse($@"{{BackupRoot}}\{StepFolder}\{name}.acl");
            var parent = FixCommands.MachinePath(WindowsPaths.Normalize(folder)[..^(name.Length + 1)]);
            return new Change(fix.Summary, new LiveOnlyAction(LiveOnlyReason("KD1004"), fix.Commands))
            {
                Backup = new LiveOnlyAction("icacls reads NTFS permissions on the live volume",
                [
                    FixCommands.KeyDoctor("repair", "backup", "--to", CommandArg.Parse($@"{{BackupRoot}}\{StepFolder}")),
                    ShellCommand.Run("icacls", FixCommands.MachinePath(folder), "/save", saved),
                ]),
                BackupTitle = $"Save the {name} folder's ACL (icacls /save)",
                Rollback = new LiveOnlyAction("icacls writes NTFS permissions on the live volume", [ShellCommand.Run("icacls", parent, "/restore", saved)]),
                RollbackTitle = "Restore the saved ACL (icacls /restore)",
            };
        }

        private static string ContainerOf(Finding finding) =>
            finding.Evidence.FirstOrDefault(e => e.Value is not null && e.Description.StartsWith("provider ", StringComparison.Ordinal))?.Value ?? finding.Subject;
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

    private static string LiveOnlyReason(string findingId) => findingId switch
    {
        "KD1004" => "NTFS permissions, compression and EFS can only be changed by Windows on the live volume",
        "KD1002" or "KD3001" => "importing a key set needs CryptoAPI on the server (and the key set file)",
        "KD2001" or "KD2009" => "re-linking a certificate to its key (certutil -repairstore) needs CryptoAPI on the server",
        "KD2002" => "the key is protected by the user's DPAPI keys; export it as that user, or use 'keydoctor recover' with the password",
        "KD2003" or "KD2008" => "importing a PFX needs CryptoAPI on the server (and the PFX)",
        "KD2004" or "KD2006" => "netsh changes HTTP.sys on the running server",
        _ => "needs the running Windows server",
    };
}
