using System.Data.Common;
using System.Text.Json;
using KeyDoctor.Store;
using KeyDoctor.Tests.Farm;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace KeyDoctor.Tests.Store;

/// <summary>
/// The scan store, the same tests against both databases on real servers: a SQLite file in a temporary folder, and
/// a throw-away PostgreSQL cluster (<see cref="PostgresServer"/>). Nothing is mocked: the commands run in-process and
/// the store is the real database.
/// </summary>
public abstract class StoreContractTests : IDisposable
{
    protected readonly FarmKit Kit = new();

    /// <summary>A new, empty store target of this database (a file path or a connection string).</summary>
    protected abstract string NewStore();

    /// <summary>A raw ADO.NET connection to the store, for what no command does (a newer schema).</summary>
    protected abstract DbConnection Connect(string store);

    public void Dispose() => Kit.Dispose();

    private static Cli.Result Scan(string source, string store)
    {
        var result = Cli.Run("scan", source, "--store", store, "--json");
        Assert.True(result.ExitCode is 0 or 1, result.Stderr);
        return result;
    }

    [Fact]
    public void FarmFromTheStoreGivesWhatFarmFromTheFoldersGives()
    {
        var store = NewStore();
        var (web01, web02, web03, web04) = Kit.BrokenFarm();
        foreach (var node in new[] { web03, web01, web04, web02 })
        {
            var scan = Scan(node, store);
            Assert.Matches("^recorded the scan of WEB0[1-4] in .+ \\(1 scan\\(s\\) of this node\\)\n$", scan.Stderr);
            Assert.Equal(Cli.Run("scan", node, "--json").Stdout, scan.Stdout); // recording changes nothing in the output
        }

        var fromFolders = Cli.Run("farm", web01, web02, web03, web04, "--json");
        var fromStore = Cli.Run("farm", "--store", store, "--json");
        Assert.Equal("", fromStore.Stderr);
        Assert.Equal(fromFolders.ExitCode, fromStore.ExitCode);
        Assert.Equal(fromFolders.Stdout, fromStore.Stdout);
        Assert.Equal(["KD5001", "KD5002", "KD5003"], FarmTests.FarmFindings(fromStore.Stdout).Select(f => f.Id).Order(StringComparer.Ordinal));
        Assert.Equal(Cli.Run("farm", web01, web02, web03, web04).Stdout, Cli.Run("farm", "--store", store).Stdout);
    }

    [Fact]
    public void TheLatestScanOfEachNodeCountsAndHistoryShowsWhatChanged()
    {
        var store = NewStore();
        var nodes = Kit.ProperFarm(2).ToList();
        var broken = Kit.Node("web03", "WEB03", FarmKit.NodeGuid(3), new FarmNodeOptions { CertificateMissing = true });
        foreach (var node in nodes.Append(broken)) Scan(node, store);
        Assert.Equal(["KD5003"], FarmTests.FarmFindings(Cli.Run("farm", "--store", store, "--json").Stdout).Select(f => f.Id));

        // The certificate is imported on web03; the next collection comes from another place.
        var repaired = Kit.Node("web03-fixed", "WEB03", FarmKit.NodeGuid(3));
        var second = Scan(repaired, store);
        Assert.Contains("(2 scan(s) of this node)", second.Stderr);
        var farm = Cli.Run("farm", "--store", store, "--json");
        Assert.Equal(0, farm.ExitCode);
        using (var document = JsonDocument.Parse(farm.Stdout))
            Assert.Equal([nodes[0], nodes[1], repaired], document.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("source").GetString()));

        var history = Cli.Run("history", "--store", store, "--node", "web03", "--json");
        Assert.Equal(0, history.ExitCode);
        using (var document = JsonDocument.Parse(history.Stdout))
        {
            var node = Assert.Single(document.RootElement.GetProperty("nodes").EnumerateArray());
            Assert.Equal("WEB03", node.GetProperty("node").GetString());
            var scans = node.GetProperty("scans").EnumerateArray().ToList();
            Assert.Equal([broken, repaired], scans.Select(s => s.GetProperty("source").GetString()));
            Assert.Contains(scans[0].GetProperty("added").EnumerateArray(), f => f.GetProperty("id").GetString() == "KD2004");
            Assert.Equal(["KD2004"], scans[1].GetProperty("resolved").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
            Assert.Empty(scans[1].GetProperty("added").EnumerateArray());
        }

        var text = Cli.Run("history", "--store", store);
        Assert.Contains("3 node(s), 4 scan(s)", text.Stdout);
        Assert.Contains("- KD2004", text.Stdout);
        var unknown = Cli.Run("history", "--store", store, "--node", "WEB09");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("holds no scan of node WEB09; its nodes are WEB01, WEB02, WEB03", unknown.Stderr);
    }

