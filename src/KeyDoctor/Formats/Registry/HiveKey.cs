using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A key of a <see cref="RegistryHive"/>: a handle on its validated "nk" cell. Names, values and subkeys are
/// decoded when asked for; nothing is cached, so a walk over a big hive keeps only what the caller keeps.
/// </summary>
public sealed class HiveKey : RegistryKey
{
    private readonly RegistryHive _hive;
    private readonly Cell _cell;
    private readonly HiveKey? _parent;
    private readonly int _depth;
    private string? _name;
    private string? _path;

    internal HiveKey(RegistryHive hive, Cell cell, HiveKey? parent, int depth)
    {
        _hive = hive;
        _cell = cell;
        _parent = parent;
        _depth = depth;
    }

    private KeyNode Node
    {
        get
        {
            KeyNode.TryParse(_hive.Span(_cell), out var node);
            return node;
        }
    }

    /// <summary>Offset of this key's cell, relative to the hive bins data (as other records reference it).</summary>
    public uint CellOffset => _cell.Offset;

    public override string Name => _name ??= Node.Name;

    public override string Path => _path ??= _parent is null ? "" : _parent.Path.Length == 0 ? Name : _parent.Path + "\\" + Name;

    public HiveKey? Parent => _parent;

    public override DateTime? LastWritten => FileTime.ToDateTime(Node.LastWrittenRaw);

    /// <summary>The nk flags (0x20 compressed name, 0x10 symbolic link, 0x4 hive root, ...).</summary>
    public ushort Flags => Node.Flags;

    /// <summary>The subkey count stored in the key node (the list itself decides what is enumerated).</summary>
    public int DeclaredSubkeyCount => (int)Math.Min(Node.SubkeyCount, int.MaxValue);

    public int DeclaredValueCount => (int)Math.Min(Node.ValueCount, int.MaxValue);

    public override string? ClassName
    {
        get
        {
            var node = Node;
            if (node.ClassNameOffset == Cell.None || node.ClassNameLength == 0) return null;
            if (!_hive.TryGetCell(node.ClassNameOffset, out var cell, out var reason))
            {
                _hive.Report(node.ClassNameOffset, $"class name of key at {RegistryHive.FileOffset(_cell.Offset)} unreadable: {reason}");
                return null;
            }
            var data = _hive.Span(cell);
            var length = node.ClassNameLength;
            if (length > data.Length)
            {
                _hive.Report(node.ClassNameOffset, $"class name of {length} bytes runs past its cell");
                length = (ushort)data.Length;
            }
            return Encoding.Unicode.GetString(data[..(length & ~1)]);
        }
    }

    /// <summary>The key's security record (shared, reference-counted), or null when unreadable.</summary>
    public SecurityKey? Security
    {
        get
        {
            var offset = Node.SecurityOffset;
            if (offset == Cell.None) return null;
            if (!_hive.TryGetCell(offset, out var cell, out var reason))
            {
                _hive.Report(offset, $"security record unreadable: {reason}");
                return null;
            }
            var problem = SecurityKey.TryParse(_hive.Span(cell), out var security);
            if (problem is not null) _hive.Report(offset, problem);
            return security;
        }
    }

    public override IReadOnlyList<RegistryKey> Subkeys
    {
        get
        {
            var offsets = SubkeyOffsets();
            if (offsets.Count == 0) return [];
            var keys = new List<RegistryKey>(offsets.Count);
            foreach (var offset in offsets)
                if (TryOpenChild(offset) is { } child) keys.Add(child);
            return keys;
        }
    }

    public override IReadOnlyList<RegistryValue> Values
    {
        get
        {
            var node = Node;
            var count = ValueListCount(node, out var list);
            if (count == 0) return [];
            var values = new List<RegistryValue>(count);
            for (var i = 0; i < count; i++)
                if (TryReadValueAt(list, i, null, out var view)) values.Add(view.ToValue());
            return values;
        }
    }

    /// <summary>
    /// The values as views over the hive bytes, in list order, with the same problems reported as <see cref="Values"/>:
    /// no string or object per value.
    /// </summary>
    public RegistryValueViewEnumerator ValueViews
    {
        get
        {
            var count = ValueListCount(Node, out var list);
            return new RegistryValueViewEnumerator(this, list, count);
        }
    }

    /// <summary>
    /// The stored name: one Latin-1 byte per character when <paramref name="compressed"/> (what Windows calls a
    /// compressed name), else UTF-16LE. <see cref="Name"/> is its decoded form.
    /// </summary>
    public ReadOnlySpan<byte> RawName(out bool compressed)
    {
        KeyNode.TryParse(_hive.Span(_cell), out var node);
        compressed = node.HasCompressedName;
        return node.NameBytes;
    }

    /// <summary>A stored key or value name as text (see <see cref="RawName"/> and <see cref="RegistryValueView.NameBytes"/>).</summary>
    public static string DecodeName(ReadOnlySpan<byte> stored, bool compressed) => KeyNode.DecodeName(stored, compressed);

    public override RegistryKey? OpenSubkey(string name)
    {
        var node = Node;
        if (node.SubkeyCount == 0 || node.SubkeyListOffset == Cell.None) return null;
        foreach (var offset in SubkeyOffsets())
        {
            if (!_hive.TryGetCell(offset, out var cell, out _)) continue;
            if (KeyNode.TryParse(_hive.Span(cell), out var child) is not null) continue;
            if (child.NameEquals(name)) return TryOpenChild(offset);
        }
        return null;
    }

    public override RegistryValue? GetValue(string name)
    {
        var count = ValueListCount(Node, out var list);
        for (var i = 0; i < count; i++)
            if (TryReadValueAt(list, i, name, out var view)) return view.ToValue();
        return null;
    }

