public import Foundation
import JSONValue
public import Logging

/// A swift-log handler that writes one JSON object per line to standard output, for log
/// shippers: `time` (ISO 8601, UTC), `level`, `label`, `message`, then the metadata, whose
/// numbers stay numbers (a request line's `status`, `duration_ms`, `characters`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (Data) -> Void

    /// The fields every line has; metadata of the same names does not replace them.
    static let reservedKeys: Set<String> = ["time", "level", "label", "message"]

    public init(label: String) {
        self.init(label: label) { line in try? FileHandle.standardOutput.write(contentsOf: line) }
    }

    /// A handler that gives each line, newline included, to `write` (tests keep them).
    public init(label: String, write: @escaping @Sendable (Data) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: JSONValue] = [
            "time": .string(Date().formatted(Self.timeFormat)), "level": .string(event.level.rawValue),
            "label": .string(label), "message": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        where !Self.reservedKeys.contains(key) {
            object[key] = Self.json(value)
        }
        if let error = event.error { object["error"] = .string("\(error)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(object) else { return }
        line.append(UInt8(ascii: "\n"))
        write(line)
    }

    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: .number(Double(number))
            case let number as Double where number.isFinite: .number(number)
            case let flag as Bool: .bool(flag)
            default: .string(convertible.description)
            }
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}
