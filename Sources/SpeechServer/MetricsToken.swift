/// The bearer token `/metrics` asks for: a secret, so it never shows in a description, a log
/// line or an error message.
public struct MetricsToken: Sendable, Equatable, Decodable, CustomStringConvertible {
    static let lengths = 16...256

    let value: String

    /// Checks `value`: 16 to 256 visible ASCII characters, no spaces.
    public init(_ value: String, name: String) throws(ConfigurationError) {
        guard Self.lengths.contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ConfigurationError(
                "\(name) must be \(Self.lengths.lowerBound) to \(Self.lengths.upperBound) visible ASCII characters without spaces")
        }
        self.value = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
        try self.init(container.decode(String.self), name: path)
    }

    public var description: String { "[redacted]" }

    /// Whether `presented` is the token, compared in time that does not depend on where they differ.
    func matches(_ presented: Substring) -> Bool {
        let expected = Array(value.utf8)
        let given = Array(presented.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in expected.indices { difference |= expected[index] ^ (index < given.count ? given[index] : 0) }
        return difference == 0
    }
}
