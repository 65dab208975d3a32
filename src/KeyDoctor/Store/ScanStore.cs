using System.Data;
using System.Data.Common;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Farm;
using KeyDoctor.Diagnosis.Scan;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace KeyDoctor.Store;

/// <summary>A scan written to the store.</summary>
/// <param name="Node">The node it is filed under: the computer name, else the source.</param>
/// <param name="ScansOfNode">How many scans of this node the store holds now.</param>
public sealed record RecordedScan(string ScanId, string Node, DateTimeOffset ScannedUtc, long ScansOfNode);

/// <summary>Thrown for a store that cannot be opened, read or written: the message says which store and what to do.</summary>
public sealed class ScanStoreException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Scans recorded over time, per node, in SQLite (a file) or PostgreSQL (a server a fleet reports into): each scan's
/// findings and the facts the farm comparison needs, so <c>farm --store</c> compares the latest scan of every node and
/// <c>history</c> shows how a node's findings changed. Plain SQL through ADO.NET; the schema (<see cref="StoreSchema"/>)
/// is created and migrated on open. Nothing secret is stored: findings and evidence never hold secrets, keys are
/// fingerprints.
/// </summary>
public sealed class ScanStore : IDisposable
{
    private readonly DbConnection _connection;
    private readonly NpgsqlDataSource? _dataSource;

    private ScanStore(StoreTarget target, DbConnection connection, NpgsqlDataSource? dataSource)
    {
        Target = target;
        _connection = connection;
        _dataSource = dataSource;
    }

    public StoreTarget Target { get; }

    /// <summary>The schema version of the store once opened (always <see cref="StoreSchema.LatestVersion"/>).</summary>
    public long SchemaVersion { get; private set; }

    /// <param name="create">Make the SQLite file (and the schema) when missing: true to record, false to read.</param>
    public static ScanStore Open(string target, bool create) => Open(StoreTarget.Parse(target), create);

    public static ScanStore Open(StoreTarget target, bool create)
    {
        if (target.Kind == StoreKind.Sqlite && !create && !File.Exists(target.SqlitePath))
            throw new ScanStoreException($"no scan store at {target.SqlitePath}: record scans into it first with 'keydoctor scan <source> --store {target.SqlitePath}'");
        NpgsqlDataSource? dataSource = null;
        DbConnection? connection = null;
        try
        {
            if (target.Kind == StoreKind.Sqlite)
            {
                SqliteNative.Initialize();
                if (Path.GetDirectoryName(target.SqlitePath) is { Length: > 0 } folder) Directory.CreateDirectory(folder);
                connection = new SqliteConnection(target.ConnectionString);
                connection.Open();
            }
            else
            {
                // The slim builder: no reflection-based type mapping, so the NativeAOT executable works (Npgsql's AOT guidance).
                dataSource = new NpgsqlSlimDataSourceBuilder(target.ConnectionString).Build();
                connection = dataSource.OpenConnection();
            }
            var store = new ScanStore(target, connection, dataSource);
            store.Migrate(create);
            return store;
        }
        catch (Exception ex) when (ex is DllNotFoundException || ex.InnerException is DllNotFoundException)
        {
            connection?.Dispose();
            throw new ScanStoreException($"cannot open the scan store {target.Description}: the SQLite library ({(OperatingSystem.IsWindows() ? "e_sqlite3.dll" : "libe_sqlite3.so")}) that ships beside keydoctor is not in {AppContext.BaseDirectory}; copy it there from the release, or use a PostgreSQL store", ex);
        }
        catch (Exception ex) when (ex is DbException or ArgumentException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException)
        {
            connection?.Dispose();
            dataSource?.Dispose();
            throw new ScanStoreException($"cannot open the scan store {target.Description}: {OneLine(ex.Message)}; " +
                (target.Kind == StoreKind.Sqlite ? "check the path and that the file is a KeyDoctor store" : "check that the server runs, the connection string and the account's rights"), ex);
        }
    }

    /// <summary>`scan --store`: records one scan, made of <paramref name="source"/> (as the user gave it), as of now.</summary>
    public static (RecordedScan Scan, string Store) RecordScan(string target, ScanResult scan, string source, string toolVersion)
    {
        using var store = Open(target, create: true);
        return (store.Record(FarmNode.From(scan, source), DateTimeOffset.UtcNow, toolVersion), store.Target.Description);
    }

