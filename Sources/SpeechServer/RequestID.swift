import HTTPTypes

/// A request's id, echoed in `X-Request-Id` and written on its log line: the client's own when it
/// sent a sane one (1 to 128 letters, digits and `-_.:`), else a new random one.
struct RequestID: Sendable, Equatable, CustomStringConvertible {
    static let maxLength = 128

    let description: String

    init(header: String?) {
        if let header, Self.isAcceptable(header) {
            description = header
        } else {
            description = Self.generated()
        }
    }

    static func isAcceptable(_ value: String) -> Bool {
        (1...maxLength).contains(value.utf8.count) && value.isASCIIAlphanumeric(orAnyOf: "-_.:")
    }

    /// `req-` and 32 random hexadecimal digits.
    static func generated() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
        return "req-" + digits.joined()
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

extension StringProtocol {
    /// Whether every character is an ASCII letter or digit, or one of `others` (ASCII too).
    func isASCIIAlphanumeric(orAnyOf others: String) -> Bool {
        utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: others.utf8.contains(byte)
            }
        }
    }
}
