namespace KeyDoctor.Store;

/// <summary>
/// The scan store's schema: the same SQL for SQLite and PostgreSQL (only portable types: TEXT and BIGINT; times are
/// UTC .NET ticks, exact both ways), created and migrated by KeyDoctor itself. <c>keydoctor_schema</c> holds one row
/// per applied version; a migration is appended to <see cref="Migrations"/>, never edited once released.
/// docs/formats/scan-store.md describes every table.
/// </summary>
public static class StoreSchema
{
    public const string VersionTable = "keydoctor_schema";

    public const string CreateVersionTable =
        "CREATE TABLE IF NOT EXISTS keydoctor_schema (version BIGINT PRIMARY KEY, applied_utc BIGINT NOT NULL)";

    /// <summary>Migrations in order: index 0 takes an empty store to version 1.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> Migrations =
    [
        [
            """
            CREATE TABLE scans (
                scan_id TEXT PRIMARY KEY,
                node TEXT NOT NULL,
                computer_name TEXT,
                source TEXT NOT NULL,
                scanned_utc BIGINT NOT NULL,
                collected_utc BIGINT,
                tool_version TEXT NOT NULL,
                machine_guid TEXT,
                key_file_count BIGINT NOT NULL,
                registry_read BIGINT NOT NULL,
                configuration_read BIGINT NOT NULL,
                critical_count BIGINT NOT NULL,
                error_count BIGINT NOT NULL,
                warning_count BIGINT NOT NULL,
                info_count BIGINT NOT NULL)
            """,
            "CREATE INDEX scans_by_node_time ON scans (node, scanned_utc)",
            """
            CREATE TABLE findings (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                finding_id TEXT NOT NULL,
                severity TEXT NOT NULL,
                subject TEXT NOT NULL,
                message TEXT NOT NULL,
                details TEXT NOT NULL,
                PRIMARY KEY (scan_id, ordinal))
            """,
            """
            CREATE TABLE key_containers (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                folder TEXT NOT NULL,
                file_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                container TEXT,
                public_key_sha256 TEXT,
                status TEXT NOT NULL,
                under_machine_guid BIGINT NOT NULL,
                PRIMARY KEY (scan_id, ordinal))
            """,
            """
            CREATE TABLE certificates (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                store TEXT NOT NULL,
                thumbprint TEXT NOT NULL,
                subject TEXT,
                not_after_utc BIGINT,
                public_key_sha256 TEXT,
                key_container TEXT,
                key_file TEXT,
                key_status TEXT NOT NULL,
                PRIMARY KEY (scan_id, ordinal))
            """,
            """
            CREATE TABLE bindings (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                kind TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                thumbprint TEXT,
                store TEXT,
                sites TEXT NOT NULL,
                PRIMARY KEY (scan_id, ordinal))
            """,
            """
            CREATE TABLE providers (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                name TEXT NOT NULL,
                provider_type TEXT NOT NULL,
                key_container TEXT,
                key_file_prefix TEXT,
                session_key_sha256 TEXT,
                PRIMARY KEY (scan_id, ordinal))
            """,
            """
            CREATE TABLE encrypted_values (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                element TEXT NOT NULL,
                attribute TEXT NOT NULL,
                provider TEXT,
                PRIMARY KEY (scan_id, ordinal))
            """,
            """
            CREATE TABLE custom_metadata (
                scan_id TEXT NOT NULL REFERENCES scans (scan_id),
                ordinal BIGINT NOT NULL,
                path TEXT NOT NULL,
                property_id BIGINT NOT NULL,
                property_value TEXT NOT NULL,
                PRIMARY KEY (scan_id, ordinal))
            """,
        ],
    ];

    /// <summary>The version this KeyDoctor writes and reads.</summary>
    public static int LatestVersion => Migrations.Count;

    /// <summary>Tables holding one scan's rows, in the order they are written (scans first: the others reference it).</summary>
    public static readonly IReadOnlyList<string> Tables =
        ["scans", "findings", "key_containers", "certificates", "bindings", "providers", "encrypted_values", "custom_metadata"];
}
