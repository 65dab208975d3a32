using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Subkey lists: "li" (offsets), "lf" (offset + 4-character name hint), "lh" (offset + name hash) and "ri" (a list
/// of li/lf/lh lists). Element counts are checked against the cell size, an ri may not point to another ri, so the
/// walk is bounded by the cells themselves.
/// </summary>
internal static class SubkeyLists
{
    /// <summary>Appends the key-node offsets of the list at <paramref name="listOffset"/>; reports what it skips.</summary>
    public static void Collect(RegistryHive hive, uint listOffset, List<uint> into)
    {
        if (!hive.TryGetCell(listOffset, out var cell, out var reason))
        {
            hive.Report(listOffset, $"subkey list unreadable: {reason}");
            return;
        }
        var data = hive.Span(cell);
        if (data.Length < 4)
        {
            hive.Report(listOffset, "subkey list cell too small");
            return;
        }
        if (data[0] == (byte)'r' && data[1] == (byte)'i')
        {
            var count = ElementCount(hive, listOffset, data, 4);
            for (var i = 0; i < count; i++)
            {
                var leafOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + i * 4)..]);
                CollectLeaf(hive, leafOffset, into, insideIndexRoot: true);
            }
            return;
        }
        CollectLeaf(hive, listOffset, into, insideIndexRoot: false);
    }

    private static void CollectLeaf(RegistryHive hive, uint offset, List<uint> into, bool insideIndexRoot)
    {
        if (!hive.TryGetCell(offset, out var cell, out var reason))
        {
            hive.Report(offset, $"subkey list unreadable: {reason}");
            return;
        }
        var data = hive.Span(cell);
        if (data.Length < 4)
        {
            hive.Report(offset, "subkey list cell too small");
            return;
        }
        int stride;
        switch ((char)data[0], (char)data[1])
        {
            case ('l', 'f'):
            case ('l', 'h'):
                stride = 8;
                break;
            case ('l', 'i'):
                stride = 4;
                break;
            case ('r', 'i'):
                hive.Report(offset, insideIndexRoot ? "index root points to another index root (not followed)" : "unexpected index root");
                return;
            default:
                hive.Report(offset, $"expected a subkey list (li/lf/lh/ri), found \"{KeyNode.Signature(data)}\"");
                return;
        }
        var count = ElementCount(hive, offset, data, stride);
        for (var i = 0; i < count; i++) into.Add(BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + i * stride)..]));
    }

    private static int ElementCount(RegistryHive hive, uint offset, ReadOnlySpan<byte> data, int stride)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        var fits = (data.Length - 4) / stride;
        if (count > fits)
        {
            hive.Report(offset, $"subkey list claims {count} elements but its cell holds {fits}");
            count = fits;
        }
        return count;
    }

    /// <summary>The "lh" hash of a key name: h = 37 * h + upcase(c) over UTF-16 code units.</summary>
    public static uint NameHash(ReadOnlySpan<char> name)
    {
        uint hash = 0;
        foreach (var c in name) hash = unchecked(37 * hash + char.ToUpperInvariant(c));
        return hash;
    }
}
