using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>One History\MetaBase_&lt;major&gt;_&lt;minor&gt;.xml and its MBSchema twin, when present.</summary>
public sealed record MetabaseHistoryEntry(long MajorVersion, long MinorVersion, string MetabasePath, string? SchemaPath);

/// <summary>One MetaBack\&lt;name&gt;.MD&lt;n&gt; backup and its .SC&lt;n&gt; schema, when present.</summary>
public sealed record MetabaseBackup(string Name, int Version, string MetabasePath, string? SchemaPath);

/// <summary>A history copy that cannot be restored, and why.</summary>
public sealed record MetabaseHistoryRejection(MetabaseHistoryEntry Entry, string Reason);

/// <summary>The newest restorable history copy (null when none is), and the newer ones passed over.</summary>
public sealed record MetabaseHistoryChoice(MetabaseHistoryEntry? Chosen, IReadOnlyList<MetabaseHistoryRejection> Rejected);

/// <summary>
/// The metabase history IIS 6 keeps in inetsrv\History (a copy per saved change, named by major and minor version)
/// and the named backups in inetsrv\MetaBack, so a restore can pick the last good copy.
/// </summary>
public static partial class MetabaseHistory
{
    /// <summary>Files examined per folder: a history folder holds at most a few hundred.</summary>
    public const int MaxFiles = 100_000;

    [GeneratedRegex(@"^(MetaBase|MBSchema)_(\d{1,18})_(\d{1,18})\.xml$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HistoryName();

    [GeneratedRegex(@"^(.+)\.(MD|SC)(\d{1,9})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BackupName();

    /// <summary>
    /// The folder's files by ordinal name, so that when two names give the same version (MetaBase_1_0.xml and
    /// MetaBase_01_0.xml, or two cases of one name on a case-sensitive disk) the same one wins on every OS, whatever
    /// order the directory lists them in.
    /// </summary>
    private static IEnumerable<string> InNameOrder(string directory) =>
        Directory.EnumerateFiles(directory).Take(MaxFiles).Order(StringComparer.Ordinal);

    /// <summary>History copies, newest (highest major, then minor) first.</summary>
    public static IReadOnlyList<MetabaseHistoryEntry> Scan(string historyDirectory)
    {
        var metabases = new Dictionary<(long, long), string>();
        var schemas = new Dictionary<(long, long), string>();
        foreach (var file in InNameOrder(historyDirectory))
        {
            var match = HistoryName().Match(Path.GetFileName(file));
            if (!match.Success) continue;
            var version = (Number(match.Groups[2].Value), Number(match.Groups[3].Value));
            var target = match.Groups[1].Value.Equals("MetaBase", StringComparison.OrdinalIgnoreCase) ? metabases : schemas;
            target.TryAdd(version, file);
        }
        return metabases
            .Select(m => new MetabaseHistoryEntry(m.Key.Item1, m.Key.Item2, m.Value, schemas.GetValueOrDefault(m.Key)))
            .OrderByDescending(e => e.MajorVersion).ThenByDescending(e => e.MinorVersion)
            .ToList();
    }

    /// <summary>Named backups, by name then newest version first.</summary>
    public static IReadOnlyList<MetabaseBackup> ScanBackups(string metaBackDirectory)
    {
        var metabases = new Dictionary<(string, int), string>();
        var schemas = new Dictionary<(string, int), string>();
        foreach (var file in InNameOrder(metaBackDirectory))
        {
            var match = BackupName().Match(Path.GetFileName(file));
            if (!match.Success) continue;
            var key = (match.Groups[1].Value, int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
            var target = match.Groups[2].Value.Equals("MD", StringComparison.OrdinalIgnoreCase) ? metabases : schemas;
            target.TryAdd(key, file);
        }
        return metabases
            .Select(m => new MetabaseBackup(m.Key.Item1, m.Key.Item2, m.Value, schemas.GetValueOrDefault(m.Key)))
            .OrderBy(b => b.Name, StringComparer.OrdinalIgnoreCase).ThenByDescending(b => b.Version)
            .ToList();
    }

    /// <summary>
    /// The newest copy that has its schema, parses, and carries a structurally valid SessionKey; older copies are
    /// not read once one is found.
    /// </summary>
    public static MetabaseHistoryChoice PickLastGood(IEnumerable<MetabaseHistoryEntry> entries) =>
        PickLastGood(entries, ProblemOf);

    /// <summary>As <see cref="PickLastGood(IEnumerable{MetabaseHistoryEntry})"/> with the caller's check (null = good).</summary>
    public static MetabaseHistoryChoice PickLastGood(IEnumerable<MetabaseHistoryEntry> entries, Func<MetabaseHistoryEntry, string?> problemOf)
    {
        var rejected = new List<MetabaseHistoryRejection>();
        foreach (var entry in entries.OrderByDescending(e => e.MajorVersion).ThenByDescending(e => e.MinorVersion))
        {
            var problem = problemOf(entry);
            if (problem is null) return new MetabaseHistoryChoice(entry, rejected);
            rejected.Add(new MetabaseHistoryRejection(entry, problem));
        }
        return new MetabaseHistoryChoice(null, rejected);
    }

    /// <summary>Why a history copy cannot be restored, or null when it can.</summary>
    public static string? ProblemOf(MetabaseHistoryEntry entry)
    {
        if (entry.SchemaPath is null) return "no matching MBSchema file";
        try
        {
            var metabase = MetabaseXml.Read(entry.MetabasePath);
            var sessionKey = metabase.SessionKey;
            return sessionKey.Status == MetabaseBlobStatus.Valid ? null : $"SessionKey {sessionKey.Status}: {sessionKey.Problem}";
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    private static long Number(string digits) =>
        long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : long.MaxValue;
}
