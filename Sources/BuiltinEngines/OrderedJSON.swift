import Foundation

/// A JSON value whose objects keep their keys in the order of the document: hibari's
/// normalize.json lists its symbols in the order they are replaced and its months in calendar
/// order, which a `Dictionary` would lose.
enum OrderedJSON {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([OrderedJSON])
    case object([(key: String, value: OrderedJSON)])

    struct SyntaxError: Error, CustomStringConvertible {
        var offset: Int
        var description: String { "JSON syntax error at byte \(offset)" }
    }

    /// Parses `data`, which must hold one JSON value (and white space around it).
    init(parsing data: Data) throws {
        var reader = Reader(bytes: Array(data))
        self = try reader.value()
        reader.skipSpace()
        guard reader.position == reader.bytes.count else { throw SyntaxError(offset: reader.position) }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var members: [(key: String, value: OrderedJSON)] { if case .object(let value) = self { value } else { [] } }
    var elements: [OrderedJSON] { if case .array(let value) = self { value } else { [] } }
    subscript(key: String) -> OrderedJSON? { members.first { $0.key == key }?.value }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { throw SyntaxError(offset: position) }
            position += 1
        }

        mutating func value() throws -> OrderedJSON {
            skipSpace()
            guard position < bytes.count else { throw SyntaxError(offset: position) }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(key: String, value: OrderedJSON)] = []
                try list(closing: UInt8(ascii: "}")) {
                    let key = try $0.string()
                    try $0.expect(UInt8(ascii: ":"))
                    members.append((key, try $0.value()))
                }
                return .object(members)
            case UInt8(ascii: "["):
                position += 1
                var elements: [OrderedJSON] = []
                try list(closing: UInt8(ascii: "]")) { elements.append(try $0.value()) }
                return .array(elements)
            case UInt8(ascii: "\""):
                return .string(try string())
            default:
                let start = position
                while position < bytes.count, !",]} \n\r\t".utf8.contains(bytes[position]) { position += 1 }
                let word = String(decoding: bytes[start..<position], as: UTF8.self)
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default:
                    guard let number = Double(word) else { throw SyntaxError(offset: start) }
                    return .number(number)
                }
            }
        }

        /// Reads comma-separated items up to `closing`, each with `item`.
        mutating func list(closing: UInt8, _ item: (inout Reader) throws -> Void) throws {
            skipSpace()
            if position < bytes.count, bytes[position] == closing {
                position += 1
                return
            }
            while true {
                try item(&self)
                skipSpace()
                guard position < bytes.count else { throw SyntaxError(offset: position) }
                position += 1
                if bytes[position - 1] == closing { return }
                guard bytes[position - 1] == UInt8(ascii: ",") else { throw SyntaxError(offset: position - 1) }
            }
        }

        /// A string literal, decoded by JSONDecoder (escapes, surrogate pairs) once its end is found.
        mutating func string() throws -> String {
            skipSpace()
            let start = position
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw SyntaxError(offset: position) }
            position += 1
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard position < bytes.count else { throw SyntaxError(offset: start) }
            position += 1
            return try JSONDecoder().decode(String.self, from: Data(bytes[start..<position]))
        }
    }
}
