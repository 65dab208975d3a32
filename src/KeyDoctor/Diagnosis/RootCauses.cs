using System.Globalization;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Diagnosis;

/// <summary>Names one finding of a result: its ID and subject (IDs repeat, the pair does not).</summary>
public sealed record FindingRef(string Id, string Subject)
{
    public static FindingRef Of(Finding finding) => new(finding.Id, finding.Subject);

    public bool Is(Finding finding) => finding.Id == Id && finding.Subject == Subject;

    public override string ToString() => $"{Id} {Subject}";
}

/// <summary>
/// One line of the causality table: findings of <see cref="Cause"/> explain findings of the <see cref="Consequences"/>
/// when <see cref="When"/> holds (the evidence of both agrees: the same key file, certificate, binding, service).
/// </summary>
public sealed record CausalRule(string Cause, IReadOnlyList<string> Consequences, string When)
{
    public required Func<Finding, Finding, RootCauses.Facts, bool> Applies { get; init; }
}

/// <summary>
/// Which finding explains which: one pass after every check has run, so that a check never needs to know the others.
/// A consequence names its causes in <see cref="Finding.CausedBy"/>; a finding without causes is a root cause. Only
/// evidence that agrees links two findings: KD1001 explains a missing container only when the container's file is
/// there under another GUID; an event is tied to the finding about the service, certificate or key file it names.
/// </summary>
public static class RootCauses
{
    /// <summary>What the link pass knows about the machine besides the findings.</summary>
    /// <param name="KeyFileNames">Names of every key file scanned (any store, any GUID).</param>
    public sealed record Facts(IReadOnlySet<string> KeyFileNames);

    private static readonly string[] CertificateKeyProblems = ["KD2001", "KD2002", "KD2003", "KD2008", "KD2009", "KD2012", "KD2014"];

