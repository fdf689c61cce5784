import Foundation
public import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat

/// How every JSON body leaves the gateway: one encoder (sorted keys, `/` unescaped) and the
/// `application/json` content type. Routes return `ResponseEncodable` values; `SpeechContext`
/// hands them to this encoder.
public struct JSONResponseEncoder: ResponseEncoder {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try Self.response(value)
    }

    static func response(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }
}

/// OpenRouter's `{"data": …}` around a response's payload.
struct DataEnvelope<Payload: Encodable & Sendable>: ResponseEncodable, Sendable {
    var data: Payload
}

/// An optional that is written as `null` rather than left out: OpenRouter's shapes keep their keys.
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// Fields of an OpenRouter shape that the gateway never has a value for, each written as `null`
/// under its wire name; encoded beside the fields it does have, into the same object.
struct NullFields: Encodable, Sendable {
    private struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let names: [String]

    init(_ names: [String]) { self.names = names }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        for name in names { try container.encodeNil(forKey: Name(stringValue: name)) }
    }
}
