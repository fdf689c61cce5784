import CSQLite3
import Foundation
public import Logging
import ServiceLifecycle
import Synchronization

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
///
/// `read` runs a lone SELECT on a second, read-only connection under a plain mutex, inline: WAL
/// lets it read while the first connection writes, and it never queues behind the async lock.
/// Every request reads its API key; through the lock, 100 requests arriving at once were
/// answered one lock hand-off (~0.25 ms under load) after another, the last 503 of an overload
/// after 25 ms of the server's own time.
public final class SQLiteDatabase: SQLDatabase, SQLConnection, @unchecked Sendable {
    // @unchecked: `connection` is only touched while `lock` is held, `reader` inside its mutex.
    private let connection: SQLiteConnection
    private let reader: Mutex<SQLiteConnection?>
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
        let writer = SQLiteConnection(handle: handle)
        do {
            try writer.run("PRAGMA journal_mode=WAL", [])
            sqlite3_busy_timeout(handle, 0)
            try writer.run("PRAGMA synchronous=NORMAL", [])
        } catch {
            writer.close()
            throw error
        }
        // The reader opens after WAL is on (a read-only connection cannot turn it on); without
        // it (an in-memory or read-only file), `read` takes the lock like every query.
        var readHandle: OpaquePointer?
        let reader: SQLiteConnection?
        if sqlite3_open_v2(path, &readHandle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
            let readHandle
        {
            sqlite3_busy_timeout(readHandle, 0)
            reader = SQLiteConnection(handle: readHandle)
        } else {
            sqlite3_close(readHandle)
            reader = nil
        }
        return SQLiteDatabase(connection: writer, reader: reader, waitingTimeout: max(waitingTimeout, 0))
    }

    private init(connection: SQLiteConnection, reader: sending SQLiteConnection?, waitingTimeout: Int32) {
        self.connection = connection
        self.reader = Mutex(reader)
        self.waitingTimeout = waitingTimeout
    }

    deinit {
        // Nobody holds the database any more, so nobody can hold its lock either.
        closeConnections()
        thread.stop()
    }

    private func closeConnections() {
        connection.close()
        reader.withLock { $0?.close() }
    }

    /// A lone SELECT on the read-only connection (see the type's note); on the locked connection
    /// when there is none or SQLite reports it busy.
    public func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            if let rows = try reader.withLock({ try $0?.run(sql, binds) }) { return rows }
        } catch let error as SQLiteError where error.isBusy {
            // Run again below, where a busy file is waited for.
        }
        return try await query(sql, binds)
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
            sqlite3_busy_timeout(connection.handle, waitingTimeout)
            defer { sqlite3_busy_timeout(connection.handle, 0) }
            return try await work()
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    public func close() async throws {
        await lock.withLock { closeConnections() }
        thread.stop()
    }

    /// The connection as seen inside a transaction, where the lock is already held.
    private struct Unlocked: SQLConnection {
        let database: SQLiteDatabase
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try database.run(sql, binds)
        }
    }

    /// Runs one statement on the locked connection. Lock held.
    @discardableResult
    fileprivate func run(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try connection.run(sql, binds)
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

/// One SQLite connection and its prepared statements. Not thread-safe: its owner serializes
/// every call (`SQLiteDatabase`'s lock or mutex).
final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private var closed = false

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    func close() {
        guard !closed else { return }
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        sqlite3_close_v2(handle)
        closed = true
    }

    /// Prepares (once per SQL text), binds, steps through the rows and resets.
    @discardableResult
    func run(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
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
        let status = sqlite3_prepare_v2(handle, SQLiteDatabase.sqliteDialect(sql), -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(sql, status: status) }
        statements[sql] = statement
        return statement
    }

    private func error(_ sql: String, status: Int32 = SQLITE_ERROR) -> SQLiteError {
        SQLiteError(
            message: "\(String(cString: sqlite3_errmsg(handle))) in: \(sql.prefix(120))",
            isBusy: status & 0xFF == SQLITE_BUSY)
    }

}

public struct SQLiteError: Error, CustomStringConvertible {
    public var message: String
    /// Another connection holds a lock this statement needs (SQLITE_BUSY).
    public var isBusy = false
    public var description: String { "SQLite: \(message)" }
}
