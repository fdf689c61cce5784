import Crypto
public import Foundation

/// When a key's spending limit starts over, at midnight UTC as OpenRouter does.
public enum LimitReset: String, Sendable, CaseIterable {
    case daily, weekly, monthly

    /// The start of the period that contains `date`: 00:00 UTC of the day, of the Monday, or of the 1st.
    public func periodStart(containing date: Date) -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch self {
        case .daily: return calendar.startOfDay(for: date)
        case .weekly:
            return calendar.date(from: calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date))!
        case .monthly: return calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
        }
    }

    /// The start of the period after the one that contains `date`: when a limit next starts over.
    public func nextPeriodStart(after date: Date) -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = periodStart(containing: date)
        let step: DateComponents =
            switch self {
            case .daily: DateComponents(day: 1)
            case .weekly: DateComponents(day: 7)
            case .monthly: DateComponents(month: 1)
            }
        return calendar.date(byAdding: step, to: start) ?? start
    }
}

/// Requests allowed per interval for one key.
public struct RateLimit: Sendable, Equatable {
    public var requests: Int
    public var interval: Double

    public init(requests: Int, interval: Double) {
        self.requests = requests
        self.interval = interval
    }

    /// The requests a rate limit may allow per interval.
    public static let requestRange = 1...1_000_000_000
    /// The interval in seconds: at least a second (rate windows are counted per whole window
    /// start, and a tiny interval has no meaningful window), at most a leap year.
    public static let intervalRange = 1.0...31_622_400.0

    /// This limit brought into the ranges: what a rate limit stored before they were checked
    /// (`keys create --rate-interval 0` or `1e300`) means now, rather than a trap or a 500.
    var clamped: RateLimit {
        let interval = interval.isNaN ? 60 : min(max(interval, Self.intervalRange.lowerBound), Self.intervalRange.upperBound)
        return RateLimit(
            requests: min(max(requests, Self.requestRange.lowerBound), Self.requestRange.upperBound), interval: interval)
    }

    /// Why `requests` is not a rate limit's request count, or nil when it is.
    public static func problem(requests: Int) -> String? {
        requestRange.contains(requests)
            ? nil : "must be between \(requestRange.lowerBound) and \(requestRange.upperBound), not \(requests)"
    }

    /// Why `interval` is not a rate limit's interval, or nil when it is.
    public static func problem(interval: Double) -> String? {
        intervalRange.contains(interval)
            ? nil
            : "must be between \(Int(intervalRange.lowerBound)) and \(Int(intervalRange.upperBound)) seconds, not \(interval)"
    }
}

/// A key as stored: never the secret, only its SHA-256, which is also its public id (`hash`).
public struct APIKey: Sendable, Equatable {
    public var hash: String
    public var name: String
    /// The non-secret short form (`sk-sr-v1-ab12...9f3e`).
    public var label: String
    public var createdAt: Date
    public var updatedAt: Date?
    public var disabled: Bool
    public var isManagement: Bool
    public var limit: Nanodollars?
    public var limitReset: LimitReset?
    public var expiresAt: Date?
    public var rateLimit: RateLimit?
    /// Charged in the current limit period, and reserved by generations still running.
    public var periodUsage: Nanodollars
    public var reserved: Nanodollars
    public var usage: Nanodollars
    /// The most speech streams the key may have open at once, before the gateway's default.
    public var maxStreams: Int?

    public var limitRemaining: Nanodollars? { limit.map { $0 - periodUsage - reserved } }

    public func isExpired(at date: Date) -> Bool { expiresAt.map { $0 <= date } ?? false }
}

/// What to create a key with.
public struct KeySettings: Sendable {
    public var name: String
    public var limit: Nanodollars?
    public var limitReset: LimitReset?
    public var expiresAt: Date?
    public var isManagement: Bool
    public var rateLimit: RateLimit?
    /// The most speech streams the key may have open at once (1 to `maximumStreams`).
    public var maxStreams: Int?

    /// The most concurrent streams a key (or a model) may be allowed.
    public static let maximumStreams = 100_000

    public init(
        name: String, limit: Nanodollars? = nil, limitReset: LimitReset? = nil, expiresAt: Date? = nil,
        isManagement: Bool = false, rateLimit: RateLimit? = nil, maxStreams: Int? = nil
    ) {
        self.maxStreams = maxStreams
        self.name = name
        self.limit = limit
        self.limitReset = limitReset
        self.expiresAt = expiresAt
        self.isManagement = isManagement
        self.rateLimit = rateLimit
    }
}

/// The secret a client sends as `Bearer sk-sr-v1-<64 hex>`. Only its hash is ever stored.
public struct KeySecret: Sendable, CustomStringConvertible {
    public let value: String

    public static let prefix = "sk-sr-v1-"

    public init(_ value: String) { self.value = value }

    /// 32 bytes from the system's cryptographic generator.
    public static func generate() -> KeySecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return KeySecret(prefix + bytes.hexString)
    }

    /// Hex SHA-256 of the secret. A key carries 256 random bits, so a fast hash is enough:
    /// there is nothing to brute-force that a slow one would protect.
    public var hash: String { SHA256.hash(data: Data(value.utf8)).hexString }

    public var label: String {
        let characters = Array(value)
        guard characters.count > Self.prefix.count + 8 else { return Self.prefix + "..." }
        return String(characters.prefix(Self.prefix.count + 4)) + "..." + String(characters.suffix(4))
    }

    /// Never the secret itself, so a key cannot reach a log by interpolation.
    public var description: String { label }

    /// Compares two hashes in time that does not depend on where they differ.
    static func constantTimeEquals(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8), b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension Sequence<UInt8> {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
