namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A registry key held in memory (what a .reg export describes). Subkeys keep their order of first appearance
/// and are found case-insensitively.
/// </summary>
internal sealed class MemoryKey : RegistryKey
{
    private readonly List<MemoryKey> _subkeys = [];
    private readonly Dictionary<string, MemoryKey> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<RegistryValue> _values = [];
    private readonly Dictionary<string, int> _valueIndex = new(StringComparer.OrdinalIgnoreCase);

    public MemoryKey(string name, MemoryKey? parent)
    {
        Name = name;
        Parent = parent;
        FullPath = parent is null ? "" : parent.FullPath.Length == 0 ? name : parent.FullPath + "\\" + name;
    }

    public MemoryKey? Parent { get; }
    public string FullPath { get; }
    public override string Name { get; }
    public override string Path => FullPath;
    public override DateTime? LastWritten => null;
    public override string? ClassName => null;
    public override IReadOnlyList<RegistryKey> Subkeys => _subkeys;
    public override IReadOnlyList<RegistryValue> Values => _values;

    public override RegistryKey? OpenSubkey(string name) => _byName.GetValueOrDefault(name);

    public override RegistryValue? GetValue(string name) =>
        _valueIndex.TryGetValue(name, out var index) ? _values[index] : null;

    public MemoryKey GetOrAdd(string name)
    {
        if (_byName.TryGetValue(name, out var existing)) return existing;
        var key = new MemoryKey(name, this);
        _subkeys.Add(key);
        _byName.Add(name, key);
        return key;
    }

    /// <summary>Sets a value; a later line for the same name replaces the earlier one, as regedit applies it.</summary>
    public void SetValue(RegistryValue value)
    {
        if (_valueIndex.TryGetValue(value.Name, out var index)) _values[index] = value;
        else
        {
            _valueIndex.Add(value.Name, _values.Count);
            _values.Add(value);
        }
    }

    public bool RemoveValue(string name)
    {
        if (!_valueIndex.Remove(name, out var index)) return false;
        _values.RemoveAt(index);
        for (var i = index; i < _values.Count; i++) _valueIndex[_values[i].Name] = i;
        return true;
    }
}

/// <summary>A key seen from a subtree view: the same key, with its path relative to the view's root.</summary>
internal sealed class RebasedKey(RegistryKey inner, int prefixLength) : RegistryKey
{
    public RegistryKey Inner => inner;
    public override string Name => inner.Name;
    public override string Path => inner.Path.Length <= prefixLength ? "" : inner.Path[(prefixLength + 1)..];
    public override DateTime? LastWritten => inner.LastWritten;
    public override string? ClassName => inner.ClassName;
    public override IReadOnlyList<RegistryKey> Subkeys => inner.Subkeys.Select(k => (RegistryKey)new RebasedKey(k, prefixLength)).ToList();
    public override IReadOnlyList<RegistryValue> Values => inner.Values;
    public override RegistryKey? OpenSubkey(string name) => inner.OpenSubkey(name) is { } k ? new RebasedKey(k, prefixLength) : null;
    public override RegistryValue? GetValue(string name) => inner.GetValue(name);
}

/// <summary>A hive-like view of one key of a larger tree (e.g. HKEY_LOCAL_MACHINE\SOFTWARE of a .reg export).</summary>
internal sealed class SubtreeHive(string source, RegistryKey root, IReadOnlyList<RegistryProblem> problems) : IRegistryHive
{
    public string Source => source;
    public RegistryKey Root { get; } = new RebasedKey(root, root.Path.Length);
    public IReadOnlyList<RegistryProblem> Problems => problems;
    public RegistryKey? OpenKey(string path) => RegistryKey.OpenFromRoot(Root, path);
}
