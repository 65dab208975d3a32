using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyDoctor.Crypto.KeySets;

namespace KeyDoctor.Repair;

/// <summary>The first line of a quarantine manifest: where the files came from.</summary>
public sealed record QuarantineHeader(string Format, string Folder, DateTimeOffset PlannedUtc);

/// <summary>One quarantined file: what it was, so it goes back exactly as it was.</summary>
public sealed record QuarantinedFile(string Name, long Size, string Sha256, DateTime CreatedUtc, DateTime ModifiedUtc, DateTime AccessedUtc)
{
    /// <summary>NTFS attributes (Windows only).</summary>
    public int? Attributes { get; init; }

    /// <summary>The file's security descriptor as SDDL (Windows only; owner, group and DACL).</summary>
    public string? Sddl { get; init; }
}

/// <summary>What a quarantine or a release did.</summary>
public sealed record QuarantineResult(long Moved, long Bytes, IReadOnlyList<string> Kept, IReadOnlyList<string> Problems);

/// <summary>
/// Moves key files into a quarantine folder of a repair run and back. The manifest (manifest.jsonl: a header line,
/// then one line per file, each written before its file moves) holds name, size, SHA-256, the three times, and on
/// Windows the attributes and the ACL; a release checks each file's SHA-256 and puts it back with its times (and
/// ACL). Nothing is ever deleted: a file that cannot go back stays in the quarantine and is reported.
/// </summary>
public static class KeyQuarantine
{
    public const string ManifestFile = "manifest.jsonl";
    public const string Format = "keydoctor-quarantine/1";

    /// <summary>True while a file the action names is still in its folder (and unchanged since the plan).</summary>
    public static bool AnyLeft(IRepairTarget target, QuarantineKeyFilesAction action)
    {
        if (target.LocalFolder(action.Folder) is not { } folder) return false;
        foreach (var name in action.Names)
        {
            var info = new FileInfo(Path.Join(folder, name));
            if (info.Exists && info.LastWriteTimeUtc <= action.PlannedUtc.UtcDateTime) return true;
        }
        return false;
    }

    /// <summary>Moves the action's files from <paramref name="folder"/> into <paramref name="quarantine"/> (created owner-only).</summary>
    public static QuarantineResult Move(string folder, string quarantine, QuarantineKeyFilesAction action, Action<long>? progress = null)
    {
        if (Directory.Exists(quarantine) && Directory.EnumerateFileSystemEntries(quarantine).Any())
            throw new IOException($"the quarantine folder {quarantine} is not empty; this step already ran in this run folder");
        OwnerOnlyFile.CreateDirectory(quarantine);
        var kept = new List<string>();
        var problems = new List<string>();
        long moved = 0, bytes = 0;
        using var manifest = new StreamWriter(new FileStream(Path.Combine(quarantine, ManifestFile), OwnerOnlyFile.Options(FileMode.CreateNew)), new UTF8Encoding(false));
        manifest.WriteLine(JsonSerializer.Serialize(new QuarantineHeader(Format, action.Folder, action.PlannedUtc), QuarantineJson.Context.QuarantineHeader));
        manifest.Flush();
        foreach (var name in action.Names)
        {
            if (name.Length == 0 || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or ".." || name == ManifestFile)
            {
                problems.Add($"'{name}' is not a file name in {action.Folder}; left alone");
                continue;
            }
            var source = Path.Join(folder, name);
            var info = new FileInfo(source);
            if (!info.Exists)
            {
                kept.Add($"{name}: no longer there");
                continue;
            }
            if (info.LastWriteTimeUtc > action.PlannedUtc.UtcDateTime)
            {
                kept.Add($"{name}: modified {info.LastWriteTimeUtc:yyyy-MM-dd HH:mm:ss} UTC, after the plan was made; left in place");
                continue;
            }
            var entry = new QuarantinedFile(name, info.Length, Sha256Of(source), info.CreationTimeUtc, info.LastWriteTimeUtc, info.LastAccessTimeUtc)
            {
                Attributes = OperatingSystem.IsWindows() ? (int)info.Attributes : null,
                Sddl = OperatingSystem.IsWindows() ? WindowsAcl.Read(source) : null,
            };
            // The manifest line first: a crash between the two leaves a line the release knows how to skip.
            manifest.WriteLine(JsonSerializer.Serialize(entry, QuarantineJson.Context.QuarantinedFile));
            if ((moved & 0xFF) == 0) manifest.Flush();
            var target = Path.Join(quarantine, name);
            File.Move(source, target);
            SetTimes(target, entry);
            moved++;
            bytes += entry.Size;
            if ((moved & 0x3FF) == 0) progress?.Invoke(moved);
        }
        progress?.Invoke(moved);
        return new QuarantineResult(moved, bytes, kept, problems);
    }

