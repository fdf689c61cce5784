/// A value bound into or read out of SQL. Both stores use only these four types, so the
/// same statements run on SQLite and PostgreSQL.
public enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case double(Double)
    case text(String)
    case null
}

/// One result row, read by column name.
public struct SQLRow: Sendable {
    var columns: [String: SQLValue]

    func integer(_ name: String) -> Int64? {
        switch columns[name] {
        case .integer(let value)?: value
        case .double(let value)?: Int64(value)
        case .text(let value)?: Int64(value)
        default: nil
        }
    }

    func double(_ name: String) -> Double? {
        switch columns[name] {
        case .integer(let value)?: Double(value)
        case .double(let value)?: value
        case .text(let value)?: Double(value)
        default: nil
        }
    }

    func string(_ name: String) -> String? {
        if case .text(let value)? = columns[name] { return value }
        return nil
    }
}

/// The seam between the account logic and a database. Statements are written once, with
/// PostgreSQL's `$1` placeholders; the SQLite side rewrites them to its `?1` form.
public protocol SQLDatabase: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// Statements of other callers never interleave with it.
    func transaction<Result: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> Result) async throws
        -> Result
    func close() async throws
}

/// A connection inside a transaction.
public protocol SQLConnection: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}
