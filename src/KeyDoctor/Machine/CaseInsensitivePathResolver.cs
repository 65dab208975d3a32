using System.Collections.Concurrent;

namespace KeyDoctor.Machine;

/// <summary>
/// Maps a Windows path (case-insensitive) to the real path under a local root (case-sensitive on Linux).
/// Exact-case hits cost one stat; otherwise folder listings are cached, except very large folders
/// (a MachineKeys with millions of files), which are searched on demand so memory stays bounded.
/// </summary>
internal sealed class CaseInsensitivePathResolver(string root)
{
    private const int MaxCachedEntries = 50_000;
    private readonly ConcurrentDictionary<string, Dictionary<string, List<string>>?> _listings = new(StringComparer.Ordinal);

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The local path of <paramref name="windowsPath"/>, or null when no such file or folder exists.</summary>
    public string? Resolve(string windowsPath)
    {
        var parts = WindowsPaths.Normalize(windowsPath).Split('\\', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p is "." or "..")) return null; // Never leave the root.
        return Resolve(Root, parts, 0);
    }

    // Folders copied to a case-sensitive file system by hand can exist twice ("Windows" and "windows"): try each.
    private string? Resolve(string current, string[] parts, int index)
    {
        if (index == parts.Length) return current;
        var exact = Path.Combine(current, parts[index]);
        if ((File.Exists(exact) || Directory.Exists(exact)) && Resolve(exact, parts, index + 1) is { } found)
            return found;
        foreach (var candidate in FindEntries(current, parts[index]))
            if (candidate != exact && Resolve(candidate, parts, index + 1) is { } viaCandidate)
                return viaCandidate;
        return null;
    }

    private IEnumerable<string> FindEntries(string directory, string name)
    {
        if (!Directory.Exists(directory)) return [];
        var listing = _listings.GetOrAdd(directory, BuildListing);
        if (listing is not null)
            return listing.TryGetValue(name, out var found) ? found : [];
        // Too large to cache: scan it for this one name.
        return Directory.EnumerateFileSystemEntries(directory)
            .Where(entry => string.Equals(Path.GetFileName(entry), name, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
    }

    private static Dictionary<string, List<string>>? BuildListing(string directory)
    {
        var map = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var count = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            if (++count > MaxCachedEntries) return null;
            var name = Path.GetFileName(entry);
            if (!map.TryGetValue(name, out var entries)) map[name] = entries = [];
            entries.Add(entry);
        }
        // "Windows" and "windows" side by side: try them in one fixed order, not the directory's.
        foreach (var entries in map.Values) entries.Sort(StringComparer.Ordinal);
        return map;
    }
}