    /// <summary>`farm --store`: the latest scan of every node in the store, compared.</summary>
    public static FarmReport CompareLatest(string target)
    {
        using var store = Open(target, create: false);
        var nodes = store.LatestNodes();
        if (nodes.Count == 0)
            throw new ScanStoreException($"{store.Target.Description} holds no scans: record each node with 'keydoctor scan <source> --store …' first");
        return FarmComparison.Compare(nodes);
    }

    /// <summary>`history --store`: every scan of one node (or of all), with what changed from one to the next.</summary>
    public static (string Store, IReadOnlyList<NodeHistory> Nodes) ReadHistory(string target, string? node)
    {
        using var store = Open(target, create: false);
        return (store.Target.Description, store.History(node));
    }

    public void Dispose()
    {
        _connection.Dispose();
        _dataSource?.Dispose();
    }

    private void Migrate(bool create)
    {
        if (!create && !TableExists(StoreSchema.VersionTable))
            throw new ScanStoreException($"{Target.Description} is not a KeyDoctor scan store (it has no {StoreSchema.VersionTable} table): record scans into it first with 'keydoctor scan <source> --store …'");
        Execute(null, StoreSchema.CreateVersionTable);
        using var transaction = _connection.BeginTransaction();
        // Two fleet nodes opening a new PostgreSQL store at once: one migrates, the other waits and finds it done.
        if (Target.Kind == StoreKind.PostgreSql) Execute(transaction, $"LOCK TABLE {StoreSchema.VersionTable} IN EXCLUSIVE MODE");
        var current = Scalar(transaction, $"SELECT MAX(version) FROM {StoreSchema.VersionTable}") ?? 0;
        if (current > StoreSchema.LatestVersion)
            throw new ScanStoreException($"{Target.Description} has schema version {current}, newer than this KeyDoctor knows ({StoreSchema.LatestVersion}): use a newer keydoctor");
        for (var version = current + 1; version <= StoreSchema.LatestVersion; version++)
        {
            foreach (var statement in StoreSchema.Migrations[(int)version - 1]) Execute(transaction, statement);
            Execute(transaction, $"INSERT INTO {StoreSchema.VersionTable} (version, applied_utc) VALUES (@version, @applied)",
                ("@version", version), ("@applied", DateTime.UtcNow.Ticks));
        }
        transaction.Commit();
        SchemaVersion = StoreSchema.LatestVersion;
    }

