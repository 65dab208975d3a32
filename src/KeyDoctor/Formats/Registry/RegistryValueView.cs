namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A value of a <see cref="HiveKey"/> as it lies in the hive: the stored name bytes and the data, without a string or
/// an object per value. For callers that format tens of thousands of values and keep none (<c>reg dump --json</c>);
/// <see cref="ToValue"/> gives the ordinary <see cref="RegistryValue"/>.
/// </summary>
public readonly ref struct RegistryValueView
{
    internal RegistryValueView(ReadOnlySpan<byte> nameBytes, bool hasCompressedName, RegistryValueType type, ReadOnlyMemory<byte> data, string? problem = null)
    {
        NameBytes = nameBytes;
        HasCompressedName = hasCompressedName;
        Type = type;
        Data = data;
        Problem = problem;
    }

    /// <summary>The stored name: one Latin-1 byte per character when <see cref="HasCompressedName"/>, else UTF-16LE.</summary>
    public ReadOnlySpan<byte> NameBytes { get; }

    public bool HasCompressedName { get; }

    public RegistryValueType Type { get; }

    /// <summary>The stored bytes (see <see cref="RegistryValue.Data"/>).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Why the data may be incomplete, or null (see <see cref="RegistryValue.Problem"/>).</summary>
    public string? Problem { get; }

    public string DecodeName() => KeyNode.DecodeName(NameBytes, HasCompressedName);

    public RegistryValue ToValue() => new(DecodeName(), Type, Data, Problem);
}

/// <summary>Enumerates a <see cref="HiveKey"/>'s values as <see cref="RegistryValueView"/>s (see <see cref="HiveKey.ValueViews"/>).</summary>
public ref struct RegistryValueViewEnumerator
{
    private readonly HiveKey _key;
    private readonly Cell _list;
    private readonly int _count;
    private int _index;
    private RegistryValueView _current;

    internal RegistryValueViewEnumerator(HiveKey key, Cell list, int count)
    {
        _key = key;
        _list = list;
        _count = count;
        _index = -1;
    }

    public readonly RegistryValueViewEnumerator GetEnumerator() => this;

    public readonly RegistryValueView Current => _current;

    public bool MoveNext()
    {
        // Unreadable values are reported by the key and skipped, as Values does.
        while (++_index < _count)
            if (_key.TryReadValueAt(_list, _index, null, out _current)) return true;
        return false;
    }
}
