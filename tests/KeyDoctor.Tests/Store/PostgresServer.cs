using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace KeyDoctor.Tests.Store;

/// <summary>
/// A throw-away PostgreSQL cluster for the test run: Debian's server binaries (package postgresql, which tools/test.sh
/// installs), initdb into a temporary folder, listening only on a Unix socket in that folder (port number chosen free,
/// no TCP), trust authentication for the local socket. As root, initdb and the server run as the 'postgres' user
/// (initdb refuses root). Stopped and deleted when the tests finish. A server that cannot be started fails the tests
/// that need it: they never skip.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _bin;
    private readonly bool _asPostgresUser;
    private readonly string _data;
    private int _databases;

    public PostgresServer()
    {
        _bin = FindBinaries();
        Folder = Path.Combine(Path.GetTempPath(), "kd-pg-" + Guid.NewGuid().ToString("N")[..12]);
        _data = Path.Combine(Folder, "data");
        Directory.CreateDirectory(Folder);
        _asPostgresUser = OperatingSystem.IsLinux() && Environment.UserName == "root";
        if (_asPostgresUser) Run("chown", ["postgres:postgres", Folder], asPostgres: false);
        Port = FreePort();
        Run(Path.Combine(_bin, "initdb"), ["-D", _data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
        var options = $"-c listen_addresses='' -c unix_socket_directories='{Folder}' -c port={Port} -c fsync=off -c full_page_writes=off -c synchronous_commit=off";
        Run(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-l", Path.Combine(Folder, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open(); // fails here, with the server's reason, when it did not come up
    }

    /// <summary>The cluster's folder; its Unix socket is here too.</summary>
    public string Folder { get; }

    public int Port { get; }

    public string AdminConnectionString => $"Host={Folder};Port={Port};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>A new, empty database (one per test, so stores never meet); its key=value connection string.</summary>
    public string CreateDatabase()
    {
        var name = $"kd_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..24];
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE {name}";
        command.ExecuteNonQuery();
        return $"Host={Folder};Port={Port};Username=postgres;Database={name}";
    }

    /// <summary>The same database as a libpq URI, with the socket folder percent-encoded as the host.</summary>
    public string UriFor(string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        return $"postgres://postgres@{Uri.EscapeDataString(Folder)}:{Port}/{database}";
    }

    public void Dispose()
    {
        try
        {
            Run(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    private static string FindBinaries()
    {
        const string debian = "/usr/lib/postgresql";
        var bin = Directory.Exists(debian)
            ? Directory.GetDirectories(debian).Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0).FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries not found under {debian}/<version>/bin: install Debian's postgresql package (tools/test.sh does)");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Run(string file, string[] arguments, bool asPostgres = true)
    {
        var start = asPostgres && _asPostgresUser
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} did not finish in 2 minutes");
        }
        if (process.ExitCode != 0)
        {
            var log = Path.Combine(Folder, "server.log");
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout}{stderr.Result}" +
                (File.Exists(log) ? "\nserver log:\n" + File.ReadAllText(log) : ""));
        }
    }
}
