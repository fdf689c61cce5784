import Foundation
import Logging
import NIOPosix
import SQLiteNIO

/// SQLite through sqlite-nio: one file, WAL, one connection whose calls run on a thread of
/// its own. Every statement and transaction takes `lock`, so a transaction's statements are
/// never interleaved with another caller's on the shared connection.
public final class SQLiteDatabase: SQLDatabase, SQLConnection {
    private let connection: SQLiteConnection
    private let threads: NIOThreadPool
    private let lock = AsyncLock()

    public static func open(path: String, logger: Logger) async throws -> SQLiteDatabase {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: threads, logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any())
        _ = try await connection.query("PRAGMA journal_mode=WAL")
        _ = try await connection.query("PRAGMA busy_timeout=5000")
        _ = try await connection.query("PRAGMA synchronous=NORMAL")
        return SQLiteDatabase(connection: connection, threads: threads)
    }

    private init(connection: SQLiteConnection, threads: NIOThreadPool) {
        self.connection = connection
        self.threads = threads
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await lock.withLock { try await run(sql, binds) }
    }

    public func transaction<Result: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> Result)
        async throws -> Result
    {
        try await lock.withLock {
            try await run("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(Unlocked(database: self))
                try await run("COMMIT", [])
                return result
            } catch {
                _ = try? await run("ROLLBACK", [])
                throw error
            }
        }
    }

    public func close() async throws {
        try await connection.close()
        try await threads.shutdownGracefully()
    }

    /// The connection as seen inside a transaction, where the lock is already held.
    private struct Unlocked: SQLConnection {
        let database: SQLiteDatabase
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await database.run(sql, binds)
        }
    }

    @discardableResult
    fileprivate func run(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let rows = try await connection.query(Self.sqliteDialect(sql), binds.map(\.sqlite))
        return rows.map { row in
            var columns: [String: SQLValue] = [:]
            for column in row.columns {
                columns[column.name] = SQLValue(column.data)
            }
            return SQLRow(columns: columns)
        }
    }

    /// `$1` → `?1`: SQLite binds `?NNN` by index, as PostgreSQL binds `$NNN`.
    static func sqliteDialect(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count)
        var previous: Character = " "
        for character in sql {
            if previous == "$" && character.isNumber {
                result.removeLast()
                result.append("?")
            }
            result.append(character)
            previous = character
        }
        return result
    }
}

extension SQLValue {
    var sqlite: SQLiteData {
        switch self {
        case .integer(let value): .integer(Int(value))
        case .double(let value): .float(value)
        case .text(let value): .text(value)
        case .null: .null
        }
    }

    init(_ data: SQLiteData) {
        switch data {
        case .integer(let value): self = .integer(Int64(value))
        case .float(let value): self = .double(value)
        case .text(let value): self = .text(value)
        case .blob, .null: self = .null
        }
    }
}