    /// <summary>The causality table (docs/findings pages quote it).</summary>
    public static readonly IReadOnlyList<CausalRule> Rules =
    [
        new("KD1001", ["KD1002", "KD3001", "KD2008", "KD6001"],
            "the consequence is about the container's key file under the registry's MachineGuid, and a file of that container is present under another GUID (KD6001: always, it is the GUID change seen live)")
        {
            Applies = (cause, f, facts) => f.Id == "KD6001" || UnderOtherGuidOnly(cause, f, facts),
        },
        new("KD1003", ["KD1002", "KD2009"], "the damaged file is the consequence's key file")
        {
            Applies = (cause, f, _) => SameFile(FileOf(cause), FileOf(f)),
        },
        new("KD1002", ["KD4001"], "the event is a 7023/7024 of IISADMIN (the IIS Admin Service cannot open its container)")
        {
            Applies = (_, f, _) => IsEvent(f, 7023, 7024) && Service(f) == "IISADMIN",
        },
        new("KD3006", ["KD4001"], "the event is a 7023/7024 of IISADMIN and no KD1002 explains it")
        {
            Applies = (_, f, _) => IsEvent(f, 7023, 7024) && Service(f) == "IISADMIN",
        },
        new("KD3001", ["KD4001"], "the event is WAS 5057/5059/5172/5173 or a 7023/7024 of WAS or W3SVC")
        {
            Applies = (_, f, _) => IsEvent(f, 5057, 5059, 5172, 5173) || IsEvent(f, 7023, 7024) && Service(f) is "WAS" or "W3SVC",
        },
        new("KD3002", ["KD4001"], "as KD3001") { Applies = (_, f, _) => IsEvent(f, 5057, 5059, 5172, 5173) || IsEvent(f, 7023, 7024) && Service(f) is "WAS" or "W3SVC" },
        new("KD3003", ["KD4001"], "as KD3001") { Applies = (_, f, _) => IsEvent(f, 5172, 5173) },
        new("KD3004", ["KD4001"], "as KD3001") { Applies = (_, f, _) => IsEvent(f, 5172, 5173) },
        .. CertificateKeyProblems.Select(id => new CausalRule(id, ["KD4001"],
            "the event is Schannel 36868-36888, HTTP 15021/15300 or a 7023/7024 of HTTPFilter (a bound certificate's key cannot be used); these checks only look at bound certificates")
        {
            Applies = (_, f, _) => IsSslEvent(f),
        }),
        new("KD2004", ["KD2005", "KD2006", "KD2010", "KD4001"],
            "the same certificate hash (KD2005, KD2010), the same HTTP.sys endpoint (KD2006), or HTTP 15021/15300 (KD4001)")
        {
            Applies = (cause, f, _) => f.Id == "KD4001" ? IsEvent(f, 15021, 15300)
                : f.Id == "KD2006" ? f.Subject.EndsWith(" " + cause.Properties.GetValueOrDefault("endpoint"), StringComparison.OrdinalIgnoreCase)
                : SameValue(cause, f, "thumbprint"),
        },
        new("KD2011", ["KD2005", "KD2010"], "the same certificate hash") { Applies = (cause, f, _) => SameValue(cause, f, "thumbprint") },
        new("KD2013", ["KD2007"], "the same certificate (renewed, the binding still serves the old one)") { Applies = (cause, f, _) => cause.Subject == f.Subject },
        new("KD1004", ["KD6002"], "always: the key store's permissions keep the process out") { Applies = (_, _, _) => true },
        new("KD1006", ["KD6002", "KD4001"], "the same key file (KD4001: a failed 5058 on it)")
        {
            Applies = (cause, f, _) => SameFile(FileOf(cause), FileOf(f)) && (f.Id != "KD4001" || IsEvent(f, 5058, 5061)),
        },
        new("KD6003", ["KD2008", "KD1002", "KD3001"], "the deleted file is the consequence's key file")
        {
            Applies = (cause, f, _) => SameFile(FileOf(cause), FileOf(f)),
        },
        new("KD2008", ["KD4001"], "a failed 5058/5061 on the certificate's key file") { Applies = (cause, f, _) => IsEvent(f, 5058, 5061) && SameFile(FileOf(cause), FileOf(f)) },
        new("KD1003", ["KD4001"], "a failed 5058/5061 on the damaged file") { Applies = (cause, f, _) => IsEvent(f, 5058, 5061) && SameFile(FileOf(cause), FileOf(f)) },
        new("KD1005", ["KD4001"], "a failed 5058/5061 on a file whose master key is missing") { Applies = (cause, f, _) => IsEvent(f, 5058, 5061) && SameFile(FileOf(cause), FileOf(f)) },
    ];

    /// <summary>
    /// Sets <see cref="Finding.CausedBy"/> on every finding from the table. A consequence that another consequence of
    /// the same cause already explains is not linked to it twice (an IISADMIN event is KD1002's, and KD1002 is
    /// KD1001's). Findings keep their order.
    /// </summary>
    public static List<Finding> Link(IReadOnlyList<Finding> findings, Facts facts)
    {
        var linked = new List<Finding>(findings.Count);
        var byId = findings.ToLookup(f => f.Id, StringComparer.Ordinal);
        foreach (var finding in findings)
        {
            var causes = new List<FindingRef>();
            foreach (var rule in Rules.Where(r => r.Consequences.Contains(finding.Id)))
                foreach (var cause in byId[rule.Cause].Where(c => !ReferenceEquals(c, finding)))
                    if (rule.Applies(cause, finding, facts) && !causes.Any(r => r.Is(cause)))
                        causes.Add(FindingRef.Of(cause));
            // KD3006 is the fallback for IISADMIN events: KD1002 is the more precise cause when both are there.
            if (causes.Any(c => c.Id == "KD1002")) causes.RemoveAll(c => c.Id == "KD3006");
            linked.Add(causes.Count == 0 ? finding with { CausedBy = [] } : finding with { CausedBy = causes });
        }
        return linked;
    }

