import Crypto
import Foundation

/// A key as stored: never the secret, only its SHA-256.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Date
    public var disabled: Bool
    /// Spending limit in USD; nil for none.
    public var limit: Double?

    public init(id: String, name: String, createdAt: Date, disabled: Bool = false, limit: Double? = nil) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.disabled = disabled
        self.limit = limit
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

    /// The short, non-secret form used to label a key (`sk-sr-v1-ab12...9f3e`).
    public var label: String {
        let characters = Array(value)
        guard characters.count > Self.prefix.count + 8 else { return "sk-sr-v1-..." }
        return String(characters.prefix(Self.prefix.count + 4)) + "..." + String(characters.suffix(4))
    }

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
