import Foundation
import Logging
import NIOPosix
import SQLiteNIO

/// Accounts in one SQLite file (WAL), the embedded default.
public final class SQLiteAccountStore: AccountStore {
    private let connection: SQLiteConnection
    private let threads: NIOThreadPool

    /// Schema versions, applied in order at open; each runs once.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
                created_at REAL NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, limit_usd REAL)
            """,
            """
            CREATE TABLE generations (
                id TEXT PRIMARY KEY, key_id TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
                voice TEXT NOT NULL, format TEXT NOT NULL, characters INTEGER NOT NULL,
                spoken_characters INTEGER NOT NULL DEFAULT 0,
                started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL)
            """,
            "CREATE INDEX generations_by_key ON generations (key_id, started_at)",
            "CREATE INDEX generations_by_status ON generations (status)",
        ]
    ]

    public static func open(path: String, logger: Logger = Logger(label: "speechrouter.accounts")) async throws
        -> SQLiteAccountStore
    {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // One thread of its own, so SQLite calls never queue behind other blocking work.
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: threads, logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any())
        let store = SQLiteAccountStore(connection: connection, threads: threads)
        try await store.prepare()
        return store
    }

    private init(connection: SQLiteConnection, threads: NIOThreadPool) {
        self.connection = connection
        self.threads = threads
    }

    private func prepare() async throws {
        _ = try await connection.query("PRAGMA journal_mode=WAL")
        _ = try await connection.query("PRAGMA busy_timeout=5000")
        _ = try await connection.query("PRAGMA synchronous=NORMAL")
        _ = try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        let applied = try await connection.query("SELECT MAX(version) AS version FROM schema_migrations")
            .first?.column("version")?.integer ?? 0
        for (index, statements) in Self.migrations.enumerated() where index + 1 > applied {
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                for statement in statements { _ = try await connection.query(statement) }
                _ = try await connection.query("INSERT INTO schema_migrations (version) VALUES (?)", [.integer(index + 1)])
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    public func createKey(name: String, limit: Double?) async throws -> (APIKey, KeySecret) {
        let secret = KeySecret.generate()
        let key = APIKey(
            id: "key-" + String(secret.hash.prefix(16)), name: name, createdAt: Date(), limit: limit)
        _ = try await connection.query(
            "INSERT INTO api_keys (id, name, key_hash, created_at, disabled, limit_usd) VALUES (?, ?, ?, ?, 0, ?)",
            [.text(key.id), .text(name), .text(secret.hash), .float(key.createdAt.timeIntervalSince1970),
             limit.map { .float($0) } ?? .null])
        return (key, secret)
    }

    public func authenticate(_ secret: KeySecret) async throws -> APIKey? {
        let hash = secret.hash
        let rows = try await connection.query(
            "SELECT id, name, key_hash, created_at, disabled, limit_usd FROM api_keys WHERE key_hash = ?",
            [.text(hash)])
        guard let row = rows.first, let stored = row.column("key_hash")?.string,
            KeySecret.constantTimeEquals(stored, hash)
        else { return nil }
        let key = Self.key(from: row)
        return key.disabled ? nil : key
    }

    public func listKeys() async throws -> [APIKey] {
        try await connection.query(
            "SELECT id, name, created_at, disabled, limit_usd FROM api_keys ORDER BY created_at"
        ).map(Self.key(from:))
    }

    public func startGeneration(_ record: GenerationRecord) async throws {
        _ = try await connection.query(
            """
            INSERT INTO generations (id, key_id, model, provider, voice, format, characters, started_at, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(record.id), .text(record.keyID), .text(record.model), .text(record.provider),
             .text(record.voice), .text(record.format), .integer(record.characters),
             .float(record.startedAt.timeIntervalSince1970), .text(record.status.rawValue)])
    }

    public func finishGeneration(id: String, status: GenerationStatus, spokenCharacters: Int, at date: Date)
        async throws
    {
        _ = try await connection.query(
            "UPDATE generations SET status = ?, finished_at = ?, spoken_characters = ? WHERE id = ? AND status = 'running'",
            [.text(status.rawValue), .float(date.timeIntervalSince1970), .integer(spokenCharacters), .text(id)])
    }

    public func generation(id: String) async throws -> GenerationRecord? {
        let rows = try await connection.query(
            """
            SELECT id, key_id, model, provider, voice, format, characters, spoken_characters, started_at, finished_at, status
            FROM generations WHERE id = ?
            """, [.text(id)])
        return rows.first.map { row in
            GenerationRecord(
                id: row.column("id")?.string ?? "", keyID: row.column("key_id")?.string ?? "",
                model: row.column("model")?.string ?? "", provider: row.column("provider")?.string ?? "",
                voice: row.column("voice")?.string ?? "", format: row.column("format")?.string ?? "",
                characters: row.column("characters")?.integer ?? 0,
                spokenCharacters: row.column("spoken_characters")?.integer ?? 0,
                startedAt: Date(timeIntervalSince1970: row.column("started_at")?.double ?? 0),
                finishedAt: row.column("finished_at")?.double.map(Date.init(timeIntervalSince1970:)),
                status: GenerationStatus(rawValue: row.column("status")?.string ?? "") ?? .failed)
        }
    }

    public func failInterruptedGenerations(at date: Date) async throws -> Int {
        let rows = try await connection.query(
            "UPDATE generations SET status = 'failed', finished_at = ? WHERE status = 'running' RETURNING id",
            [.float(date.timeIntervalSince1970)])
        return rows.count
    }

    public func close() async throws {
        try await connection.close()
        try await threads.shutdownGracefully()
    }

    private static func key(from row: SQLiteRow) -> APIKey {
        APIKey(
            id: row.column("id")?.string ?? "", name: row.column("name")?.string ?? "",
            createdAt: Date(timeIntervalSince1970: row.column("created_at")?.double ?? 0),
            disabled: (row.column("disabled")?.integer ?? 0) != 0,
            limit: row.column("limit_usd")?.double)
    }
}
