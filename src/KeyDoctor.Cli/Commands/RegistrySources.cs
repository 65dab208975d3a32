using KeyDoctor.Formats.Primitives;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Cli.Commands;

/// <summary>Opens what the user points at: a hive file, a .reg export, or the folder of a Windows image.</summary>
internal static class RegistrySources
{
    /// <summary>A hive (logs beside it replayed in memory) or a .reg export, decided by content, not by name.</summary>
    public static IRegistryHive OpenFile(string path) => OpenFile(path, mapBigHive: false)!;

    /// <summary>The hive or export at <paramref name="path"/>; null when <paramref name="mapBigHive"/> and it is a hive of 1 MiB or more.</summary>
    private static IRegistryHive? OpenFile(string path, bool mapBigHive)
    {
        if (Directory.Exists(path))
            throw new UserInputException($"{path} is a folder: give one hive file (e.g. {Path.Join(path, "Windows", "System32", "config", "SYSTEM")}) or a .reg export.");
        if (!File.Exists(path)) throw new UserInputException($"there is no file {path}: give a hive file or a .reg export.");
        Span<byte> head = stackalloc byte[512];
        int read;
        long length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            length = stream.Length;
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        head = head[..read];
        if (BaseBlock.HasSignature(head)) return mapBigHive && length is >= MinimumMappedHive and <= RegistryHive.MaxFileSize ? null : RegistryHive.Open(path);
        if (RegExportReader.LooksLikeExport(head)) return RegExportReader.Read(path);
        throw new UserInputException($"{path} is neither a registry hive (no \"regf\" signature) nor a .reg export: give a hive file such as SYSTEM or SOFTWARE, or a .reg file.");
    }

    /// <summary>Smaller hives are read into memory: mapping pays off only where copying costs.</summary>
    private const long MinimumMappedHive = 1024 * 1024;

    /// <summary>
    /// As <see cref="OpenFile"/>, reading a big hive through a read-only memory mapping, which <paramref name="mapping"/>
    /// holds: dispose it after the hive's last use. For commands that read a whole hive once (reg dump), where copying
    /// it into memory is a fifth of the work.
    /// </summary>
    public static IRegistryHive OpenFileMapped(string path, out IDisposable? mapping)
    {
        mapping = null;
        var hive = OpenFile(path, mapBigHive: true);
        if (hive is not null) return hive;
        var mapped = MappedFile.Open(path);
        try
        {
            var opened = RegistryHive.Open(path, mapped.Contents);
            mapping = mapped;
            return opened;
        }
        catch
        {
            ((IDisposable)mapped).Dispose();
            throw;
        }
    }

    /// <summary>
    /// The machine's registry from an image folder (Windows\System32\config or registry\*.reg), a SOFTWARE or
    /// NTUSER.DAT hive, or a .reg export.
    /// </summary>
    public static WindowsRegistry OpenMachine(string path)
    {
        if (Directory.Exists(path))
        {
            var image = WindowsRegistry.OpenImage(path);
            if (image.Software is null && image.System is null)
                throw new UserInputException($"{path}: found neither Windows\\System32\\config\\SOFTWARE nor registry\\*.reg");
            return image;
        }
        var source = OpenFile(path);
        if (source is RegExportFile export) return WindowsRegistry.FromExport(export);
        // A user hive holds its stores under Software\...; the machine SOFTWARE hive directly under Microsoft\...
        if (source.OpenKey(@"Microsoft\SystemCertificates") is null && source.OpenKey(@"Software\Microsoft\SystemCertificates") is not null)
            return new WindowsRegistry(null, null, source);
        if (source.OpenKey("Select") is not null && source.OpenKey("Microsoft") is null)
            return new WindowsRegistry(null, source);
        return new WindowsRegistry(source, null);
    }

    /// <summary>One stderr line per problem kind (first few), so damaged input is never silent.</summary>
    public static void ReportProblems(CliContext context, IRegistryHive hive)
    {
        if (hive is RegistryHive { Recovery: { } recovery })
        {
            var applied = recovery.AppliedEntries;
            if (applied.Count > 0)
                context.Error.WriteLine(context.ShowPathsIn($"keydoctor: dirty hive recovered in memory: {applied.Count} log entries ({applied[0].SequenceNumber}-{applied[^1].SequenceNumber}) from {string.Join(", ", applied.Select(a => a.Log).Distinct())}"));
            else if (recovery.OldFormatPagesApplied > 0)
                context.Error.WriteLine($"keydoctor: dirty hive recovered in memory: {recovery.OldFormatPagesApplied} pages from an old-format log");
            if (recovery.StopReason is { } stop) context.Error.WriteLine($"keydoctor: log replay stopped: {stop}");
        }
        // In hive order (values are decoded on several threads, so they are found in no fixed order).
        var problems = hive.Problems.OrderBy(p => p.Offset ?? -1).ThenBy(p => p.Reason, StringComparer.Ordinal).ToList();
        if (problems.Count == 0) return;
        context.Error.WriteLine(context.ShowPathsIn($"keydoctor: {problems.Count} problem(s) in {hive.Source}:"));
        foreach (var problem in problems.Take(10)) context.Error.WriteLine($"  {problem}");
        if (problems.Count > 10) context.Error.WriteLine($"  ... and {problems.Count - 10} more (use --json and read stderr, or 'reg dump' a smaller --key)");
    }
}
