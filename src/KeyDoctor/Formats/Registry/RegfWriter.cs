using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Writes a clean hive (regf 1.5) from any key tree: keys with class names and times, values of every type (inline,
/// single cell, or big data), lh subkey lists sorted as Windows sorts them (ri above 500 subkeys), one shared
/// security record, one hive bin, and a valid base-block checksum. Meant for tests and for rebuilding hives, not for
/// editing a hive in place.
/// </summary>
public static class RegfWriter
{
    private const int LeafCapacity = 500;

    /// <summary>Serializes <paramref name="root"/> and everything below it as a hive file.</summary>
    public static byte[] Write(RegistryKey root, string fileName = "keydoctor", DateTime? timestamp = null)
    {
        var time = FileTime.FromDateTime(timestamp ?? new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var cells = new CellBuffer();
        var security = cells.Allocate(SecurityRecord.Length);
        var rootOffset = WriteKey(cells, root, parent: 0, security, time, isRoot: true, depth: 0, out var keyCount);
        // The security record is shared by every key: a circular list of one, referenced once per key.
        var sk = cells.Span(security, SecurityRecord.Length);
        "sk"u8.CopyTo(sk);
        BinaryPrimitives.WriteUInt32LittleEndian(sk[4..], security);
        BinaryPrimitives.WriteUInt32LittleEndian(sk[8..], security);
        BinaryPrimitives.WriteUInt32LittleEndian(sk[12..], (uint)keyCount);
        BinaryPrimitives.WriteUInt32LittleEndian(sk[16..], (uint)SecurityRecord.Descriptor.Length);
        SecurityRecord.Descriptor.CopyTo(sk[20..]);

        var bins = cells.Finish(time);
        var file = new byte[BaseBlock.Size + bins.Length];
        var header = file.AsSpan(0, BaseBlock.Size);
        "regf"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(header[12..], time);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], 5);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[36..], rootOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)bins.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[44..], 1);
        var name = Encoding.Unicode.GetBytes(fileName.Length > 31 ? fileName[^31..] : fileName);
        name.CopyTo(header[48..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[508..], BaseBlock.ComputeChecksum(header));
        bins.CopyTo(file.AsSpan(BaseBlock.Size));
        return file;
    }

    private static uint WriteKey(CellBuffer cells, RegistryKey key, uint parent, uint security, ulong defaultTime, bool isRoot, int depth, out int keyCount)
    {
        if (depth > RegistryKey.MaxDepth) throw new InvalidOperationException($"key tree deeper than {RegistryKey.MaxDepth} levels");
        var nameBytes = EncodeName(key.Name, out var compressed);
        var node = cells.Allocate(KeyNode.FixedSize + nameBytes.Length);
        keyCount = 1;

        // Subkeys, sorted by upper-cased name as Windows keeps them, each written before the list that names them.
        var subkeys = key.Subkeys.OrderBy(k => k.Name.ToUpperInvariant(), StringComparer.Ordinal).ToList();
        var children = new List<(uint Offset, string Name)>(subkeys.Count);
        int maxSubkeyName = 0, maxClass = 0;
        foreach (var subkey in subkeys)
        {
            children.Add((WriteKey(cells, subkey, node, security, defaultTime, isRoot: false, depth + 1, out var count), subkey.Name));
            keyCount += count;
            maxSubkeyName = Math.Max(maxSubkeyName, subkey.Name.Length * 2);
            maxClass = Math.Max(maxClass, (subkey.ClassName?.Length ?? 0) * 2);
        }
        var subkeyList = children.Count == 0 ? Cell.None : WriteSubkeyList(cells, children);

        var values = key.Values;
        int maxValueName = 0, maxData = 0;
        var valueOffsets = new uint[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            valueOffsets[i] = WriteValue(cells, values[i]);
            maxValueName = Math.Max(maxValueName, values[i].Name.Length * 2);
            maxData = Math.Max(maxData, values[i].Data.Length);
        }
        var valueList = Cell.None;
        if (values.Count > 0)
        {
            valueList = cells.Allocate(values.Count * 4);
            var list = cells.Span(valueList, values.Count * 4);
            for (var i = 0; i < values.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(list[(i * 4)..], valueOffsets[i]);
        }

        var classOffset = Cell.None;
        var classBytes = key.ClassName is { Length: > 0 } className ? Encoding.Unicode.GetBytes(className) : [];
        if (classBytes.Length > 0)
        {
            classOffset = cells.Allocate(classBytes.Length);
            classBytes.CopyTo(cells.Span(classOffset, classBytes.Length));
        }

        var nk = cells.Span(node, KeyNode.FixedSize + nameBytes.Length);
        "nk"u8.CopyTo(nk);
        ushort flags = (ushort)((compressed ? KeyNode.FlagCompressedName : 0) | (isRoot ? KeyNode.FlagHiveEntry | KeyNode.FlagNoDelete : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(nk[2..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(nk[4..], key.LastWritten is { } written ? FileTime.FromDateTime(written) : defaultTime);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[16..], isRoot ? 0 : parent);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[20..], (uint)children.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[28..], subkeyList);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[32..], Cell.None);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[36..], (uint)values.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[40..], valueList);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[44..], security);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[48..], classOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[52..], (uint)maxSubkeyName);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[56..], (uint)maxClass);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[60..], (uint)maxValueName);
        BinaryPrimitives.WriteUInt32LittleEndian(nk[64..], (uint)maxData);
        BinaryPrimitives.WriteUInt16LittleEndian(nk[72..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(nk[74..], (ushort)classBytes.Length);
        nameBytes.CopyTo(nk[76..]);
        return node;
    }

    private static uint WriteSubkeyList(CellBuffer cells, List<(uint Offset, string Name)> children)
    {
        if (children.Count <= LeafCapacity) return WriteHashLeaf(cells, children);
        var leaves = children.Chunk(LeafCapacity).Select(chunk => WriteHashLeaf(cells, chunk.ToList())).ToList();
        var ri = cells.Allocate(4 + leaves.Count * 4);
        var span = cells.Span(ri, 4 + leaves.Count * 4);
        "ri"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)leaves.Count);
        for (var i = 0; i < leaves.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(span[(4 + i * 4)..], leaves[i]);
        return ri;
    }

    private static uint WriteHashLeaf(CellBuffer cells, List<(uint Offset, string Name)> children)
    {
        var size = 4 + children.Count * 8;
        var lh = cells.Allocate(size);
        var span = cells.Span(lh, size);
        "lh"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)children.Count);
        for (var i = 0; i < children.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[(4 + i * 8)..], children[i].Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(8 + i * 8)..], SubkeyLists.NameHash(children[i].Name));
        }
        return lh;
    }

    private static uint WriteValue(CellBuffer cells, RegistryValue value)
    {
        var nameBytes = EncodeName(value.Name, out var compressed);
        var data = value.Data.Span;
        var vkOffset = cells.Allocate(ValueKey.FixedSize + nameBytes.Length);
        uint sizeField = (uint)data.Length;
        uint dataField;
        if (data.Length <= 4)
        {
            sizeField |= ValueKey.InlineDataFlag;
            Span<byte> inline = stackalloc byte[4];
            inline.Clear();
            data.CopyTo(inline);
            dataField = BinaryPrimitives.ReadUInt32LittleEndian(inline);
        }
        else if (data.Length > ValueKey.BigDataThreshold) dataField = WriteBigData(cells, data);
        else
        {
            dataField = cells.Allocate(data.Length);
            data.CopyTo(cells.Span(dataField, data.Length));
        }
        var vk = cells.Span(vkOffset, ValueKey.FixedSize + nameBytes.Length);
        "vk"u8.CopyTo(vk);
        BinaryPrimitives.WriteUInt16LittleEndian(vk[2..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(vk[4..], sizeField);
        BinaryPrimitives.WriteUInt32LittleEndian(vk[8..], dataField);
        BinaryPrimitives.WriteUInt32LittleEndian(vk[12..], (uint)value.Type);
        // Windows leaves the flags 0 on the unnamed (default) value; impacket's reader relies on that.
        BinaryPrimitives.WriteUInt16LittleEndian(vk[16..], compressed && nameBytes.Length > 0 ? ValueKey.FlagCompressedName : (ushort)0);
        nameBytes.CopyTo(vk[20..]);
        return vkOffset;
    }

    private static uint WriteBigData(CellBuffer cells, ReadOnlySpan<byte> data)
    {
        var segments = (data.Length + ValueKey.BigDataThreshold - 1) / ValueKey.BigDataThreshold;
        var offsets = new uint[segments];
        for (var i = 0; i < segments; i++)
        {
            var chunk = data.Slice(i * ValueKey.BigDataThreshold, Math.Min(ValueKey.BigDataThreshold, data.Length - i * ValueKey.BigDataThreshold));
            offsets[i] = cells.Allocate(chunk.Length);
            chunk.CopyTo(cells.Span(offsets[i], chunk.Length));
        }
        var list = cells.Allocate(segments * 4);
        var listSpan = cells.Span(list, segments * 4);
        for (var i = 0; i < segments; i++) BinaryPrimitives.WriteUInt32LittleEndian(listSpan[(i * 4)..], offsets[i]);
        var db = cells.Allocate(8);
        var dbSpan = cells.Span(db, 8);
        "db"u8.CopyTo(dbSpan);
        BinaryPrimitives.WriteUInt16LittleEndian(dbSpan[2..], (ushort)segments);
        BinaryPrimitives.WriteUInt32LittleEndian(dbSpan[4..], list);
        return db;
    }

    /// <summary>Names that fit in Latin-1 are stored one byte per character ("compressed"), as Windows does.</summary>
    private static byte[] EncodeName(string name, out bool compressed)
    {
        compressed = name.All(c => c <= 0xFF);
        var bytes = compressed ? Encoding.Latin1.GetBytes(name) : Encoding.Unicode.GetBytes(name);
        if (bytes.Length > ushort.MaxValue) throw new ArgumentException($"name of {bytes.Length} bytes is too long for a hive");
        return bytes;
    }

    /// <summary>Cells appended to one growing hive bin; offsets are relative to the hive bins data.</summary>
    private sealed class CellBuffer
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _used = HiveBin.HeaderSize;

        public uint Allocate(int dataLength)
        {
            var size = (4 + dataLength + 7) & ~7;
            if (size < Cell.MinimumSize) size = Cell.MinimumSize;
            while (_used + size > _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            var offset = _used;
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset), -size);
            _used += size;
            return (uint)offset;
        }

        public Span<byte> Span(uint offset, int length) => _buffer.AsSpan((int)offset + 4, length);

        /// <summary>Closes the bin: header, and the space left to the 4 KiB boundary as one free cell.</summary>
        public byte[] Finish(ulong time)
        {
            var total = (_used + HiveBin.PageSize - 1) / HiveBin.PageSize * HiveBin.PageSize;
            if (total - _used is > 0 and < Cell.MinimumSize) total += HiveBin.PageSize; // room for the free cell
            var bins = new byte[total];
            _buffer.AsSpan(0, _used).CopyTo(bins);
            if (total > _used) BinaryPrimitives.WriteInt32LittleEndian(bins.AsSpan(_used), total - _used);
            "hbin"u8.CopyTo(bins);
            BinaryPrimitives.WriteUInt32LittleEndian(bins.AsSpan(4), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(bins.AsSpan(8), (uint)total);
            BinaryPrimitives.WriteUInt64LittleEndian(bins.AsSpan(20), time);
            return bins;
        }
    }

    /// <summary>A self-relative descriptor: owner SYSTEM, group SYSTEM, DACL granting KEY_ALL_ACCESS to SYSTEM and Administrators, KEY_READ to Everyone.</summary>
    private static class SecurityRecord
    {
        public static readonly byte[] Descriptor = Build();
        public static int Length => 20 + Descriptor.Length;

        private static byte[] Build()
        {
            byte[] system = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
            byte[] admins = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];
            byte[] everyone = [1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
            byte[] Ace(uint mask, byte[] sid)
            {
                var ace = new byte[8 + sid.Length];
                ace[0] = 0; // ACCESS_ALLOWED_ACE_TYPE
                ace[1] = 0x02; // CONTAINER_INHERIT_ACE
                BinaryPrimitives.WriteUInt16LittleEndian(ace.AsSpan(2), (ushort)ace.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(ace.AsSpan(4), mask);
                sid.CopyTo(ace, 8);
                return ace;
            }
            byte[][] aces = [Ace(0xF003F, system), Ace(0xF003F, admins), Ace(0x20019, everyone)];
            var aclSize = 8 + aces.Sum(a => a.Length);
            var acl = new byte[aclSize];
            acl[0] = 2;
            BinaryPrimitives.WriteUInt16LittleEndian(acl.AsSpan(2), (ushort)aclSize);
            BinaryPrimitives.WriteUInt16LittleEndian(acl.AsSpan(4), (ushort)aces.Length);
            var at = 8;
            foreach (var ace in aces) { ace.CopyTo(acl, at); at += ace.Length; }
            var descriptor = new byte[20 + system.Length * 2 + aclSize];
            descriptor[0] = 1;
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(2), 0x8004); // SE_SELF_RELATIVE | SE_DACL_PRESENT
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(4), 20); // owner
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(8), 32); // group
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(16), 44); // DACL
            system.CopyTo(descriptor, 20);
            system.CopyTo(descriptor, 32);
            acl.CopyTo(descriptor, 44);
            return descriptor;
        }
    }
}
