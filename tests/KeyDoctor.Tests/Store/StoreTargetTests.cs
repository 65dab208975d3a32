using KeyDoctor.Store;

namespace KeyDoctor.Tests.Store;

/// <summary>What --store names: a SQLite path, or a PostgreSQL URI or key=value string; descriptions never carry the password.</summary>
public sealed class StoreTargetTests
{
    [Theory]
    [InlineData("postgres://kd:p%40ss%3Bw@db.contoso.com:6432/keydoctor?sslmode=require",
        "Host=db.contoso.com;Port=6432;Database=keydoctor;Username=kd;Password=\"p@ss;w\";SSL Mode=require", "PostgreSQL db.contoso.com:6432/keydoctor")]
    [InlineData("postgresql://kd@[2001:db8::5]/farm", "Host=2001:db8::5;Database=farm;Username=kd", "PostgreSQL 2001:db8::5:5432/farm")]
    [InlineData("postgres:///farm?host=/run/postgresql&user=postgres", "Database=farm;Host=/run/postgresql;Username=postgres", "PostgreSQL /run/postgresql:5432/farm")]
    [InlineData("postgres://postgres@%2Ftmp%2Fpg:5433/kd", "Host=/tmp/pg;Port=5433;Database=kd;Username=postgres", "PostgreSQL /tmp/pg:5433/kd")]
    [InlineData("Host=db;Database=kd;Username=kd;Password=secret", "Host=db;Database=kd;Username=kd;Password=secret", "PostgreSQL db:5432/kd")]
    public void PostgreSqlTargets(string target, string connectionString, string description)
    {
        var parsed = StoreTarget.Parse(target);
        Assert.Equal((StoreKind.PostgreSql, connectionString, description), (parsed.Kind, parsed.ConnectionString, parsed.Description));
    }

    [Fact]
    public void AnythingElseIsASqliteFile()
    {
        var parsed = StoreTarget.Parse("farm scans.db");
        Assert.Equal(StoreKind.Sqlite, parsed.Kind);
        Assert.Equal(Path.GetFullPath("farm scans.db"), parsed.SqlitePath);
        Assert.Equal("SQLite " + Path.GetFullPath("farm scans.db"), parsed.Description);
    }

    [Theory]
    [InlineData("postgres://kd@db:notaport/kd", "the PostgreSQL URI's port 'notaport' is not a number")]
    [InlineData("postgres://kd@[::1/kd", "the PostgreSQL URI has an IPv6 host without its closing ']'")]
    [InlineData(" ", "--store needs a SQLite file path or a PostgreSQL connection string")]
    public void MalformedTargetsAreSentences(string target, string message) =>
        Assert.Equal(message, Assert.Throws<ScanStoreException>(() => StoreTarget.Parse(target)).Message);
}
