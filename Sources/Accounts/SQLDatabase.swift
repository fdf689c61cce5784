/// A value bound into or read out of SQL. Both stores use only these four types, so the
/// same statements run on SQLite and PostgreSQL.
public enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case double(Double)
    case text(String)
    case null
}

/// One result row, read by column name. A column that is missing or holds another type than
/// the one asked for throws: a schema slip must fail loudly, never read as an empty string or a
/// zero amount. The `optional` readers give nil only for SQL NULL.
public struct SQLRow: Sendable {
    var columns: [String: SQLValue]

    func integer(_ name: String) throws -> Int64 { try required(name, optionalInteger) }
    func double(_ name: String) throws -> Double { try required(name, optionalDouble) }
    func string(_ name: String) throws -> String { try required(name, optionalString) }

    func optionalInteger(_ name: String) throws -> Int64? {
        switch try value(name) {
        case .integer(let value): return value
        // SQLite may hand back an integral REAL (a computed column); only an exact one reads.
        case .double(let value):
            guard let exact = Int64(exactly: value) else { throw SQLRowError.mistyped(column: name, expected: "integer") }
            return exact
        case .null: return nil
        case .text: throw SQLRowError.mistyped(column: name, expected: "integer")
        }
    }

    func optionalDouble(_ name: String) throws -> Double? {
        switch try value(name) {
        case .double(let value): return value
        case .integer(let value): return Double(value)
        case .null: return nil
        case .text: throw SQLRowError.mistyped(column: name, expected: "number")
        }
    }

    func optionalString(_ name: String) throws -> String? {
        switch try value(name) {
        case .text(let value): return value
        case .null: return nil
        case .integer, .double: throw SQLRowError.mistyped(column: name, expected: "text")
        }
    }

    func bool(_ name: String) throws -> Bool { try integer(name) != 0 }

    private func required<Value>(_ name: String, _ read: (String) throws -> Value?) throws -> Value {
        guard let value = try read(name) else { throw SQLRowError.null(column: name) }
        return value
    }

    private func value(_ name: String) throws -> SQLValue {
        guard let value = columns[name] else { throw SQLRowError.missing(column: name) }
        return value
    }
}

public enum SQLRowError: Error, Equatable, CustomStringConvertible {
    case missing(column: String)
    case null(column: String)
    case mistyped(column: String, expected: String)

    public var description: String {
        switch self {
        case .missing(let column): "result has no column \(column)"
        case .null(let column): "column \(column) is NULL"
        case .mistyped(let column, let expected): "column \(column) is not \(expected)"
        }
    }
}

/// The seam between the account logic and a database. Statements are written once, with
/// PostgreSQL's `$1` placeholders; the SQLite side rewrites them to its `?1` form.
public protocol SQLDatabase: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// A lone SELECT that may run beside other statements, on a connection of its own where the
    /// database has one (`query` otherwise).
    func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// Statements of other callers never interleave with it.
    func transaction<Result: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> Result) async throws
        -> Result
    func close() async throws
    /// Serves until graceful shutdown, then closes (the database's life as a service).
    func run() async throws
    /// Throws, naming the cause, when the database cannot be reached at all.
    func probe() async throws
}

extension SQLDatabase {
    public func probe() async throws {}

    public func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await query(sql, binds)
    }
}

/// A connection inside a transaction.
public protocol SQLConnection: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}