    /// <summary>
    /// The findings as a forest: root causes first, ordered by how many findings they explain (then severity, then
    /// their order in <paramref name="findings"/>), each with its consequences under it; a consequence of several
    /// causes sits under the first and names the others. Consequences that differ only in their time (the same event
    /// on several days) are one node with a count and the time range.
    /// </summary>
    public static IReadOnlyList<FindingNode> Group(IReadOnlyList<Finding> findings)
    {
        var index = findings.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i, ByReference.Instance);
        var byRef = new Dictionary<FindingRef, Finding>();
        foreach (var f in findings) byRef.TryAdd(FindingRef.Of(f), f);
        Finding? Find(FindingRef r) => byRef.GetValueOrDefault(r);
        var children = findings.ToDictionary(f => f, _ => new List<Finding>(), ByReference.Instance);
        foreach (var f in findings)
            foreach (var cause in f.CausedBy.Select(Find).OfType<Finding>())
                children[cause].Add(f);

        var explains = new Dictionary<Finding, int>(ByReference.Instance);
        int Count(Finding f, HashSet<Finding> seen)
        {
            var total = 0;
            foreach (var child in children[f])
                if (seen.Add(child)) total += 1 + Count(child, seen);
            return total;
        }
        foreach (var f in findings) explains[f] = Count(f, new HashSet<Finding>(ByReference.Instance) { f });

