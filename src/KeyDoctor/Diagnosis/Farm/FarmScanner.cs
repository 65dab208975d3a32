using KeyDoctor.Formats.Primitives;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Farm;

/// <summary>
/// Scans every node of a farm (an image folder or a bundle each, on all cores) and compares them: one scan per node,
/// kept only as the facts the comparison needs, so a hundred nodes need the memory of a few.
/// </summary>
public static class FarmScanner
{
    /// <param name="sources">One per node, as the user gave them; they name the nodes in the report.</param>
    /// <param name="progress">Called with each source as its scan finishes (any thread).</param>
    public static FarmReport Scan(IReadOnlyList<string> sources, Action<string>? progress = null)
    {
        var duplicate = sources.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{duplicate.Key} is given twice: give each node's image folder or bundle once");
        // Two workers: each node's scan already reads its key store on several threads.
        var nodes = OrderedParallel.Map(sources, () => 0, (source, _) =>
        {
            var node = ScanNode(source);
            progress?.Invoke(source);
            return node;
        }, workers: Math.Min(2, Environment.ProcessorCount), window: 4).ToList();
        return FarmComparison.Compare(nodes);
    }

    /// <summary>One node: its scan and the farm's facts of it.</summary>
    public static (FarmNode Node, ScanResult Scan) ScanWithResult(string source)
    {
        using var machine = MachineSource.Open(source);
        var scan = Scanner.Scan(machine);
        return (FarmNode.From(scan, source), scan);
    }

    private static FarmNode ScanNode(string source)
    {
        try
        {
            return ScanWithResult(source).Node;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or MalformedDataException)
        {
            throw new FarmNodeException(source, ex);
        }
    }
}

/// <summary>A node of the farm could not be read: names the source, keeps the reason.</summary>
public sealed class FarmNodeException(string source, Exception inner)
    : IOException($"cannot read the farm node {source}: {inner.Message}; check the path, or collect the node again with 'keydoctor collect'", inner)
{
    public string NodeSource { get; } = source;
}
