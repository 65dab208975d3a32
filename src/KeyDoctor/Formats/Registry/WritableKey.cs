namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A key built in code (for <see cref="RegfWriter"/> and repair plans): name, class name, time, values, subkeys.
/// Lookups are case-insensitive; subkeys and values keep the order they were added in.
/// </summary>
public sealed class WritableKey : RegistryKey
{
    private readonly List<WritableKey> _subkeys = [];
    private readonly Dictionary<string, WritableKey> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<RegistryValue> _values = [];
    private readonly WritableKey? _parent;

    public WritableKey(string name) : this(name, null) { }

    private WritableKey(string name, WritableKey? parent)
    {
        if (name.Contains('\\', StringComparison.Ordinal)) throw new ArgumentException("a key name cannot contain a backslash", nameof(name));
        Name = name;
        _parent = parent;
    }

    public override string Name { get; }
    public override string Path => _parent is null ? "" : _parent.Path.Length == 0 ? Name : _parent.Path + "\\" + Name;
    public override DateTime? LastWritten => Written;
    public DateTime? Written { get; set; }
    public override string? ClassName => Class;
    public string? Class { get; set; }
    public override IReadOnlyList<RegistryKey> Subkeys => _subkeys;
    public override IReadOnlyList<RegistryValue> Values => _values;

    public override RegistryKey? OpenSubkey(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The subkey called <paramref name="name"/>, created if missing; a backslash path creates each level.</summary>
    public WritableKey Add(string name)
    {
        var key = this;
        foreach (var part in name.Split('\\', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!key._byName.TryGetValue(part, out var child))
            {
                child = new WritableKey(part, key);
                key._subkeys.Add(child);
                key._byName.Add(part, child);
            }
            key = child;
        }
        return key;
    }

    public WritableKey Set(string name, RegistryValueType type, byte[] data)
    {
        _values.RemoveAll(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase));
        _values.Add(new RegistryValue(name, type, data));
        return this;
    }

    public WritableKey SetString(string name, string text, RegistryValueType type = RegistryValueType.String) =>
        Set(name, type, RegExportReader.Utf16WithNul(text));

    public WritableKey SetDWord(string name, uint number) => Set(name, RegistryValueType.DWordLittleEndian, BitConverter.GetBytes(number));

    /// <summary>A deep copy of any key (hive, export, built) as a writable tree.</summary>
    public static WritableKey CopyOf(RegistryKey source)
    {
        var copy = new WritableKey(source.Name) { Class = source.ClassName, Written = source.LastWritten };
        CopyInto(copy, source, 0);
        return copy;
    }

    private static void CopyInto(WritableKey target, RegistryKey source, int depth)
    {
        foreach (var value in source.Values) target._values.Add(value);
        if (depth >= MaxDepth) return;
        foreach (var subkey in source.Subkeys)
        {
            var child = target.Add(subkey.Name);
            child.Class = subkey.ClassName;
            child.Written = subkey.LastWritten;
            CopyInto(child, subkey, depth + 1);
        }
    }
}
