namespace KeyDoctor.Formats.Registry;

/// <summary>
/// One registry tree, read from a hive file or from a .reg export: every check reads the registry through this,
/// so it works on either source. Key and value names compare case-insensitively, as on Windows.
/// </summary>
public interface IRegistryHive
{
    /// <summary>Where the tree came from (a file name), for reports.</summary>
    string Source { get; }

    /// <summary>The root key. Its <see cref="RegistryKey.Path"/> is the empty string.</summary>
    RegistryKey Root { get; }

    /// <summary>
    /// The key at <paramref name="path"/> (backslash-separated, relative to the root), or null when it does not
    /// exist. A leading backslash and a leading component naming the root key itself are accepted.
    /// </summary>
    RegistryKey? OpenKey(string path);

    /// <summary>What could not be read so far (hives read lazily: enumerating more can reveal more).</summary>
    IReadOnlyList<RegistryProblem> Problems { get; }
}

/// <summary>A registry key of either source. Subkeys and values are read on each call, in stored order.</summary>
public abstract class RegistryKey
{
    /// <summary>Maximum key depth walked: Windows refuses deeper trees (512 levels), so anything deeper is damage.</summary>
    public const int MaxDepth = ReaderLimits.HiveMaxKeyDepth;

    public abstract string Name { get; }

    /// <summary>Path from the hive root, backslash-separated; "" for the root itself.</summary>
    public abstract string Path { get; }

    /// <summary>Last-written time (UTC), when the source records one.</summary>
    public abstract DateTime? LastWritten { get; }

    /// <summary>The class name (the boot key lives in the class names under Control\Lsa), or null.</summary>
    public abstract string? ClassName { get; }

    public abstract IReadOnlyList<RegistryKey> Subkeys { get; }

    public abstract IReadOnlyList<RegistryValue> Values { get; }

    /// <summary>The direct subkey called <paramref name="name"/> (case-insensitive), or null.</summary>
    public virtual RegistryKey? OpenSubkey(string name)
    {
        foreach (var key in Subkeys)
            if (string.Equals(key.Name, name, StringComparison.OrdinalIgnoreCase)) return key;
        return null;
    }

    /// <summary>The value called <paramref name="name"/> (case-insensitive; "" is the default value), or null.</summary>
    public virtual RegistryValue? GetValue(string name)
    {
        foreach (var value in Values)
            if (string.Equals(value.Name, name, StringComparison.OrdinalIgnoreCase)) return value;
        return null;
    }

    /// <summary>The key at a backslash-separated path below this one, or null.</summary>
    public RegistryKey? OpenKey(string relativePath)
    {
        var key = this;
        foreach (var part in relativePath.Split('\\', StringSplitOptions.RemoveEmptyEntries))
        {
            key = key.OpenSubkey(part);
            if (key is null) return null;
        }
        return key;
    }

    /// <summary>Every key below this one (depth first, this one first), bounded by <see cref="MaxDepth"/>.</summary>
    public IEnumerable<RegistryKey> DescendantsAndSelf()
    {
        var stack = new Stack<(RegistryKey Key, int Depth)>();
        stack.Push((this, 0));
        while (stack.Count > 0)
        {
            var (key, depth) = stack.Pop();
            yield return key;
            if (depth >= MaxDepth) continue;
            var subkeys = key.Subkeys;
            for (var i = subkeys.Count - 1; i >= 0; i--) stack.Push((subkeys[i], depth + 1));
        }
    }

    public override string ToString() => Path.Length == 0 ? Name : Path;

    internal static RegistryKey? OpenFromRoot(RegistryKey root, string path)
    {
        var trimmed = path.Trim().Trim('\\');
        if (trimmed.Length == 0) return root;
        var found = root.OpenKey(trimmed);
        if (found is not null) return found;
        // Tools print paths with the root key's own name first (regfexport: "ROOT\...", "CMI-CreateHive{...}\...").
        var slash = trimmed.IndexOf('\\');
        var first = slash < 0 ? trimmed : trimmed[..slash];
        if (root.Name.Length > 0 && string.Equals(first, root.Name, StringComparison.OrdinalIgnoreCase))
            return slash < 0 ? root : root.OpenKey(trimmed[(slash + 1)..]);
        return null;
    }
}