    /// <summary>Puts every file of <paramref name="quarantine"/> back into <paramref name="folder"/>; a file that exists there again is not overwritten.</summary>
    public static QuarantineResult Release(string folder, string quarantine)
    {
        var manifestPath = Path.Combine(quarantine, ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{quarantine} has no {ManifestFile}: not a quarantine keydoctor made", manifestPath);
        var problems = new List<string>();
        var kept = new List<string>();
        long moved = 0, bytes = 0;
        Directory.CreateDirectory(folder);
        using var reader = new StreamReader(manifestPath, Encoding.UTF8);
        var header = reader.ReadLine() is { } first ? JsonSerializer.Deserialize(first, QuarantineJson.Context.QuarantineHeader) : null;
        if (header?.Format != Format) throw new Formats.MalformedDataException("quarantine manifest", 0, $"{manifestPath} does not start with a {Format} header");
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            QuarantinedFile? entry;
            try
            {
                entry = JsonSerializer.Deserialize(line, QuarantineJson.Context.QuarantinedFile);
            }
            catch (JsonException)
            {
                problems.Add($"a line of {manifestPath} does not read (cut short by a crash?); the files it may name stay in {quarantine}");
                continue;
            }
            if (entry is null || entry.Name.IndexOfAny(['/', '\\']) >= 0 || entry.Name is "" or "." or "..")
            {
                problems.Add($"a line of {manifestPath} names no file; skipped");
                continue;
            }
            var held = Path.Join(quarantine, entry.Name);
            var original = Path.Join(folder, entry.Name);
            if (!File.Exists(held))
            {
                // Already back (an earlier release), or the crash came between the manifest line and the move.
                if (!File.Exists(original) || !string.Equals(Sha256Of(original), entry.Sha256, StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{entry.Name} is neither in the quarantine nor back in {folder} as it was");
                else kept.Add($"{entry.Name}: already back");
                continue;
            }
            if (!string.Equals(Sha256Of(held), entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{entry.Name} in the quarantine is not the file that was moved (SHA-256 differs); left there");
                continue;
            }
            if (File.Exists(original))
            {
                problems.Add($"{entry.Name} exists again in {folder}; not overwriting it (the quarantined copy stays in {quarantine})");
                continue;
            }
            File.Move(held, original);
            SetTimes(original, entry);
            if (OperatingSystem.IsWindows())
            {
                if (entry.Sddl is { } sddl) WindowsAcl.Write(original, sddl);
                if (entry.Attributes is { } attributes) File.SetAttributes(original, (FileAttributes)attributes);
            }
            moved++;
            bytes += entry.Size;
        }
        return new QuarantineResult(moved, bytes, kept, problems);
    }

    private static void SetTimes(string path, QuarantinedFile entry)
    {
        // Creation first: where a platform cannot set it, setting it must not undo the others.
        File.SetCreationTimeUtc(path, entry.CreatedUtc);
        File.SetLastWriteTimeUtc(path, entry.ModifiedUtc);
        File.SetLastAccessTimeUtc(path, entry.AccessedUtc);
    }

    private static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}

/// <summary>A file's ACL as SDDL, read and written on Windows.</summary>
internal static class WindowsAcl
{
    public static string? Read(string path)
    {
        if (!OperatingSystem.IsWindows()) return null;
        var security = new FileInfo(path).GetAccessControl();
        return security.GetSecurityDescriptorSddlForm(System.Security.AccessControl.AccessControlSections.Access
                                                      | System.Security.AccessControl.AccessControlSections.Owner
                                                      | System.Security.AccessControl.AccessControlSections.Group);
    }

    public static void Write(string path, string sddl)
    {
        if (!OperatingSystem.IsWindows()) return;
        var security = new System.Security.AccessControl.FileSecurity();
        security.SetSecurityDescriptorSddlForm(sddl);
        new FileInfo(path).SetAccessControl(security);
    }
}

/// <summary>The quarantine and release steps as every target runs them, journalled in the run.</summary>
internal static class KeyQuarantineSteps
{
    public static string Quarantine(RepairRun run, QuarantineKeyFilesAction action, string localFolder)
    {
        var relative = action.Quarantine.Replace('\\', '/');
        if (relative.Split('/').Any(p => p is ".." or "") || Path.IsPathRooted(relative))
            throw new InvalidOperationException($"the plan's quarantine folder '{action.Quarantine}' is not a folder inside the run folder");
        // Journal first: a crash half-way leaves a quarantine the rollback knows about.
        var record = new JournalQuarantine(action.Folder, relative);
        run.Journal.Quarantines.Add(record);
        run.SaveJournal();
        var result = KeyQuarantine.Move(localFolder, Path.Combine(run.Folder, relative), action);
        run.Log($"quarantined {result.Moved} file(s), {result.Bytes} bytes, of {action.Folder} into {relative}; {result.Kept.Count} left in place");
        foreach (var kept in result.Kept) run.Log($"  left: {kept}");
        foreach (var problem in result.Problems) run.Log($"  problem: {problem}");
        return $"moved {result.Moved} orphan key file(s) ({result.Bytes} bytes) of {action.Folder} into {Path.Combine(run.Folder, relative)} with a manifest"
               + (result.Kept.Count > 0 ? $"; {result.Kept.Count} left in place (changed or gone since the plan)" : "")
               + (result.Problems.Count > 0 ? $"; {string.Join("; ", result.Problems)}" : "");
    }

    public static (string Detail, bool Failed) Release(RepairRun run, string folder, string quarantine, string localFolder)
    {
        var record = run.Journal.Quarantines.LastOrDefault(q => q.Quarantine == quarantine.Replace('\\', '/') && !q.RolledBack);
        var path = Path.Combine(run.Folder, quarantine.Replace('\\', '/'));
        if (record is null && !Directory.Exists(path)) return ($"nothing to put back: {quarantine} was not made by this run", false);
        var result = KeyQuarantine.Release(localFolder, path);
        run.Log($"put back {result.Moved} file(s) of {quarantine} into {folder}; {result.Problems.Count} problem(s)");
        foreach (var problem in result.Problems) run.Log($"  problem: {problem}");
        if (result.Problems.Count == 0 && record is not null)
        {
            record.RolledBack = true;
            run.SaveJournal();
        }
        return result.Problems.Count == 0
            ? ($"put back {result.Moved} key file(s) ({result.Bytes} bytes) into {folder}, byte for byte with their times", false)
            : ($"put back {result.Moved} key file(s) into {folder}; not put back: {string.Join("; ", result.Problems.Take(5))}" + (result.Problems.Count > 5 ? $" (and {result.Problems.Count - 5} more, see the transcript)" : ""), true);
    }
}
