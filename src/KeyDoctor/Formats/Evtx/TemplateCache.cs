using System.Buffers.Binary;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// Template definitions parsed in earlier chunks, for the chunks after them. A chunk is self-contained, so it stores
/// again every definition its records use: a log of a thousand chunks holds the same few templates a thousand times.
/// The copies differ only where a chunk's own offsets are written: each name reference (the chunk offset of the name)
/// and, in a name stored inline, its link to the next name of its hash bucket. A definition is reused when everything
/// else is byte for byte the same, it was parsed at the same nesting depth, each inline name sits at the same place
/// within the definition, and each name stored elsewhere in the chunk reads the same: parsing it again would give
/// the same nodes. Per thread (no locks), a table indexed by GUID and size (a collision replaces the older entry),
/// emptied when its definitions pass <see cref="MaxBytesPerThread"/>. On the 727-file corpus 92% of definitions are
/// found here (68% with 256 slots, where different templates kept replacing each other).
/// </summary>
internal static class TemplateCache
{
    private const int Slots = 2048;

    /// <summary>Bigger definitions (rare) are parsed each time.</summary>
    private const int MaxCachedBytes = 8 * 1024;

    /// <summary>The bytes of the definitions held per thread, at most.</summary>
    private const int MaxBytesPerThread = 4 * 1024 * 1024;

    /// <summary>GUID and data size: what the table is indexed by.</summary>
    private const int KeyBytes = 20;

    [ThreadStatic] private static Entry?[]? t_entries;
    [ThreadStatic] private static int t_bytes;
    [ThreadStatic] private static int t_found;

    /// <summary>Definitions found here by this thread so far (tests check that the table is used).</summary>
    internal static int FoundOnThisThread => t_found;

    /// <param name="Bytes">The definition from its GUID to its end.</param>
    /// <param name="Masked">Start of each 4-byte chunk offset in <paramref name="Bytes"/>, ascending.</param>
    /// <param name="References">Each name reference: its field, and the name's place in the definition (or -1 and the name).</param>
    private sealed record Entry(byte[] Bytes, int Depth, int[] Masked, (int Field, int Target, string Name)[] References,
        TemplateDefinition Definition);

    /// <summary>
    /// The definition parsed earlier from the same bytes, placed at <paramref name="offset"/>, or null.
    /// </summary>
    /// <param name="body">The definition at <paramref name="offset"/> from its GUID to its end.</param>
    public static TemplateDefinition? Find(ChunkContext chunk, int offset, ReadOnlySpan<byte> body, int depth)
    {
        if (t_entries is not { } entries || body.Length > MaxCachedBytes) return null;
        var entry = entries[Slot(body)];
        if (entry is null || entry.Depth != depth || entry.Bytes.Length != body.Length) return null;
        ReadOnlySpan<byte> known = entry.Bytes;
        var at = 0;
        foreach (var masked in entry.Masked)
        {
            if (!body[at..masked].SequenceEqual(known[at..masked])) return null;
            at = masked + 4;
        }
        if (!body[at..].SequenceEqual(known[at..])) return null;
        var bodyStart = offset + 4;
        foreach (var (field, target, name) in entry.References)
        {
            var value = BinaryPrimitives.ReadInt32LittleEndian(body[field..]);
            if (target >= 0 ? value - bodyStart != target : !chunk.NameAtEquals(value, name)) return null;
        }
        t_found++;
        return entry.Definition.At(offset);
    }

    /// <param name="bodyStart">The chunk offset of <paramref name="body"/>.</param>
    public static void Add(ReadOnlySpan<byte> body, int bodyStart, int depth, NameReference[] references, TemplateDefinition definition)
    {
        if (body.Length > MaxCachedBytes) return;
        var masked = new SortedSet<int>();
        var kept = new (int Field, int Target, string Name)[references.Length];
        for (var i = 0; i < references.Length; i++)
        {
            var (field, target, name) = references[i];
            var relativeField = field - bodyStart;
            var relativeTarget = target - bodyStart;
            masked.Add(relativeField);
            // A name wholly inside the definition is compared as bytes, but for its next-in-bucket link.
            if (relativeTarget >= 0 && relativeTarget + 8 + (2 * name.Length) + 2 <= body.Length)
            {
                masked.Add(relativeTarget);
                kept[i] = (relativeField, relativeTarget, name);
            }
            else
            {
                kept[i] = (relativeField, -1, name);
            }
        }
        // Masks are 4 bytes; overlapping ones (which only damaged data could make) are not cached.
        var starts = masked.ToArray();
        for (var i = 1; i < starts.Length; i++)
            if (starts[i] < starts[i - 1] + 4) return;
        if (starts.Length > 0 && (starts[0] < KeyBytes || starts[^1] + 4 > body.Length)) return;
        if (t_entries is null || t_bytes + body.Length > MaxBytesPerThread)
        {
            t_entries = new Entry?[Slots];
            t_bytes = 0;
        }
        t_entries[Slot(body)] = new Entry(body.ToArray(), depth, starts, kept, definition);
        t_bytes += body.Length;
    }

    private static int Slot(ReadOnlySpan<byte> body)
    {
        var hash = new HashCode();
        hash.AddBytes(body[..KeyBytes]);
        return hash.ToHashCode() & (Slots - 1);
    }
}
