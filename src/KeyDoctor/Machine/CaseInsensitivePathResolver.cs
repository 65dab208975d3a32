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
    private readonly ConcurrentDictionary<string, Dictionary<string, string>?> _listings = new(StringComparer.Ordinal);

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The local path of <paramref name="windowsPath"/>, or null when no such file or folder exists.</summary>
    public string? Resolve(string windowsPath)
    {
        var parts = WindowsPaths.Normalize(windowsPath).Split('\\', StringSplitOptions.RemoveEmptyEntries);
        var current = Root;
        foreach (var part in parts)
        {
            if (part is "." or "..") return null; // Never leave the root.
            var exact = Path.Combine(current, part);
            if (File.Exists(exact) || Directory.Exists(exact))
            {
                current = exact;
                continue;
            }
            var match = FindEntry(current, part);
            if (match is null) return null;
            current = match;
        }
        return current;
    }

    private string? FindEntry(string directory, string name)
    {
        if (!Directory.Exists(directory)) return null;
        var listing = _listings.GetOrAdd(directory, BuildListing);
        if (listing is not null)
            return listing.TryGetValue(name, out var found) ? found : null;
        // Too large to cache: scan it for this one name.
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
            if (string.Equals(Path.GetFileName(entry), name, StringComparison.OrdinalIgnoreCase))
                return entry;
        return null;
    }

    private static Dictionary<string, string>? BuildListing(string directory)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            if (map.Count >= MaxCachedEntries) return null;
            map.TryAdd(Path.GetFileName(entry), entry);
        }
        return map;
    }
}