    [Fact]
    public void TheSchemaIsCreatedOnceVersionedAndANewerOneIsRefused()
    {
        var store = NewStore();
        var node = Kit.ProperFarm(1)[0];
        Scan(node, store);
        Scan(node, store); // opening again migrates nothing
        using (var connection = Connect(store))
        {
            Assert.Equal(1L, Count(connection, "SELECT COUNT(*) FROM keydoctor_schema"));
            Assert.Equal(1L, Count(connection, "SELECT MAX(version) FROM keydoctor_schema"));
            Assert.Equal(2L, Count(connection, "SELECT COUNT(*) FROM scans"));
            Assert.Equal(6L, Count(connection, "SELECT COUNT(*) FROM key_containers")); // iisConfigurationKey, iisWasKey, the certificate's, twice
            Execute(connection, "INSERT INTO keydoctor_schema (version, applied_utc) VALUES (99, 0)");
        }
        var refused = Cli.Run("farm", "--store", store);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("has schema version 99, newer than this KeyDoctor knows (1): use a newer keydoctor", refused.Stderr);
    }

    [Fact]
    public void AnEmptyStoreIsAnInputError()
    {
        var store = NewStore();
        using (ScanStore.Open(store, create: true)) { } // the schema, no scans
        var farm = Cli.Run("farm", "--store", store);
        Assert.Equal(2, farm.ExitCode);
        Assert.Contains("holds no scans: record each node with 'keydoctor scan <source> --store …' first", farm.Stderr);
    }

    private static long Count(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>The store tests on a SQLite file.</summary>
public sealed class SqliteStoreTests : StoreContractTests
{
    protected override string NewStore() => Path.Combine(Kit.Root, $"store-{Guid.NewGuid():N}.db");

    protected override DbConnection Connect(string store)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    [Fact]
    public void ReadingAStoreThatIsNotThereCreatesNothing()
    {
        var missing = Path.Combine(Kit.Root, "missing.db");
        var result = Cli.Run("farm", "--store", missing);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"keydoctor: no scan store at {missing}: record scans into it first with 'keydoctor scan <source> --store {missing}'\n", result.Stderr);
        Assert.False(File.Exists(missing));
        var history = Cli.Run("history", "--store", missing);
        Assert.Equal(2, history.ExitCode);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public void AFileThatIsNotAStoreIsRefused()
    {
        var other = Path.Combine(Kit.Root, "other.db");
        using (var connection = Connect(other))
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "CREATE TABLE something (x TEXT)";
            command.ExecuteNonQuery();
        }
        var result = Cli.Run("farm", "--store", other);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a KeyDoctor scan store (it has no keydoctor_schema table)", result.Stderr);
    }
}

/// <summary>The store tests on a real PostgreSQL server (key=value connection strings, and the URI form).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreTests(PostgresServer server) : StoreContractTests
{
    private int _stores;

    /// <summary>Every other store is named by a postgres:// URI, so both forms of --store run every test.</summary>
    protected override string NewStore()
    {
        var connectionString = server.CreateDatabase();
        return Interlocked.Increment(ref _stores) % 2 == 0 ? server.UriFor(connectionString) : connectionString;
    }

    protected override DbConnection Connect(string store)
    {
        var connection = new NpgsqlConnection(StoreTarget.Parse(store).ConnectionString);
        connection.Open();
        return connection;
    }

    [Fact]
    public void UnreachableServerIsOneLineWithoutThePassword()
    {
        var result = Cli.Run("farm", "--store", $"postgres://keydoctor:S3cret%21@{Uri.EscapeDataString(server.Folder)}:1/none");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"keydoctor: cannot open the scan store PostgreSQL {server.Folder}:1/none: ", result.Stderr);
        Assert.DoesNotContain("S3cret", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}
