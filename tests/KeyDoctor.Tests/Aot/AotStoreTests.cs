using KeyDoctor.Tests.Farm;
using KeyDoctor.Tests.Store;

namespace KeyDoctor.Tests.Aot;

/// <summary>
/// The shipped NativeAOT executable against a real PostgreSQL server (Npgsql's slim data source, no reflection): it
/// records the farm's scans and compares them, and the result is what the in-process command gives over the folders.
/// (SQLite through the executable is in <see cref="AotComparisonTests"/>.)
/// </summary>
[Collection(AotCollection.Name)]
public sealed class AotStoreTests(AotBinary binary, PostgresServer server) : IClassFixture<PostgresServer>, IDisposable
{
    private readonly FarmKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void NativeExecutableRecordsAndComparesScansInPostgreSql()
    {
        var store = server.UriFor(server.CreateDatabase());
        var (web01, web02, web03, web04) = _kit.BrokenFarm();
        foreach (var node in new[] { web01, web02, web03, web04 })
        {
            var scan = binary.Invoke(_kit.Root, "scan", node, "--store", store);
            Assert.True(scan.ExitCode is 0 or 1, scan.Stderr);
            Assert.Contains("recorded the scan of WEB0", scan.Stderr);
        }
        var native = binary.Invoke(_kit.Root, "farm", "--store", store, "--json");
        var folders = Cli.Run("farm", web01, web02, web03, web04, "--json");
        Assert.Equal((folders.ExitCode, folders.Stdout, ""), (native.ExitCode, native.Stdout, native.Stderr));
        Assert.Equal(native.Stdout, Cli.Run("farm", "--store", store, "--json").Stdout);
        Assert.Equal(Cli.Run("history", "--store", store, "--json").Stdout, binary.Invoke(_kit.Root, "history", "--store", store, "--json").Stdout);
    }
}
