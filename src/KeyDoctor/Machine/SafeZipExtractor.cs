using System.IO.Compression;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Machine;

/// <summary>
/// Extracts a bundle zip into a private folder with the checks an archive from another machine deserves: no
/// absolute paths, no '..', no links out of the folder, no NUL or control characters, names a file system can hold,
/// no entry twice and no file where a folder must be, bounded entry count, total size and compression ratio (zip
/// bombs), and every entry's length and CRC-32 checked against what it really holds. Whatever is wrong with the
/// archive is a <see cref="MalformedDataException"/> naming the entry (docs/formats/bundle.md).
/// </summary>
public static class SafeZipExtractor
{
    private const string Format = "bundle zip";

    /// <param name="MaxTotalBytes">Uncompressed bytes of all entries together.</param>
    /// <param name="MaxEntries">Entries in the archive.</param>
    /// <param name="MaxCompressionRatio">Uncompressed to compressed size of one entry.</param>
    /// <param name="MaxTotalCompressionRatio">Uncompressed size of all entries to the size of the archive.</param>
    public sealed record Limits(long MaxTotalBytes, int MaxEntries, double MaxCompressionRatio, double MaxTotalCompressionRatio)
    {
        public static Limits Default { get; } = new(ReaderLimits.BundleDefaultMaxTotalBytes, ReaderLimits.BundleMaxEntries,
            ReaderLimits.BundleMaxCompressionRatio, ReaderLimits.BundleMaxTotalCompressionRatio);
    }

    public static void Extract(string zipPath, string destination, Limits? limits = null)
    {
        try
        {
            ExtractCore(zipPath, destination, limits ?? Limits.Default);
        }
        catch (MalformedDataException ex)
        {
            throw ex.InFile(zipPath);
        }
    }

