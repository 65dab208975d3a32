using System.IO.Compression;
using KeyDoctor.Formats;

namespace KeyDoctor.Machine;

/// <summary>
/// Extracts a bundle zip into a private folder with the checks an archive from another machine deserves:
/// no absolute paths, no '..', no links out of the folder, bounded entry count and total size, and a bound on the
/// compression ratio (zip bombs).
/// </summary>
public static class SafeZipExtractor
{
    public sealed record Limits(long MaxTotalBytes, int MaxEntries, double MaxCompressionRatio)
    {
        public static Limits Default { get; } = new(MaxTotalBytes: 64L << 30, MaxEntries: 10_000_000, MaxCompressionRatio: 1000);
    }

    public static void Extract(string zipPath, string destination, Limits? limits = null)
    {
        limits ??= Limits.Default;
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        using var stream = new FileStream(zipPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException ex)
        {
            throw new MalformedDataException("zip", 0, "not a readable zip archive: " + ex.Message);
        }
        using (archive)
        {
            if (archive.Entries.Count > limits.MaxEntries)
                throw new MalformedDataException("zip", 0, $"{archive.Entries.Count} entries exceed the limit of {limits.MaxEntries}");
            long total = 0;
            foreach (var entry in archive.Entries)
            {
                var target = SafeTarget(root, entry.FullName);
                if (entry.FullName.EndsWith('/') || entry.FullName.EndsWith('\\'))
                {
                    Directory.CreateDirectory(target);
                    continue;
                }
                total += entry.Length;
                if (total > limits.MaxTotalBytes)
                    throw new MalformedDataException("zip", 0, $"uncompressed size exceeds the limit of {limits.MaxTotalBytes} bytes");
                if (entry.CompressedLength > 0 && (double)entry.Length / entry.CompressedLength > limits.MaxCompressionRatio)
                    throw new MalformedDataException("zip", 0, $"entry {entry.FullName} has a suspicious compression ratio");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var input = entry.Open();
                using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                CopyBounded(input, output, entry.Length, entry.FullName);
            }
        }
    }

    /// <summary>Resolves an entry name under <paramref name="root"/>, refusing anything that would land outside it.</summary>
    public static string SafeTarget(string root, string entryName)
    {
        var name = entryName.Replace('\\', '/');
        if (name.Length == 0 || name.StartsWith('/') || (name.Length > 1 && name[1] == ':'))
            throw new MalformedDataException("zip", 0, $"entry '{entryName}' has an absolute path");
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p is ".." or "."))
            throw new MalformedDataException("zip", 0, $"entry '{entryName}' climbs out of the archive");
        var target = Path.GetFullPath(Path.Combine([root, .. parts]));
        var rootWithSlash = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!target.StartsWith(rootWithSlash, StringComparison.Ordinal) && target != root)
            throw new MalformedDataException("zip", 0, $"entry '{entryName}' resolves outside the extraction folder");
        return target;
    }

    // The declared length is only a hint from the archive: stop at it, so a lying header cannot fill the disk.
    private static void CopyBounded(Stream input, Stream output, long declared, string name)
    {
        var buffer = new byte[81920];
        long written = 0;
        int read;
        while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            written += read;
            if (written > declared)
                throw new MalformedDataException("zip", 0, $"entry {name} is larger than its header says");
            output.Write(buffer, 0, read);
        }
    }
}