    private List<uint> SubkeyOffsets()
    {
        var node = Node;
        var offsets = new List<uint>();
        if (node.SubkeyCount == 0) return offsets;
        if (node.SubkeyListOffset == Cell.None)
        {
            _hive.Report(_cell.Offset, $"key declares {node.SubkeyCount} subkeys but has no subkey list");
            return offsets;
        }
        SubkeyLists.Collect(_hive, node.SubkeyListOffset, offsets);
        if (offsets.Count != node.SubkeyCount)
            _hive.Report(node.SubkeyListOffset, $"key at {RegistryHive.FileOffset(_cell.Offset)} declares {node.SubkeyCount} subkeys, its list holds {offsets.Count}");
        return offsets;
    }

    private HiveKey? TryOpenChild(uint offset)
    {
        if (_depth + 1 > MaxDepth)
        {
            _hive.Report(offset, $"key nesting deeper than {MaxDepth} levels (not followed)");
            return null;
        }
        for (var ancestor = this; ancestor is not null; ancestor = ancestor._parent)
            if (ancestor._cell.Offset == offset)
            {
                _hive.Report(offset, $"subkey list of key at {RegistryHive.FileOffset(_cell.Offset)} points back to an ancestor (cycle, not followed)");
                return null;
            }
        if (!_hive.TryGetCell(offset, out var cell, out var reason))
        {
            _hive.Report(offset, $"subkey of key at {RegistryHive.FileOffset(_cell.Offset)} unreadable: {reason}");
            return null;
        }
        var problem = KeyNode.TryParse(_hive.Span(cell), out var child);
        if (problem is not null)
        {
            _hive.Report(offset, problem);
            return null;
        }
        // Each key node names exactly one parent; following only children that name us keeps the walk a tree,
        // whatever a damaged or crafted list says (shared nodes would otherwise multiply without bound).
        if (child.Parent != _cell.Offset)
        {
            _hive.Report(offset, $"key node's parent field is {RegistryHive.FileOffset(child.Parent)}, but it is listed under key at {RegistryHive.FileOffset(_cell.Offset)} (not followed)");
            return null;
        }
        return new HiveKey(_hive, cell, this, _depth + 1);
    }

    private int ValueListCount(KeyNode node, out Cell list)
    {
        list = default;
        if (node.ValueCount == 0) return 0;
        if (!_hive.TryGetCell(node.ValueListOffset, out list, out var reason))
        {
            _hive.Report(node.ValueListOffset, $"value list of key at {RegistryHive.FileOffset(_cell.Offset)} unreadable: {reason}");
            return 0;
        }
        var fits = list.Length / 4;
        if (node.ValueCount > (uint)fits)
        {
            _hive.Report(node.ValueListOffset, $"key declares {node.ValueCount} values but its value list holds {fits}");
            return fits;
        }
        return (int)node.ValueCount;
    }

    /// <summary>
    /// Reads entry <paramref name="index"/> of the value list; false when it is unreadable (reported) or, with
    /// <paramref name="wantedName"/>, named otherwise.
    /// </summary>
    internal bool TryReadValueAt(Cell list, int index, string? wantedName, out RegistryValueView value)
    {
        value = default;
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(_hive.Span(list)[(index * 4)..]);
        if (!_hive.TryGetCell(offset, out var cell, out var reason))
        {
            _hive.Report(offset, $"value of key at {RegistryHive.FileOffset(_cell.Offset)} unreadable: {reason}");
            return false;
        }
        var span = _hive.Span(cell);
        var problem = ValueKey.TryParse(span, out var vk);
        if (problem is not null)
        {
            _hive.Report(offset, problem);
            return false;
        }
        if (wantedName is not null && !vk.NameEquals(wantedName)) return false;
        value = ReadData(offset, cell, vk);
        return true;
    }

    private RegistryValueView ReadData(uint offset, Cell cell, ValueKey vk)
    {
        var name = vk.NameBytes;
        var compressed = vk.HasCompressedName;
        var type = (RegistryValueType)vk.Type;
        var size = vk.DataSize;
        if (vk.IsInline)
        {
            if (size > 4)
            {
                _hive.Report(offset, $"inline value data claims {size} bytes (at most 4 fit)");
                return new RegistryValueView(name, compressed, type, _hive.Memory(cell.Start + ValueKey.InlineDataPosition, 4), "inline data size larger than 4");
            }
            return new RegistryValueView(name, compressed, type, _hive.Memory(cell.Start + ValueKey.InlineDataPosition, (int)size));
        }
        if (size == 0) return new RegistryValueView(name, compressed, type, ReadOnlyMemory<byte>.Empty);
        if (!_hive.TryGetCell(vk.DataOffset, out var dataCell, out var reason))
        {
            var why = $"value data unreadable: {reason}";
            _hive.Report(vk.DataOffset == Cell.None ? offset : vk.DataOffset, why);
            return new RegistryValueView(name, compressed, type, ReadOnlyMemory<byte>.Empty, why);
        }
        var data = _hive.Span(dataCell);
        if (size > ValueKey.BigDataThreshold && _hive.MinorVersion > 3 && BigData.IsBigData(data))
        {
            var bytes = BigData.Assemble(_hive, vk.DataOffset, data, size, out var bigProblem);
            return new RegistryValueView(name, compressed, type, bytes, bigProblem);
        }
        if (size > (uint)dataCell.Length)
        {
            var why = $"value data size {size} exceeds its cell ({dataCell.Length} bytes)";
            _hive.Report(vk.DataOffset, why);
            return new RegistryValueView(name, compressed, type, _hive.Memory(dataCell.Start, dataCell.Length), why);
        }
        return new RegistryValueView(name, compressed, type, _hive.Memory(dataCell.Start, (int)size));
    }
}