    private bool TableExists(string table) => Target.Kind == StoreKind.Sqlite
        ? Scalar(null, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @name", ("@name", table)) > 0
        : Scalar(null, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @name", ("@name", table)) > 0;

    /// <summary>Records one node's scan (its facts and findings) as of <paramref name="scannedUtc"/>, in one transaction.</summary>
    public RecordedScan Record(FarmNode node, DateTimeOffset scannedUtc, string toolVersion)
    {
        var scanId = Guid.NewGuid().ToString("D");
        var nodeName = node.Name;
        return Guarded("record the scan in", () =>
        {
            using var transaction = _connection.BeginTransaction();
            var counts = Enum.GetValues<Severity>().ToDictionary(s => s, s => (long)node.Findings.Count(f => f.Severity == s));
            Insert(transaction, "scans", ScanColumns, [[
                scanId, nodeName, node.ComputerName, node.Source, scannedUtc.UtcTicks, node.CollectedUtc?.UtcTicks, toolVersion,
                node.MachineGuid, node.KeyFileCount, node.RegistryRead ? 1L : 0L, node.ConfigurationRead ? 1L : 0L,
                counts[Severity.Critical], counts[Severity.Error], counts[Severity.Warning], counts[Severity.Info],
            ]]);
            Insert(transaction, "findings", FindingColumns, node.Findings.Select((f, i) => new object?[]
                { scanId, (long)i, f.Id, f.Severity.ToString(), f.Subject, f.Message, StoredFindingDetails.Of(f).ToJson() }));
            Insert(transaction, "key_containers", KeyColumns, node.Keys.Select((k, i) => new object?[]
                { scanId, (long)i, k.Folder, k.FileName, k.Kind, k.Container, k.PublicKeySha256, k.Status, k.UnderMachineGuid ? 1L : 0L }));
            Insert(transaction, "certificates", CertificateColumns, node.Certificates.Select((c, i) => new object?[]
                { scanId, (long)i, c.Store, c.Thumbprint, c.Subject, c.NotAfter?.Ticks, c.PublicKeySha256, c.KeyContainer, c.KeyFile, c.KeyStatus }));
            Insert(transaction, "bindings", BindingColumns, node.Bindings.Select((b, i) => new object?[]
                { scanId, (long)i, b.Kind, b.Endpoint, b.Thumbprint, b.Store, b.Sites }));
            Insert(transaction, "providers", ProviderColumns, node.Providers.Select((p, i) => new object?[]
                { scanId, (long)i, p.Name, p.Type, p.KeyContainer, p.KeyFilePrefix, p.SessionKeySha256 }));
            Insert(transaction, "encrypted_values", EncryptedValueColumns, node.EncryptedValues.Select((v, i) => new object?[]
                { scanId, (long)i, v.Element, v.Attribute, v.Provider }));
            Insert(transaction, "custom_metadata", MetadataColumns, node.CustomMetadata.Select((m, i) => new object?[]
                { scanId, (long)i, m.Path, (long)m.PropertyId, m.Value }));
            var scans = Scalar(transaction, "SELECT COUNT(*) FROM scans WHERE node = @node", ("@node", nodeName)) ?? 1;
            transaction.Commit();
            return new RecordedScan(scanId, nodeName, scannedUtc, scans);
        });
    }

    /// <summary>The latest scan of every node (by scan time), as farm nodes, in the farm's order.</summary>
    public IReadOnlyList<FarmNode> LatestNodes() => Guarded("read", () =>
    {
        const string latest = "WITH latest AS (SELECT scan_id FROM (SELECT scan_id, ROW_NUMBER() OVER (PARTITION BY node ORDER BY scanned_utc DESC, scan_id DESC) AS rank_in_node FROM scans) ranked WHERE rank_in_node = 1) ";
        string Of(string table, string[] columns) =>
            $"{latest}SELECT {string.Join(", ", columns.Select(c => c.Split(' ')[0]))} FROM {table} WHERE scan_id IN (SELECT scan_id FROM latest) ORDER BY scan_id, ordinal";

        var findings = ReadGrouped(Of("findings", FindingColumns), r => ReadFinding(r));
        var keys = ReadGrouped(Of("key_containers", KeyColumns), r => new NodeKey(
            Text(r, 2)!, Text(r, 3)!, Text(r, 4)!, Text(r, 5), Text(r, 6), Text(r, 7)!, Number(r, 8) == 1));
        var certificates = ReadGrouped(Of("certificates", CertificateColumns), r => new NodeCertificate(
            Text(r, 2)!, Text(r, 3)!, Text(r, 4), Number(r, 5) is { } ticks ? new DateTime(ticks, DateTimeKind.Utc) : null,
            Text(r, 6), Text(r, 7), Text(r, 8), Text(r, 9)!));
        var bindings = ReadGrouped(Of("bindings", BindingColumns), r => new NodeBinding(Text(r, 3)!, Text(r, 2)!, Text(r, 4), Text(r, 5), Text(r, 6)!));
        var providers = ReadGrouped(Of("providers", ProviderColumns), r => new NodeProvider(Text(r, 2)!, Text(r, 3)!, Text(r, 4), Text(r, 5), Text(r, 6)));
        var values = ReadGrouped(Of("encrypted_values", EncryptedValueColumns), r => new NodeEncryptedValue(Text(r, 2)!, Text(r, 3)!, Text(r, 4)));
        var metadata = ReadGrouped(Of("custom_metadata", MetadataColumns), r => new NodeMetadata(Text(r, 2)!, (uint)Number(r, 3)!.Value, Text(r, 4)!));

        var nodes = new List<FarmNode>();
        using var command = Command(null, $"{latest}SELECT scan_id, computer_name, source, collected_utc, machine_guid, key_file_count, registry_read, configuration_read FROM scans WHERE scan_id IN (SELECT scan_id FROM latest)");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = Text(reader, 0)!;
            nodes.Add(new FarmNode
            {
                Source = Text(reader, 2)!,
                ComputerName = Text(reader, 1),
                CollectedUtc = Number(reader, 3) is { } collected ? new DateTimeOffset(collected, TimeSpan.Zero) : null,
                MachineGuid = Text(reader, 4),
                KeyFileCount = Number(reader, 5) ?? 0,
                RegistryRead = Number(reader, 6) == 1,
                ConfigurationRead = Number(reader, 7) == 1,
                Findings = findings.GetValueOrDefault(id) ?? [],
                Keys = keys.GetValueOrDefault(id) ?? [],
                Certificates = certificates.GetValueOrDefault(id) ?? [],
                Bindings = bindings.GetValueOrDefault(id) ?? [],
                Providers = providers.GetValueOrDefault(id) ?? [],
                EncryptedValues = values.GetValueOrDefault(id) ?? [],
                CustomMetadata = metadata.GetValueOrDefault(id) ?? [],
            });
        }
        return FarmComparison.Order(nodes);
    });

    /// <summary>
    /// Every scan of one node (matched case-insensitively), or of every node, oldest first, each with what appeared and
    /// what went away since the node's scan before it (a finding is the same when its ID and subject are).
    /// </summary>
    public IReadOnlyList<NodeHistory> History(string? node = null) => Guarded("read", () =>
    {
        var filter = node is null ? "" : " WHERE LOWER(s.node) = LOWER(@node)";
        object?[] args = node is null ? [] : [node];
        var findings = new Dictionary<string, List<HistoryFinding>>(StringComparer.Ordinal);
        using (var command = Command(null, $"SELECT f.scan_id, f.finding_id, f.severity, f.subject, f.message FROM findings f JOIN scans s ON s.scan_id = f.scan_id{filter} ORDER BY f.scan_id, f.ordinal", Named(args)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var id = Text(reader, 0)!;
                if (!findings.TryGetValue(id, out var list)) findings[id] = list = [];
                list.Add(new HistoryFinding(Text(reader, 1)!, ParseSeverity(Text(reader, 2)!), Text(reader, 3)!, Text(reader, 4)!));
            }
        var scans = new List<(string Node, HistoryScan Scan)>();
        using (var command = Command(null, $"SELECT s.scan_id, s.node, s.scanned_utc, s.source, s.computer_name, s.machine_guid, s.tool_version FROM scans s{filter} ORDER BY s.node, s.scanned_utc, s.scan_id", Named(args)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var id = Text(reader, 0)!;
                scans.Add((Text(reader, 1)!, new HistoryScan(id, new DateTimeOffset(Number(reader, 2)!.Value, TimeSpan.Zero), Text(reader, 3)!,
                    Text(reader, 4), Text(reader, 5), Text(reader, 6)!, findings.GetValueOrDefault(id) ?? [], [], [])));
            }
        if (node is not null && scans.Count == 0)
        {
            var known = Nodes();
            throw new ScanStoreException($"{Target.Description} holds no scan of node {node}; " +
                (known.Count == 0 ? "it holds no scans at all" : $"its nodes are {string.Join(", ", known.Take(20))}{(known.Count > 20 ? ", …" : "")}"));
        }
        return scans.GroupBy(s => s.Node, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new NodeHistory(g.Key, WithChanges(g.Select(s => s.Scan).ToList())))
            .ToList();
    });

    /// <summary>The node names in the store, in order.</summary>
    public IReadOnlyList<string> Nodes() => Guarded("read", () =>
    {
        var nodes = new List<string>();
        using var command = Command(null, "SELECT DISTINCT node FROM scans ORDER BY node");
        using var reader = command.ExecuteReader();
        while (reader.Read()) nodes.Add(Text(reader, 0)!);
        return (IReadOnlyList<string>)nodes.Order(StringComparer.Ordinal).ToList();
    });

    /// <summary>How many scans the store holds.</summary>
    public long ScanCount() => Guarded("read", () => Scalar(null, "SELECT COUNT(*) FROM scans") ?? 0);

    private static List<HistoryScan> WithChanges(List<HistoryScan> scans)
    {
        var result = new List<HistoryScan>(scans.Count);
        IReadOnlyList<HistoryFinding> before = [];
        foreach (var scan in scans)
        {
            static (string, string) Key(HistoryFinding f) => (f.Id, f.Subject);
            var previous = before.Select(Key).ToHashSet();
            var now = scan.Findings.Select(Key).ToHashSet();
            result.Add(scan with
            {
                Added = scan.Findings.Where(f => !previous.Contains(Key(f))).ToList(),
                Resolved = before.Where(f => !now.Contains(Key(f))).ToList(),
            });
            before = scan.Findings;
        }
        return result;
    }

    private static Finding ReadFinding(DbDataReader reader)
    {
        var scanId = Text(reader, 0)!;
        var id = Text(reader, 2)!;
        var severity = ParseSeverity(Text(reader, 3)!);
        var details = StoredFindingDetails.FromJson(Text(reader, 6)!, scanId);
        // A finding a newer KeyDoctor recorded keeps its ID and words, with a placeholder descriptor.
        var descriptor = FindingCatalog.Find(id) ?? new DiagnosticDescriptor(id, id, "{0}", severity, "Unknown",
            "Recorded by a KeyDoctor that knows this finding; this one does not: see its documentation.");
        return new Finding(descriptor, Text(reader, 4)!, Text(reader, 5)!)
        {
            Severity = severity,
            Evidence = details.Evidence,
            Fix = details.Fix,
            CausedBy = details.CausedBy ?? [],
            Properties = details.Properties,
        };
    }

    private static Severity ParseSeverity(string text) =>
        Enum.TryParse<Severity>(text, ignoreCase: true, out var severity) ? severity : Severity.Info;

    // Columns per table, in the order rows are written and read (type: BIGINT columns carry " long").
    private static readonly string[] ScanColumns =
    [
        "scan_id", "node", "computer_name", "source", "scanned_utc long", "collected_utc long", "tool_version", "machine_guid",
        "key_file_count long", "registry_read long", "configuration_read long", "critical_count long", "error_count long",
        "warning_count long", "info_count long",
    ];
    private static readonly string[] FindingColumns = ["scan_id", "ordinal long", "finding_id", "severity", "subject", "message", "details"];
    private static readonly string[] KeyColumns = ["scan_id", "ordinal long", "folder", "file_name", "kind", "container", "public_key_sha256", "status", "under_machine_guid long"];
    private static readonly string[] CertificateColumns = ["scan_id", "ordinal long", "store", "thumbprint", "subject", "not_after_utc long", "public_key_sha256", "key_container", "key_file", "key_status"];
    private static readonly string[] BindingColumns = ["scan_id", "ordinal long", "kind", "endpoint", "thumbprint", "store", "sites"];
    private static readonly string[] ProviderColumns = ["scan_id", "ordinal long", "name", "provider_type", "key_container", "key_file_prefix", "session_key_sha256"];
    private static readonly string[] EncryptedValueColumns = ["scan_id", "ordinal long", "element", "attribute", "provider"];
    private static readonly string[] MetadataColumns = ["scan_id", "ordinal long", "path", "property_id long", "property_value"];

    private void Insert(DbTransaction transaction, string table, string[] columns, IEnumerable<object?[]> rows)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        var names = columns.Select(c => c.Split(' ')[0]).ToArray();
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", names)}) VALUES ({string.Join(", ", names.Select(n => "@" + n))})";
        var parameters = columns.Select(c =>
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + c.Split(' ')[0];
            parameter.DbType = c.EndsWith(" long", StringComparison.Ordinal) ? DbType.Int64 : DbType.String;
            command.Parameters.Add(parameter);
            return parameter;
        }).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < parameters.Length; i++) parameters[i].Value = row[i] ?? DBNull.Value;
            command.ExecuteNonQuery();
        }
    }

    private Dictionary<string, List<T>> ReadGrouped<T>(string sql, Func<DbDataReader, T> read)
    {
        var result = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        using var command = Command(null, sql);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = Text(reader, 0)!;
            if (!result.TryGetValue(id, out var list)) result[id] = list = [];
            list.Add(read(reader));
        }
        return result;
    }

    private static (string, object)[] Named(object?[] args) => args.Length == 0 ? [] : [("@node", args[0]!)];

    private DbCommand Command(DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            parameter.DbType = value is long ? DbType.Int64 : DbType.String;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private void Execute(DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private long? Scalar(DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        var value = command.ExecuteScalar();
        return value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Text(DbDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);

    private static long? Number(DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : Convert.ToInt64(reader.GetValue(column), System.Globalization.CultureInfo.InvariantCulture);

    private T Guarded<T>(string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException or InvalidCastException or FormatException)
        {
            throw new ScanStoreException($"cannot {what} {Target.Description}: {OneLine(ex.Message)}", ex);
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

/// <summary>One node's scans, oldest first.</summary>
public sealed record NodeHistory(string Node, IReadOnlyList<HistoryScan> Scans);

/// <summary>One recorded scan: when, from where, its findings, and what changed since the node's scan before it.</summary>
/// <param name="Added">Findings not in the previous scan (all of them for the node's first scan).</param>
/// <param name="Resolved">Findings of the previous scan that are gone.</param>
public sealed record HistoryScan(string ScanId, DateTimeOffset ScannedUtc, string Source, string? ComputerName, string? MachineGuid,
    string ToolVersion, IReadOnlyList<HistoryFinding> Findings, IReadOnlyList<HistoryFinding> Added, IReadOnlyList<HistoryFinding> Resolved);

/// <summary>A finding as history shows it.</summary>
public sealed record HistoryFinding(string Id, Severity Severity, string Subject, string Message);
