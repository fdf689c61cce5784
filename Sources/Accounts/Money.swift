import Foundation

/// An amount in billionths of a US dollar. Prices and limits are summed as integers, so the
/// recorded usage equals the sum of its charges exactly, with no floating-point drift.
public struct Nanodollars: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static let zero = Nanodollars(0)

    /// The largest amount taken from outside (a limit, the credits, a price): one billion USD,
    /// 10^18 nanodollars, so that a limit plus the usage and reservations summed against it
    /// stays far inside `Int64` (9.2 × 10^18) in Swift, SQLite and PostgreSQL alike.
    public static let maximum = Nanodollars(1_000_000_000_000_000_000)
    public static let maximumUSD = 1_000_000_000.0

    /// Parses a decimal USD string (`"0.0000006"`); nil if it is not a non-negative decimal
    /// in whole nanodollars of at most `maximum`.
    public init?(usd text: String) {
        guard let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), decimal >= 0 else {
            return nil
        }
        var scaled = decimal * 1_000_000_000
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        guard rounded == scaled, rounded <= Decimal(Self.maximum.value) else { return nil }
        self.value = NSDecimalNumber(decimal: rounded).int64Value
    }

    /// An amount of USD rounded to whole nanodollars; nil when it is not finite, negative or
    /// more than `maximumUSD`.
    public init?(usd: Double) {
        guard usd.isFinite, usd >= 0, usd <= Self.maximumUSD,
            let value = Int64(exactly: (usd * 1_000_000_000).rounded())
        else { return nil }
        self.value = value
    }

    /// What `init?(usd:)` takes, for error messages that name the field.
    public static let requirement = "must be a number of USD from 0 to 1000000000"

    public var usd: Double { Double(value) / 1_000_000_000 }

    // Saturating: amounts from outside are at most `maximum`, so these never reach the bounds
    // in practice, and if they did a wrong total is better than a crashed gateway.
    public static func + (a: Self, b: Self) -> Self {
        let (sum, overflow) = a.value.addingReportingOverflow(b.value)
        return Self(overflow ? (b.value > 0 ? .max : .min) : sum)
    }
    public static func - (a: Self, b: Self) -> Self {
        let (difference, overflow) = a.value.subtractingReportingOverflow(b.value)
        return Self(overflow ? (b.value < 0 ? .max : .min) : difference)
    }
    public static func * (a: Self, count: Int) -> Self {
        let (product, overflow) = a.value.multipliedReportingOverflow(by: Int64(clamping: count))
        return Self(overflow ? ((a.value < 0) != (count < 0) ? .min : .max) : product)
    }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    public var description: String { String(format: "$%.9f", usd) }
}
