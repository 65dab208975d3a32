using System.Data.Common;
using System.Text;

namespace KeyDoctor.Store;

/// <summary>Which database a scan store lives in.</summary>
public enum StoreKind
{
    /// <summary>A SQLite file (embedded: nothing to install).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server, for fleets that report into one place.</summary>
    PostgreSql,
}

/// <summary>
/// What <c>--store</c> names: a SQLite file path, or a PostgreSQL connection string: a URI
/// (<c>postgres://user:password@host:port/database?sslmode=require</c>, also <c>postgresql://</c>, with a socket folder as
/// <c>?host=/run/postgresql</c>) or key=value pairs (<c>Host=…;Database=…</c>). <see cref="Description"/> never holds the password.
/// </summary>
public sealed record StoreTarget(StoreKind Kind, string ConnectionString, string Description)
{
    /// <summary>The database file, for SQLite.</summary>
    public string? SqlitePath { get; init; }

    /// <summary>Reads the --store value; a PostgreSQL URI is turned into Npgsql's key=value form.</summary>
    public static StoreTarget Parse(string target)
    {
        if (string.IsNullOrWhiteSpace(target)) throw new ScanStoreException("--store needs a SQLite file path or a PostgreSQL connection string");
        var trimmed = target.Trim();
        if (trimmed.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return PostgreSql(FromUri(trimmed));
        if (LooksLikeKeyValue(trimmed)) return PostgreSql(trimmed);
        var path = Path.GetFullPath(trimmed);
        var sqlite = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path, Pooling = false };
        return new StoreTarget(StoreKind.Sqlite, sqlite.ToString(), $"SQLite {path}") { SqlitePath = path };
    }

    private static StoreTarget PostgreSql(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Get(params string[] keys) => keys.Select(k => builder.TryGetValue(k, out var v) ? v?.ToString() : null).FirstOrDefault(v => !string.IsNullOrEmpty(v));
        var host = Get("Host", "Server") ?? "localhost";
        var port = Get("Port") ?? "5432";
        var database = Get("Database", "Db") ?? Get("Username", "User Id", "User", "UserName") ?? "(default)";
        return new StoreTarget(StoreKind.PostgreSql, connectionString, $"PostgreSQL {host}:{port}/{database}");
    }

    /// <summary>Npgsql's own form: "Host=…;" (any letter case), with the keys PostgreSQL users type first.</summary>
    private static bool LooksLikeKeyValue(string value) =>
        value.Contains('=') && value.Split(';').Any(part => part.TrimStart().StartsWith("Host=", StringComparison.OrdinalIgnoreCase)
                                                            || part.TrimStart().StartsWith("Server=", StringComparison.OrdinalIgnoreCase));

    /// <summary>libpq's URI form (RFC 3986 with percent-encoding) as Npgsql key=value pairs.</summary>
    internal static string FromUri(string uri)
    {
        var rest = uri[(uri.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var query = "";
        var q = rest.IndexOf('?');
        if (q >= 0) (rest, query) = (rest[..q], rest[(q + 1)..]);
        var slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : "";
        string? user = null, password = null;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var credentials = authority[..at];
            authority = authority[(at + 1)..];
            var colon = credentials.IndexOf(':');
            user = Uri.UnescapeDataString(colon >= 0 ? credentials[..colon] : credentials);
            if (colon >= 0) password = Uri.UnescapeDataString(credentials[(colon + 1)..]);
        }
        string? host = null, port = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0) throw new ScanStoreException("the PostgreSQL URI has an IPv6 host without its closing ']'");
            host = authority[1..close];
            if (close + 1 < authority.Length && authority[close + 1] == ':') port = authority[(close + 2)..];
        }
        else if (authority.Length > 0)
        {
            var colon = authority.LastIndexOf(':');
            host = Uri.UnescapeDataString(colon >= 0 ? authority[..colon] : authority);
            if (colon >= 0) port = authority[(colon + 1)..];
        }
        var pairs = new List<(string Key, string Value)>();
        if (!string.IsNullOrEmpty(host)) pairs.Add(("Host", host));
        if (!string.IsNullOrEmpty(port))
        {
            if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                throw new ScanStoreException($"the PostgreSQL URI's port '{port}' is not a number");
            pairs.Add(("Port", port));
        }
        if (database.Length > 0) pairs.Add(("Database", database));
        if (user is { Length: > 0 }) pairs.Add(("Username", user));
        if (password is not null) pairs.Add(("Password", password));
        foreach (var parameter in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = parameter.IndexOf('=');
            var key = Uri.UnescapeDataString(eq >= 0 ? parameter[..eq] : parameter);
            var value = eq >= 0 ? Uri.UnescapeDataString(parameter[(eq + 1)..].Replace('+', ' ')) : "";
            var mapped = key.ToLowerInvariant() switch
            {
                "host" => "Host",
                "port" => "Port",
                "dbname" => "Database",
                "user" => "Username",
                "password" => "Password",
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                "options" => "Options",
                _ => key,
            };
            pairs.RemoveAll(p => p.Key == mapped);
            pairs.Add((mapped, value));
        }
        var builder = new StringBuilder();
        foreach (var (key, value) in pairs)
        {
            if (builder.Length > 0) builder.Append(';');
            builder.Append(key).Append('=').Append(Quote(value));
        }
        return builder.ToString();
    }

    private static string Quote(string value) =>
        value.IndexOfAny([';', '=', '"', '\'', ' ']) < 0 && value.Length > 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
}