    private static void ExtractCore(string zipPath, string destination, Limits limits)
    {
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        using var stream = new FileStream(zipPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        ZipArchive archive;
        IReadOnlyList<ZipArchiveEntry> entries;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
            entries = archive.Entries; // the central directory is read here
        }
        catch (InvalidDataException ex)
        {
            throw new MalformedDataException(Format, 0, $"the central directory is damaged ({FirstSentence(ex.Message)})");
        }
        using (archive)
        {
            if (entries.Count > limits.MaxEntries)
                throw new MalformedDataException(Format, 0,
                    $"{entries.Count} entries exceed the limit of {limits.MaxEntries} (ReaderLimits.BundleMaxEntries)");
            CheckTotals(entries, stream.Length, limits);
            // Entry names are Windows paths: two names that differ only in case are the same file.
            var files = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var folders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in entries)
            {
                var target = SafeTarget(root, entry.FullName);
                var relative = Path.GetRelativePath(root, target);
                if (entry.FullName.EndsWith('/') || entry.FullName.EndsWith('\\'))
                {
                    if (files.Contains(relative))
                        throw EntryError(entry, "is a folder with the name of a file extracted before it");
                    CheckParents(entry, relative, files, folders);
                    Directory.CreateDirectory(target);
                    continue;
                }
                if (folders.Contains(relative)) throw EntryError(entry, "is a file with the name of a folder extracted before it");
                if (!files.Add(relative)) throw EntryError(entry, "appears twice in the archive");
                CheckParents(entry, relative, files, folders);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                Copy(entry, output);
            }
        }
    }

    /// <summary>Checked on the central directory before anything is written: a bomb fails fast, not after filling the disk.</summary>
    private static void CheckTotals(IReadOnlyList<ZipArchiveEntry> entries, long archiveLength, Limits limits)
    {
        long total = 0;
        foreach (var entry in entries)
        {
            total += entry.Length;
            if (total > limits.MaxTotalBytes)
                throw new MalformedDataException(Format, 0,
                    $"the entries hold more than {limits.MaxTotalBytes} bytes uncompressed (the limit; raise it with --max-bundle-size if the server really has that much evidence)");
            if (entry.CompressedLength > 0 && (double)entry.Length / entry.CompressedLength > limits.MaxCompressionRatio)
                throw EntryError(entry, $"has a compression ratio over {limits.MaxCompressionRatio}:1 (ReaderLimits.BundleMaxCompressionRatio), as zip bombs do");
        }
        if (archiveLength > 0 && (double)total / archiveLength > limits.MaxTotalCompressionRatio)
            throw new MalformedDataException(Format, 0,
                $"{archiveLength} bytes expand to {total} ({total / archiveLength}:1, over the {limits.MaxTotalCompressionRatio}:1 limit ReaderLimits.BundleMaxTotalCompressionRatio), as zip bombs do");
    }

    private static void CheckParents(ZipArchiveEntry entry, string relative, HashSet<string> files, HashSet<string> folders)
    {
        for (var parent = Path.GetDirectoryName(relative); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (files.Contains(parent)) throw EntryError(entry, $"lies inside '{parent.Replace('\\', '/')}', which is a file in the archive");
            if (!folders.Add(parent)) break; // its own parents were checked when it was added
        }
    }

    /// <summary>Resolves an entry name under <paramref name="root"/>, refusing anything that would land outside it.</summary>
    public static string SafeTarget(string root, string entryName)
    {
        var name = entryName.Replace('\\', '/');
        if (name.Any(char.IsControl))
            throw new MalformedDataException(Format, 0, $"entry '{Printable(entryName)}' has a NUL or control character in its name");
        if (name.Length > ReaderLimits.BundleMaxEntryNameChars)
            throw new MalformedDataException(Format, 0,
                $"entry '{Printable(entryName)}' has a name of {name.Length} characters, over the limit of {ReaderLimits.BundleMaxEntryNameChars} (ReaderLimits.BundleMaxEntryNameChars)");
        if (name.Length == 0 || name.StartsWith('/') || (name.Length > 1 && name[1] == ':'))
            throw new MalformedDataException(Format, 0, $"entry '{Printable(entryName)}' has an absolute path");
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p is ".." or "."))
            throw new MalformedDataException(Format, 0, $"entry '{Printable(entryName)}' climbs out of the archive");
        if (parts.FirstOrDefault(p => p.Length > ReaderLimits.BundleMaxPathComponentChars) is { } longPart)
            throw new MalformedDataException(Format, 0,
                $"entry '{Printable(entryName)}' has a path component of {longPart.Length} characters; file systems hold at most {ReaderLimits.BundleMaxPathComponentChars}");
        var target = Path.GetFullPath(Path.Combine([root, .. parts]));
        var rootWithSlash = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!target.StartsWith(rootWithSlash, StringComparison.Ordinal) && target != root)
            throw new MalformedDataException(Format, 0, $"entry '{Printable(entryName)}' resolves outside the extraction folder");
        return target;
    }

    /// <summary>
    /// Copies an entry, stopping at its declared length so a lying header cannot fill the disk, then checks that the
    /// data was all there and that its CRC-32 is the one recorded (an entry that declares fewer bytes than it holds is
    /// cut short by the decompressor, and only the CRC shows it).
    /// </summary>
    private static void Copy(ZipArchiveEntry entry, Stream output)
    {
        var buffer = new byte[81920];
        long written = 0;
        uint crc = 0;
        try
        {
            using var input = entry.Open();
            int read;
            while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                written += read;
                if (written > entry.Length) throw EntryError(entry, $"holds more than the {entry.Length} bytes its header says");
                crc = Crc32.Append(crc, buffer.AsSpan(0, read));
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException ex)
        {
            throw EntryError(entry, $"is damaged ({FirstSentence(ex.Message)})");
        }
        if (written != entry.Length) throw EntryError(entry, $"holds {written} bytes, its header says {entry.Length}");
        if (crc != entry.Crc32)
            throw EntryError(entry, $"has CRC-32 0x{crc:X8}, its header says 0x{entry.Crc32:X8}: the data is damaged or its recorded size is wrong");
    }

    private static MalformedDataException EntryError(ZipArchiveEntry entry, string problem) =>
        new(Format, 0, $"entry '{Printable(entry.FullName)}' {problem}");

    /// <summary>Names come from the archive: show control characters as escapes and cut very long ones.</summary>
    private static string Printable(string name)
    {
        var shown = string.Concat(name.Select(c => char.IsControl(c) ? $"\\x{(int)c:X2}" : c.ToString()));
        return shown.Length > 120 ? shown[..60] + "…" + shown[^40..] : shown;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
