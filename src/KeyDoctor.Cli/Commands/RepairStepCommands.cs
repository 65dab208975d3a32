using System.CommandLine;
using System.Text;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;
using KeyDoctor.Repair;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// The verbs a plan's steps call, so PowerShell and cmd run the same program with the same arguments:
/// <c>repair backup</c> and <c>restore</c> (exactly what a step changes, by name), <c>copy-file</c> (a key file,
/// never over one not proven bad, checked by SHA-256), <c>remove-metadata</c> (only the stale customMetadata
/// properties), and <c>check</c> (is the finding gone, read in process into a private folder that is deleted).
/// </summary>
public static class RepairStepCommands
{
    public static IEnumerable<Command> Create(CliContext context) =>
        [CreateBackup(context), CreateRestore(context), CreateCopyFile(context), CreateRemoveMetadata(context), CreateCheck(context)];

    /// <summary>The server itself for registry values and DACLs; none elsewhere (files only).</summary>
    private static IStepMachine? Machine() => OperatingSystem.IsWindows() ? new WindowsStepMachine() : null;

    private static Command CreateBackup(CliContext context)
    {
        var to = new Option<string>("--to") { Description = "The step's own backup folder: created owner-only; it must not hold a backup yet.", Required = true };
        var files = new Option<string[]>("--file") { Description = "A file the step changes (backed up by name; one that does not exist is noted, and removed again by restore).", AllowMultipleArgumentsPerToken = false };
        var values = new Option<string[]>("--registry-value") { Description = "A registry value the step changes, as KEY:NAME, e.g. HKLM\\SOFTWARE\\Microsoft\\Cryptography:MachineGuid (Windows).", HelpName = "KEY:NAME" };
        var certificates = new Option<string[]>("--certificate") { Description = "A certificate whose key the step re-imports or re-links, as STORE\\THUMBPRINT: its registry entry is saved, and restore removes the key file the step made for it (Windows).", HelpName = "STORE\\THUMBPRINT" };
        var command = new Command("backup", "Step verb: back up exactly the files, registry values and certificate entries a repair step changes, by name, with a manifest (name, existed, SHA-256).")
        {
            to, files, values, certificates,
        };
        command.SetAction(parse =>
        {
            var folder = Path.GetFullPath(parse.GetValue(to)!);
            var registry = parse.GetValue(values) ?? [];
            var certs = parse.GetValue(certificates) ?? [];
            var machine = Machine();
            if (machine is null && (registry.Length > 0 || certs.Length > 0))
                throw new UserInputException("registry values and certificates are backed up on the Windows server itself");
            StepBackupManifest manifest;
            try
            {
                manifest = StepBackup.Create(folder, parse.GetValue(files) ?? [], registry, certs, machine, DateTimeOffset.UtcNow);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
            {
                throw new UserInputException(ex.Message);
            }
            foreach (var file in manifest.Files)
                context.Output.WriteLine(file.Existed ? $"backed up {file.Path} (SHA-256 {file.Sha256})" : $"noted {file.Path}: it does not exist (restore removes it)");
            foreach (var value in manifest.RegistryValues)
                context.Output.WriteLine(value.Value is null ? $"noted {value.Key}:{value.Name}: it does not exist" : $"backed up {value.Key}:{value.Name}");
            foreach (var certificate in manifest.Certificates)
                context.Output.WriteLine($"backed up certificate {certificate.Store}\\{certificate.KeyName}" + (certificate.KeyFile is null ? "" : $" (its key file now: {certificate.KeyFile})"));
            context.Output.WriteLine($"into {folder} (owner-only: delete it when you are satisfied with the repair)");
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateRestore(CliContext context)
    {
        var from = new Option<string>("--from") { Description = "A step's backup folder, written by 'repair backup'.", Required = true };
        var command = new Command("restore", "Step verb: put back exactly what a step's backup holds (files with their DACL, registry values, certificate entries); remove only what did not exist before.")
        {
            from,
        };
        command.SetAction(parse =>
        {
            IReadOnlyList<string> done;
            try
            {
                done = StepBackup.Restore(Path.GetFullPath(parse.GetValue(from)!), Machine());
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
            foreach (var line in done) context.Output.WriteLine(line);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateCopyFile(CliContext context)
    {
        var source = new Argument<string>("source") { Description = "The key file to copy: a path, or with --snapshot the file's path inside the snapshot (e.g. ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\<name>)." };
        var target = new Argument<string>("target") { Description = "Where it goes. It must not exist, unless --replace-sha256 or --replace-damaged proves the file there bad." };
        var snapshot = new Option<string?>("--snapshot") { Description = "Take the source from this snapshot or bundle (.zip or folder)." };
        var sha256 = new Option<string?>("--sha256") { Description = "The SHA-256 the source must have (the file the plan was made with)." };
        var replaceSha256 = new Option<string?>("--replace-sha256") { Description = "Replace the target only if it still has this SHA-256 (the file the plan proved bad)." };
        var replaceDamaged = new Option<bool>("--replace-damaged") { Description = "Replace the target only if it does not parse as a key file (damaged)." };
        var command = new Command("copy-file", "Step verb: copy a key file, through a temporary file, checked by SHA-256; never over a key file that is not proven bad.")
        {
            source, target, snapshot, sha256, replaceSha256, replaceDamaged,
        };
        command.SetAction(parse =>
        {
            var from = parse.GetValue(source)!;
            byte[] content;
            string name;
            string? daclOf = null;
            if (parse.GetValue(snapshot) is { } snapshotPath)
            {
                using var opened = MachineSource.Open(snapshotPath);
                content = RepairFiles.ReadKeyFile(opened, from)?.Content
                          ?? throw new UserInputException($"{from} is not in {snapshotPath} (or too large to be a key file)");
                name = $"{from} in {snapshotPath}";
            }
            else
            {
                var path = Path.GetFullPath(from);
                if (!File.Exists(path)) throw new UserInputException($"no such key file: {path}");
                if (new FileInfo(path).Length > KeyFileInspector.MaxKeyFileLength) throw new UserInputException($"{path} is too large to be a key file");
                content = File.ReadAllBytes(path);
                name = path;
                daclOf = path; // a copy of a machine key keeps the access its services have
            }
            try
            {
                context.Output.WriteLine(KeyFileCopy.Copy(content, name, Path.GetFullPath(parse.GetValue(target)!), parse.GetValue(sha256),
                    new KeyFileReplaceRule(parse.GetValue(replaceSha256), parse.GetValue(replaceDamaged)), daclOf, Machine()));
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateRemoveMetadata(CliContext context)
    {
        var config = new Argument<string>("config") { Description = "applicationHost.config." };
        var keyPath = new Argument<string>("key-path") { Description = "The customMetadata key, e.g. LM/W3SVC/1." };
        var properties = new Option<uint[]>("--property") { Description = "A property id to remove (e.g. 5506, 5511); every other property stays.", Required = true };
        var command = new Command("remove-metadata", "Step verb: remove only the given customMetadata properties of one key from applicationHost.config, as a precise text edit (every other byte stays).")
        {
            config, keyPath, properties,
        };
        command.SetAction(parse =>
        {
            var path = Path.GetFullPath(parse.GetValue(config)!);
            if (!File.Exists(path)) throw new UserInputException($"no such file: {path}");
            var ids = parse.GetValue(properties) ?? [];
            var edited = CustomMetadataEditor.RemoveProperties(File.ReadAllBytes(path), parse.GetValue(keyPath)!, ids);
            if (edited is null)
            {
                context.Output.WriteLine($"{path} has none of properties {string.Join(", ", ids)} under {parse.GetValue(keyPath)}: nothing to remove");
                return ExitCodes.Healthy;
            }
            StepBackup.WriteThroughTemp(path, edited);
            context.Output.WriteLine($"removed properties {string.Join(", ", ids)} of customMetadata key {parse.GetValue(keyPath)} from {path}");
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateCheck(CliContext context)
    {
        var id = new Argument<string>("finding") { Description = "The finding's id, e.g. KD2005." };
        var subject = new Argument<string?>("subject") { Description = "The finding's subject, as the plan names it.", Arity = ArgumentArity.ZeroOrOne };
        var subjectBase64 = new Option<string?>("--subject-base64") { Description = "The subject as base64 UTF-8 (for subjects a shell would change)." };
        var from = new Option<string?>("--from") { Description = "An image folder or bundle to check instead of this server." };
        var command = new Command("check", "Step verb: read the machine again (in process; a live server is collected into a private folder that is deleted) and exit 0 when the finding is gone, 1 while it is there.")
        {
            id, subject, subjectBase64, from,
        };
        command.SetAction(parse =>
        {
            var wanted = parse.GetValue(subject)
                         ?? (parse.GetValue(subjectBase64) is { } encoded ? DecodeSubject(encoded) : throw new UserInputException("give the finding's subject (or --subject-base64)"));
            using var source = LiveMachine.OpenSourceOrLive(parse.GetValue(from), "repair check", includeEventLogs: false);
            var findingId = parse.GetValue(id)!.ToUpperInvariant();
            var present = Scanner.Scan(source).Findings.Any(f => f.Id == findingId && f.Subject == wanted);
            context.Output.WriteLine(present ? $"{findingId} {wanted} is still there" : $"{findingId} {wanted} is gone");
            return present ? ExitCodes.Findings : ExitCodes.Healthy;
        });
        return command;
    }

    private static string DecodeSubject(string encoded)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            throw new UserInputException($"--subject-base64 {encoded} is not base64");
        }
    }
}
