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
    private let runner: Task<Void, Never>?
    private let logger: Logger

    /// Connects to `postgres://user:password@host:port/database` and checks the connection,
    /// running the pool until `close()`.
    public static func connect(url: String, logger: Logger) async throws -> PostgresDatabase {
        let unstarted = try make(url: url, logger: logger)
        // Immediate: the pool is running before the first query asks it for a connection.
        let database = PostgresDatabase(
            client: unstarted.client, runner: Task.immediate { await unstarted.client.run() }, logger: logger)
        _ = try await database.query("SELECT 1", [])
        return database
    }

    /// The database without its pool running: `run()` it as a service.
    public static func make(url: String, logger: Logger) throws -> PostgresDatabase {
        guard let components = URLComponents(string: url), let host = components.host,
            ["postgres", "postgresql"].contains(components.scheme ?? "")
        else {
            throw DatabaseURLError(url: url)
        }
        let database = components.path.split(separator: "/").first.map(String.init)
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database, tls: .disable)
        configuration.options.maximumConnections = 8
        // `?search_path=schema` puts every pooled connection in that schema (used to isolate tests).
        if let schema = components.queryItems?.first(where: { $0.name == "search_path" })?.value {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)  // pool churn is routine, not news
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        return PostgresDatabase(client: client, runner: nil, logger: logger)
    }

    private init(client: PostgresClient, runner: Task<Void, Never>?, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
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

public struct DatabaseURLError: Error, CustomStringConvertible {
    public var url: String
    public var description: String { "SPEECHROUTER_DATABASE_URL is not a postgres://user:password@host:port/database URL" }
}
