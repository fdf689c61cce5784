import Foundation

/// One statement of a migration, with the values it binds.
struct MigrationStatement: ExpressibleByStringLiteral {
    var sql: String
    var binds: [SQLValue] = []

    init(stringLiteral sql: String) { self.sql = sql }

    init(_ sql: String, _ binds: [SQLValue]) {
        self.sql = sql
        self.binds = binds
    }
}

/// Versioned schema changes, applied in order at start; each runs once per database. The
/// statements are portable between SQLite and PostgreSQL: integers, doubles (Unix seconds for
/// times) and text only.
enum Migrations {
    /// The versions in order; `now` places the periods a backfill counts in.
    static func versions(now: Date) -> [[MigrationStatement]] { [version1, version2(now: now), version3, version4, version5, version6] }

    private static let version1: [MigrationStatement] = [
        """
        CREATE TABLE api_keys (
            hash TEXT PRIMARY KEY, name TEXT NOT NULL, label TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION,
            disabled INTEGER NOT NULL DEFAULT 0, is_management INTEGER NOT NULL DEFAULT 0,
            limit_nanos BIGINT, limit_reset TEXT, expires_at DOUBLE PRECISION,
            rate_limit_requests INTEGER, rate_limit_interval DOUBLE PRECISION,
            period_start DOUBLE PRECISION NOT NULL, period_used_nanos BIGINT NOT NULL DEFAULT 0,
            reserved_nanos BIGINT NOT NULL DEFAULT 0, used_nanos BIGINT NOT NULL DEFAULT 0)
        """,
        """
        CREATE TABLE account (
            id INTEGER PRIMARY KEY, total_credits_nanos BIGINT,
            used_nanos BIGINT NOT NULL DEFAULT 0, reserved_nanos BIGINT NOT NULL DEFAULT 0)
        """,
        "INSERT INTO account (id, total_credits_nanos) VALUES (1, NULL)",
        """
        CREATE TABLE generations (
            id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
            voice TEXT NOT NULL, format TEXT NOT NULL, characters INTEGER NOT NULL,
            spoken_characters INTEGER NOT NULL DEFAULT 0, price_nanos BIGINT NOT NULL,
            reserved_nanos BIGINT NOT NULL, cost_nanos BIGINT NOT NULL DEFAULT 0,
            started_at DOUBLE PRECISION NOT NULL, first_byte_at DOUBLE PRECISION, finished_at DOUBLE PRECISION,
            status TEXT NOT NULL, instance TEXT NOT NULL)
        """,
        "CREATE INDEX generations_by_key ON generations (key_hash, started_at)",
        "CREATE INDEX generations_running ON generations (status, instance)",
        """
        CREATE TABLE rate_windows (
            key_hash TEXT NOT NULL, window_start DOUBLE PRECISION NOT NULL, request_count INTEGER NOT NULL,
            PRIMARY KEY (key_hash, window_start))
        """,
    ]

    /// A key's own limit on concurrent streams (`keys create --max-streams`); NULL: the gateway's default.
    private static let version3: [MigrationStatement] = ["ALTER TABLE api_keys ADD COLUMN max_streams INTEGER"]

    /// The model's id at the upstream provider that served a generation; NULL for built-in engines.
    private static let version4: [MigrationStatement] = ["ALTER TABLE generations ADD COLUMN upstream_model TEXT"]

    /// A generation answered from the speech cache names the generation that made its audio.
    private static let version5: [MigrationStatement] = [
        "ALTER TABLE generations ADD COLUMN response_cache_source_id TEXT"
    ]

    /// Every upstream attempt of a generation (`ProviderAttempt`), as a JSON array; NULL for none.
    private static let version6: [MigrationStatement] = ["ALTER TABLE generations ADD COLUMN provider_responses TEXT"]

    /// Per-period usage counters, kept by every charge (`AccountStore.finish`), backfilled from the
    /// generations of the periods that contain `now` (a generation counts in the period it started in).
    private static func version2(now: Date) -> [MigrationStatement] {
        let table: MigrationStatement = """
            CREATE TABLE key_usage (
                key_hash TEXT NOT NULL, period TEXT NOT NULL, period_start DOUBLE PRECISION NOT NULL,
                used_nanos BIGINT NOT NULL, PRIMARY KEY (key_hash, period))
            """
        return [table]
            + LimitReset.allCases.map { period in
                MigrationStatement(
                    """
                    INSERT INTO key_usage (key_hash, period, period_start, used_nanos)
                    SELECT key_hash, $1, $2, CAST(SUM(cost_nanos) AS BIGINT) FROM generations
                    WHERE started_at >= $2 GROUP BY key_hash
                    """,
                    [.text(period.rawValue), .double(period.periodStart(containing: now).timeIntervalSince1970)])
            }
    }

    static func apply(to database: any SQLDatabase, now: Date = Date()) async throws {
        try await database.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)", [])
        try await database.transaction { connection in
            // Two instances starting at once: the first takes the lock, the second then sees its versions.
            if database is PostgresDatabase {
                try await connection.query("LOCK TABLE schema_migrations IN EXCLUSIVE MODE", [])
            }
            let applied = try await connection.query(
                "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS version FROM schema_migrations", []
            ).first.map { try $0.integer("version") } ?? 0
            for (index, statements) in versions(now: now).enumerated() where index + 1 > applied {
                for statement in statements { try await connection.query(statement.sql, statement.binds) }
                try await connection.query(
                    "INSERT INTO schema_migrations (version) VALUES ($1)", [.integer(Int64(index + 1))])
            }
        }
    }
}
