import Foundation
public import Logging
import PostgresNIO

/// PostgreSQL through postgres-nio's connection pool, for several gateway instances that
/// share one state. Transactions run on one leased connection; row locks taken by their
/// `UPDATE … WHERE` statements serialize concurrent spenders of the same key across instances.
///
/// The pool works while `run()` runs: as a service of the server's group, or, for a one-shot
/// command, in the task `connect` starts and `close` cancels and awaits.
public final class PostgresDatabase: SQLDatabase {
    private let client: PostgresClient
    private let url: PostgresURL
    private let runner: Task<Void, Never>?
    private let logger: Logger

    /// Connects to `postgres://user:password@host:port/database` and checks the connection,
    /// running the pool until `close()`.
    public static func connect(url: String, logger: Logger) async throws -> PostgresDatabase {
        let unstarted = try make(url: url, logger: logger)
        // Immediate: the pool is running before the first query asks it for a connection.
        try await unstarted.probe()
        let database = PostgresDatabase(
            client: unstarted.client, url: unstarted.url, runner: Task.immediate { await unstarted.client.run() },
            logger: logger)
        _ = try await database.query("SELECT 1", [])
        return database
    }

    /// The database without its pool running: `run()` it as a service. TLS as the URL's
    /// `sslmode` says (libpq's default, `prefer`, when it says nothing).
    public static func make(url: String, logger: Logger) throws -> PostgresDatabase {
        let url = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: url.tls)
        configuration.options.maximumConnections = 8
        if let schema = url.searchPath {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)  // pool churn is routine, not news
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        return PostgresDatabase(client: client, url: url, runner: nil, logger: logger)
    }

    private init(client: PostgresClient, url: PostgresURL, runner: Task<Void, Never>?, logger: Logger) {
        self.client = client
        self.url = url
        self.runner = runner
        self.logger = logger
    }

    /// Opens one connection with the pool's settings, and closes it. The pool itself retries a
    /// connection that fails until its circuit breaker trips, a minute later, with an error
    /// that names no cause (seen with `sslmode=require` against a server without TLS).
    public func probe() async throws {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: .disable)
        if let tls = url.tlsConfiguration {
            let context = try NIOSSLContext(configuration: tls)
            configuration.tls = url.sslMode == .prefer ? .prefer(context) : .require(context)
        }
        if let schema = url.searchPath { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch let error as PSQLError {
            let cause =
                error.code == .sslUnsupported
                ? "the server does not offer TLS"
                : error.serverInfo?[.message] ?? error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
            throw DatabaseConnectionError(url: url, cause: cause)
        } catch {
            throw DatabaseConnectionError(url: url, cause: "\(error)")
        }
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await Self.rows(client.query(Self.query(sql, binds), logger: logger))
    }

    public func transaction<Result: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> Result)
        async throws -> Result
    {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(Leased(connection: connection, logger: logger))
            }
        } catch let error as PostgresTransactionError {
            // The body's own error (a BillingError, say) is what callers handle.
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }

    public func run() async {
        await client.run()  // ends at graceful shutdown
    }

    public func close() async throws {
        runner?.cancel()
        _ = await runner?.value
    }

    private struct Leased: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await PostgresDatabase.rows(connection.query(PostgresDatabase.query(sql, binds), logger: logger))
        }
    }

    fileprivate static func query(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .integer(let value): bindings.append(value)
            case .double(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    fileprivate static func rows(_ sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for try await row in sequence {
            var columns: [String: SQLValue] = [:]
            for cell in row {
                columns[cell.columnName] = try value(of: cell)
            }
            rows.append(SQLRow(columns: columns))
        }
        return rows
    }

    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }
}