        var roots = findings.Where(f => f.CausedBy.Count == 0 || f.CausedBy.All(r => Find(r) is null))
            .OrderByDescending(f => explains[f]).ThenByDescending(f => f.Severity).ThenBy(f => index[f]).ToList();
        var placed = new HashSet<Finding>(ByReference.Instance);
        var forest = Nodes(roots, null, placed, children, explains, index);
        // A finding whose causes form a loop (the table has none) is still printed: as a root.
        forest.AddRange(Nodes([.. findings.Where(f => !placed.Contains(f))], null, placed, children, explains, index));
        return forest;
    }

    /// <summary>Nodes for <paramref name="ordered"/> under <paramref name="parent"/>: repeats of a finding that explains nothing become one node.</summary>
    private static List<FindingNode> Nodes(List<Finding> ordered, Finding? parent, HashSet<Finding> placed,
                                           Dictionary<Finding, List<Finding>> children, Dictionary<Finding, int> explains, Dictionary<Finding, int> index)
    {
        var nodes = new List<FindingNode>();
        foreach (var group in ordered.GroupBy(RepeatKey))
        {
            var members = group.Where(k => !placed.Contains(k)).ToList();
            if (members.Count == 0) continue;
            if (members.Count == 1 || members.Any(m => children[m].Count > 0)) // one that explains others stays on its own
                foreach (var m in members.Where(m => !placed.Contains(m))) nodes.Add(Build([m], parent, placed, children, explains, index));
            else
                nodes.Add(Build(members, parent, placed, children, explains, index));
        }
        return nodes;
    }

    private static FindingNode Build(List<Finding> same, Finding? parent, HashSet<Finding> placed,
                                     Dictionary<Finding, List<Finding>> children, Dictionary<Finding, int> explains, Dictionary<Finding, int> index)
    {
        foreach (var f in same) placed.Add(f);
        var first = same[0];
        var kids = same.SelectMany(f => children[f]).Where(k => !placed.Contains(k)).Distinct(ByReference.Instance)
            .OrderByDescending(k => explains[k]).ThenByDescending(k => k.Severity).ThenBy(k => index[k]).ToList();
        var nodes = Nodes(kids, first, placed, children, explains, index);
        var alsoBecause = parent is null ? [] : first.CausedBy.Where(r => !r.Is(parent)).ToList();
        var times = same.SelectMany(f => Times(f.Message)).Order(StringComparer.Ordinal).ToList();
        var repeated = same.Count > 1 && times.Count > 0;
        return new FindingNode(first, same, parent is null ? null : FindingRef.Of(parent), alsoBecause, nodes,
            same.Sum(f => explains[f]), repeated ? times[0] : null, repeated ? times[^1] : null);
    }

    /// <summary>Findings that are the same but for the times in their message: same ID, same causes, same text.</summary>
    private static string RepeatKey(Finding f) =>
        f.Id + "\n" + string.Join(",", f.CausedBy) + "\n" + TimePattern.Replace(f.Message, "<time>");

    private static readonly System.Text.RegularExpressions.Regex TimePattern =
        new(@"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static IEnumerable<string> Times(string message) => TimePattern.Matches(message).Select(m => m.Value);

    private static readonly System.Text.RegularExpressions.Regex TimeInText =
        new(@"(\b(at|on) )?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The message with its first time (and an "at" before it) replaced by <paramref name="range"/>, later times dropped.</summary>
    public static string WithoutTimes(string message, string range)
    {
        var replaced = false;
        return TimeInText.Replace(message, _ =>
        {
            if (replaced) return "";
            replaced = true;
            return range;
        });
    }

    private sealed class ByReference : IEqualityComparer<Finding>
    {
        public static readonly ByReference Instance = new();
        public bool Equals(Finding? x, Finding? y) => ReferenceEquals(x, y);
        public int GetHashCode(Finding obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }

    // ----- the evidence the rules compare -----

    private static bool IsEvent(Finding f, params int[] ids) =>
        f.Id == "KD4001" && int.TryParse(f.Properties.GetValueOrDefault("eventId"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) && ids.Contains(id);

    private static bool IsSslEvent(Finding f) =>
        f.Id == "KD4001" && int.TryParse(f.Properties.GetValueOrDefault("eventId"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
        && (id is >= 36868 and <= 36888 or 15021 or 15300 || id is 7023 or 7024 && Service(f) == "HTTPFilter");

    private static string? Service(Finding f) => f.Properties.GetValueOrDefault("service");

    private static bool SameValue(Finding a, Finding b, string property) =>
        a.Properties.GetValueOrDefault(property) is { Length: > 0 } x && string.Equals(x, b.Properties.GetValueOrDefault(property), StringComparison.OrdinalIgnoreCase);

    /// <summary>The key file a finding is about: its keyFile property, or a subject that is a key-file path.</summary>
    private static string? FileOf(Finding f)
    {
        var path = f.Properties.GetValueOrDefault("keyFile") ?? f.Subject;
        var name = path[(path.LastIndexOfAny(['\\', '/']) + 1)..];
        return ContainerName.TrySplitFileName(name, out _, out _) ? name : null;
    }

    private static bool SameFile(string? a, string? b) => a is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>KD1001 explains a container missing or wrong under the registry's GUID when its file exists under another GUID.</summary>
    private static bool UnderOtherGuidOnly(Finding kd1001, Finding f, Facts facts)
    {
        if (FileOf(f) is not { } name || !ContainerName.TrySplitFileName(name, out var prefix, out var guid) || guid is null) return false;
        if (!Guid.TryParse(kd1001.Properties.GetValueOrDefault("machineGuid"), out var current) || guid != current) return false;
        // The file under this GUID may be there too: the empty container a service made when it did not find its key.
        var hex = ContainerName.Format(prefix);
        return facts.KeyFileNames.Any(n => n.StartsWith(hex + "_", StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>
/// One node of <see cref="RootCauses.Group"/>: a finding (or several that differ only in time: <see cref="Repeats"/>,
/// <see cref="FirstTime"/> to <see cref="LastTime"/>), the cause it is shown under, its other causes, its consequences,
/// and how many findings it explains in all.
/// </summary>
public sealed record FindingNode(
    Finding Finding,
    IReadOnlyList<Finding> Repeats,
    FindingRef? Under,
    IReadOnlyList<FindingRef> AlsoBecause,
    IReadOnlyList<FindingNode> Consequences,
    int Explains,
    string? FirstTime,
    string? LastTime)
{
    /// <summary>How many findings are shown under this node (its consequences and theirs, repeats counted).</summary>
    public int Shown => Consequences.Sum(c => c.Repeats.Count + c.Shown);

    /// <summary>The message, with "N times between first and last" in place of a repeated finding's time.</summary>
    public string Message => Repeats.Count > 1 && FirstTime is not null
        ? RootCauses.WithoutTimes(Finding.Message, $"{Repeats.Count} times between {FirstTime} and {LastTime}")
        : Finding.Message;
}
