using System.IO.Compression;
using System.Security.Cryptography;

namespace KeyDoctor.Machine.Collection;

/// <summary>
/// Runs a collection plan on a host and writes the bundle: a zip laid out like the system drive, plus the
/// manifest with hashes, sizes, times, attributes and ACLs. Nothing is silently skipped: a file that is locked
/// or denied is recorded in <see cref="BundleManifest.Problems"/>. The zip is created owner-only, since it holds
/// key files and hives.
/// </summary>
public sealed class BundleCollector(ICollectionHost host, string toolVersion)
{
    public event Action<CollectionStep>? StepStarted;

    /// <summary>
    /// Collects into a private temporary bundle first, then writes it owner-only to <paramref name="outputZip"/> (or,
    /// when core evidence could not be taken and <paramref name="partialZip"/> is given, to that name, so nothing that
    /// looks complete is left). Collecting before the owner-only file is made means a failed <c>reg save</c> is always
    /// reported, even where the DACL cannot be set (Wine): the core failures lead the message.
    /// </summary>
    public BundleManifest Collect(IReadOnlyList<CollectionStep> plan, string outputZip, string kind, string? partialZip = null)
    {
        var staging = MachineSource.CreatePrivateTempFolder();
        try
        {
            var staged = Path.Combine(staging, "bundle.zip");
            var manifest = Stage(plan, staged, kind);
            var failures = CoreFailures(manifest);
            var target = failures.Count > 0 && partialZip is not null ? partialZip : outputZip;
            // A partial bundle of an earlier run is replaced: it is this run's evidence that counts.
            if (target == partialZip && File.Exists(partialZip)) File.Delete(partialZip);
            try
            {
                using var input = new FileStream(staged, FileMode.Open, FileAccess.Read);
                using var output = CreateOwnerOnly(target);
                input.CopyTo(output);
            }
            catch (Tools.LiveMachineException ex) when (failures.Count > 0)
            {
                throw new Tools.LiveMachineException(
                    CoreFailureMessage("KeyDoctor could not take the evidence a scan needs", failures) +
                    $" The partial bundle could not be written either: {ex.Message}", ex);
            }
            return manifest;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The sentence for failed core steps: each with its reason, then what to do.</summary>
    public static string CoreFailureMessage(string lead, IReadOnlyList<CollectedItem> failures) =>
        $"{lead}: " +
        string.Join("; ", failures.Select(f => $"{f.Description} ({f.Error?.TrimEnd('.')})")) + ". " +
        "Run it from an elevated prompt (Run as administrator) on the server itself; if it still fails, the message above names the tool and what it printed.";

    /// <summary>
    /// Collects into <paramref name="zipPath"/>, a new file that must be in a folder only the current user can read
    /// (a private temporary folder): no DACL of its own is set.
    /// </summary>
    public BundleManifest Stage(IReadOnlyList<CollectionStep> plan, string zipPath, string kind)
    {
        var manifest = new BundleManifest
        {
            Kind = kind,
            CreatedUtc = DateTimeOffset.UtcNow,
            ToolVersion = toolVersion,
            HostName = host.HostName,
            OsVersion = host.OsVersion,
        };
        using var zipStream = new FileStream(zipPath, NewFileForOwner());
        using (var zip = new ZipArchive(zipStream, ZipArchiveMode.Create))
        {
            foreach (var step in plan)
            {
                StepStarted?.Invoke(step);
                var problemsBefore = manifest.Problems.Count;
                var filesBefore = manifest.Files.Count;
                CollectedItem item;
                try
                {
                    var found = Run(step, zip, manifest);
                    var files = manifest.Files.Count - filesBefore;
                    item = !found
                        ? new CollectedItem(step.Description, step.BundlePath, step.Core ? CollectedItemStatus.Failed : CollectedItemStatus.Absent)
                        {
                            Error = step.Core ? $"{step.Source} does not exist on this machine" : null,
                        }
                        : manifest.Problems.Count > problemsBefore
                            ? new CollectedItem(step.Description, step.BundlePath, CollectedItemStatus.Partial)
                            {
                                Files = files,
                                Error = $"{manifest.Problems.Count - problemsBefore} file(s) could not be read: " +
                                        string.Join("; ", manifest.Problems.Skip(problemsBefore).Select(p => $"{p.Path}: {p.Reason}")),
                            }
                            : new CollectedItem(step.Description, step.BundlePath, CollectedItemStatus.Collected) { Files = files };
                    if (!found && step.Core) manifest.Problems.Add(new CollectionProblem(step.BundlePath, item.Error!));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    var reason = ex is Tools.ToolFailedException ? ex.Message : $"{step.Description} could not be collected from {step.Source}: {ex.Message}";
                    manifest.Problems.Add(new CollectionProblem(step.BundlePath, reason));
                    item = new CollectedItem(step.Description, step.BundlePath, CollectedItemStatus.Failed)
                    {
                        Error = reason,
                        Command = (ex as Tools.ToolFailedException)?.CommandLine,
                    };
                }
                manifest.Items.Add(item with { Core = step.Core, Command = item.Command ?? ToolCommand(step) });
            }
            // A hive an image does not have as a file is no failure when the image's .reg exports were collected instead.
            for (var i = 0; i < plan.Count; i++)
                if (manifest.Items[i] is { Core: true, Status: CollectedItemStatus.Failed } failed && plan[i].Alternative is { } alternative
                    && manifest.Items.Any(x => x.BundlePath == alternative && x.Status == CollectedItemStatus.Collected && x.Files > 0))
                {
                    manifest.Items[i] = failed with { Status = CollectedItemStatus.Absent, Error = $"{failed.Error} (the .reg exports in {alternative} were collected instead)" };
                    manifest.Problems.RemoveAll(p => p.Path == failed.BundlePath);
                }
            manifest.Complete = CoreFailures(manifest).Count == 0;
            var entry = zip.CreateEntry(BundleManifest.FileName, CompressionLevel.Optimal);
            using var output = entry.Open();
            output.Write(manifest.ToJson());
        }
        return manifest;
    }

    /// <summary>The failed core steps of a collection, each with its reason: empty when the bundle is complete.</summary>
    public static IReadOnlyList<CollectedItem> CoreFailures(BundleManifest manifest) =>
        manifest.Items.Where(i => i.Core && i.Status == CollectedItemStatus.Failed).ToList();

    // The command a tool step runs on the live machine (the collector records it whether or not it failed).
    private static string? ToolCommand(CollectionStep step) => step.Kind switch
    {
        CollectionStepKind.SaveRegistryHive or CollectionStepKind.ExportEventLog => step.Command,
        _ => null,
    };

    /// <summary>Collects one step; false when what it names is not there.</summary>
    private bool Run(CollectionStep step, ZipArchive zip, BundleManifest manifest)
    {
        switch (step.Kind)
        {
            case CollectionStepKind.CopyFolder:
                if (!host.DirectoryExists(step.Source)) return false; // Not every server has every folder (no IIS 6, no CNG keys).
                manifest.Directories.Add(Describe(step.BundlePath, step.Source, 0, null));
                foreach (var file in host.EnumerateFiles(step.Source, step.Recursive))
                {
                    var relative = WindowsPaths.Relative(step.Source, file);
                    CopyFile(file, WindowsPaths.Combine(step.BundlePath, relative), zip, manifest);
                }
                break;
            case CollectionStepKind.CopyFile:
                if (!host.FileExists(step.Source)) return false;
                CopyFile(step.Source, step.BundlePath, zip, manifest);
                break;
            case CollectionStepKind.SaveRegistryHive:
                WithTempFile(temp => host.SaveRegistryHive(step.Source, temp), step, zip, manifest);
                break;
            case CollectionStepKind.ExportEventLog:
                WithTempFile(temp => host.ExportEventLog(step.Source, temp, step.Since), step, zip, manifest);
                break;
        }
        return true;
    }

    private void CopyFile(string source, string bundlePath, ZipArchive zip, BundleManifest manifest)
    {
        try
        {
            using var input = host.OpenRead(source);
            var (length, hash) = AddEntry(zip, bundlePath, input);
            manifest.Files.Add(Describe(bundlePath, source, length, hash));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A locked or denied key file is evidence too: say so rather than leave a silent gap.
            manifest.Problems.Add(new CollectionProblem(bundlePath, ex.Message));
        }
    }

    private static void WithTempFile(Action<string> produce, CollectionStep step, ZipArchive zip, BundleManifest manifest)
    {
        var folder = MachineSource.CreatePrivateTempFolder();
        try
        {
            var temp = Path.Combine(folder, "item");
            produce(temp);
            using var input = new FileStream(temp, FileMode.Open, FileAccess.Read);
            var (length, hash) = AddEntry(zip, step.BundlePath, input);
            // No times: an exported hive or log is made now, and the manifest stays the same for the same machine.
            manifest.Files.Add(new BundleEntry(step.BundlePath) { Length = length, Sha256 = hash });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private BundleEntry Describe(string bundlePath, string source, long length, string? sha256)
    {
        var metadata = host.Describe(source);
        return new BundleEntry(bundlePath)
        {
            Length = length, Sha256 = sha256, Attributes = metadata.Attributes, Sddl = metadata.Sddl,
            Created = metadata.Created, LastWritten = metadata.LastWritten,
        };
    }

    private static (long Length, string Sha256) AddEntry(ZipArchive zip, string bundlePath, Stream input)
    {
        var entry = zip.CreateEntry(WindowsPaths.Normalize(bundlePath).Replace('\\', '/'), CompressionLevel.Optimal);
        using var output = entry.Open();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long length = 0;
        int read;
        while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            output.Write(buffer, 0, read);
            length += read;
        }
        return (length, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    /// <summary>A new file (never an existing one), mode 0600 off Windows; on Windows the caller sees to its DACL.</summary>
    private static FileStreamOptions NewFileForOwner()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    private static FileStream CreateOwnerOnly(string path)
    {
        var stream = new FileStream(path, NewFileForOwner());
        try
        {
            // The bundle holds every machine key, the SECURITY hive and the system's master keys: the current user only.
            if (OperatingSystem.IsWindows()) Crypto.KeySets.OwnerOnlyFile.RestrictToCurrentUser(stream);
            return stream;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException or InvalidOperationException)
        {
            // Never leave an empty file behind that looks like a bundle.
            stream.Dispose();
            File.Delete(path);
            throw new Tools.LiveMachineException(
                $"access was denied making the bundle {path} readable by the current user only ({ex.Message.ReplaceLineEndings(" ").Trim().TrimEnd('.')}); " +
                "it holds private keys, so KeyDoctor writes it only with an owner-only ACL. Run keydoctor from an elevated prompt " +
                "(Run as administrator) and write the bundle to a local NTFS folder.", ex);
        }
    }
}
