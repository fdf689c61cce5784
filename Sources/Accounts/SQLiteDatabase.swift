import CSQLite3
import Foundation
public import Logging
import ServiceLifecycle

/// SQLite through its C API: one file in WAL mode and one connection.
///
/// Every statement runs while `lock` is held, so a transaction's statements never interleave
/// with another caller's and the handle is never used by two threads at once. A statement
/// takes microseconds (WAL, `synchronous=NORMAL`, prepared statements cached) and runs inline,
/// with SQLite told never to wait for a file lock (`busy_timeout` 0): the only wait there can
/// be is for another process's write lock (the CLI creating a key), and when SQLite reports
/// one (SQLITE_BUSY) the query or the whole transaction is run again on `thread`, a thread of
/// its own, where it may wait up to `waitingTimeout`. So no blocking call ever parks a thread of
/// the cooperative pool, and the common case pays no thread hop: measured on the 2-core
/// machine, a round trip to a dedicated thread and back cost ~0.45 ms per query, which put
/// ~1.8 ms on every speech request when every statement went there.
public final class SQLiteDatabase: SQLDatabase, SQLConnection, @unchecked Sendable {
    // @unchecked: `handle` and `statements` are only touched while `lock` is held.
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private let lock = AsyncLock()
    private let thread = SQLiteThread(name: "speechrouter.sqlite")
    /// How long a statement on `thread` waits for another process's write lock, in ms.
    private let waitingTimeout: Int32

    /// Opens (or creates) the database at `path`; `waitingTimeout` (ms, default 5 s) is how long
    /// a statement waits for another process's write lock.
    public static func open(path: String, logger: Logger, waitingTimeout: Int32 = 5_000) async throws -> SQLiteDatabase {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SQLiteError(message: "cannot open \(path): \(message)")
        }
        let database = SQLiteDatabase(handle: handle, waitingTimeout: max(waitingTimeout, 0))
        try await database.query("PRAGMA journal_mode=WAL", [])
        sqlite3_busy_timeout(handle, 0)
        try await database.query("PRAGMA synchronous=NORMAL", [])
        return database
    }

    private var closed = false

    private init(handle: OpaquePointer, waitingTimeout: Int32) {
        self.handle = handle
        self.waitingTimeout = waitingTimeout
    }

    deinit {
        // Nobody holds the database any more, so nobody can hold its lock either.
        if !closed { closeHandle() }
        thread.stop()
    }

    private func closeHandle() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        sqlite3_close_v2(handle)
        closed = true
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await lock.withLock {
            do {
                return try run(sql, binds)
            } catch let error as SQLiteError where error.isBusy {
                return try await waitingForLocks { try run(sql, binds) }
            }
        }
    }

    public func transaction<Result: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> Result)
        async throws -> Result
    {
        try await lock.withLock {
            do {
                return try await attempt(body)
            } catch let error as SQLiteError where error.isBusy {
                // Rolled back: nothing of it happened, so it runs again from the start.
                return try await waitingForLocks { try await attempt(body) }
            }
        }
    }

    /// One try at a transaction; rolled back when anything in it throws. Lock held.
    private func attempt<Result: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> Result)
        async throws -> Result
    {
        try run("BEGIN IMMEDIATE", [])
        do {
            let result = try await body(Unlocked(database: self))
            try run("COMMIT", [])
            return result
        } catch {
            _ = try? run("ROLLBACK", [])
            throw error
        }
    }

    /// Runs `work` on `thread`, where SQLite may wait for another process's locks. Lock held.
    private func waitingForLocks<Result: Sendable>(_ work: () async throws -> Result) async throws -> Result {
        try await withTaskExecutorPreference(thread) {
            sqlite3_busy_timeout(handle, waitingTimeout)
            defer { sqlite3_busy_timeout(handle, 0) }
            return try await work()
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    public func close() async throws {
        await lock.withLock {
            if !closed { closeHandle() }
        }
        thread.stop()
    }

    /// The connection as seen inside a transaction, where the lock is already held.
    private struct Unlocked: SQLConnection {
        let database: SQLiteDatabase
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try database.run(sql, binds)
        }
    }

    /// Prepares (once per SQL text), binds, steps through the rows and resets. Lock held.
    @discardableResult
    fileprivate func run(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        guard !closed else { throw SQLiteError(message: "the database is closed") }
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .integer(let number): status = sqlite3_bind_int64(statement, position, number)
            case .double(let number): status = sqlite3_bind_double(statement, position, number)
            case .text(let text): status = sqlite3_bind_text(statement, position, text, -1, csqlite3_transient())
            case .null: status = sqlite3_bind_null(statement, position)
            }
            guard status == SQLITE_OK else { throw error(sql) }
        }
        var rows: [SQLRow] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                var columns: [String: SQLValue] = [:]
                for column in 0..<sqlite3_column_count(statement) {
                    let name = String(cString: sqlite3_column_name(statement, column))
                    switch sqlite3_column_type(statement, column) {
                    case SQLITE_INTEGER: columns[name] = .integer(sqlite3_column_int64(statement, column))
                    case SQLITE_FLOAT: columns[name] = .double(sqlite3_column_double(statement, column))
                    case SQLITE_TEXT: columns[name] = .text(String(cString: sqlite3_column_text(statement, column)))
                    default: columns[name] = .null
                    }
                }
                rows.append(SQLRow(columns: columns))
            case SQLITE_DONE:
                return rows
            case let status:
                throw error(sql, status: status)
            }
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, Self.sqliteDialect(sql), -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(sql, status: status) }
        statements[sql] = statement
        return statement
    }

    private func error(_ sql: String, status: Int32 = SQLITE_ERROR) -> SQLiteError {
        SQLiteError(
            message: "\(String(cString: sqlite3_errmsg(handle))) in: \(sql.prefix(120))",
            isBusy: status & 0xFF == SQLITE_BUSY)
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

public struct SQLiteError: Error, CustomStringConvertible {
    public var message: String
    /// Another connection holds a lock this statement needs (SQLITE_BUSY).
    public var isBusy = false
    public var description: String { "SQLite: \(message)" }
}
