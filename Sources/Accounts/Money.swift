import Foundation

/// An amount in billionths of a US dollar. Prices and limits are summed as integers, so the
/// recorded usage equals the sum of its charges exactly, with no floating-point drift.
public struct Nanodollars: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static let zero = Nanodollars(0)

    /// Parses a decimal USD string (`"0.0000006"`); nil if it is not a non-negative decimal
    /// representable in whole nanodollars.
    public init?(usd text: String) {
        guard let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), decimal >= 0 else {
            return nil
        }
        var scaled = decimal * 1_000_000_000
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        guard rounded == scaled, rounded <= Decimal(Int64.max) else { return nil }
        self.value = NSDecimalNumber(decimal: rounded).int64Value
    }

    public init(usd: Double) {
        value = Int64((usd * 1_000_000_000).rounded())
    }

    public var usd: Double { Double(value) / 1_000_000_000 }

    public static func + (a: Self, b: Self) -> Self { Self(a.value + b.value) }
    public static func - (a: Self, b: Self) -> Self { Self(a.value - b.value) }
    public static func * (a: Self, count: Int) -> Self { Self(a.value * Int64(count)) }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    public var description: String { String(format: "$%.9f", usd) }
}
