import Foundation
import SpeechCore

/// An upstream request body: the typed fields the adapter sets, then each of the client's
/// `provider.options` that the typed body did not write. A field the adapter leaves nil (an
/// optional it encodes only when present) can therefore come from the options.
struct MergedBody<Body: Encodable & Sendable>: Encodable, Sendable {
    var body: Body
    var options: [String: JSONValue]

    init(_ body: Body, options: [String: JSONValue]) {
        self.body = body
        self.options = options
    }

    func encode(to encoder: any Encoder) throws {
        let recorder = KeyRecordingEncoder(encoder)
        try body.encode(to: recorder)
        var container = encoder.container(keyedBy: OptionKey.self)
        for (key, value) in options where !recorder.written.keys.contains(key) {
            try container.encode(value, forKey: OptionKey(key))
        }
    }
}

private struct OptionKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ stringValue: String) { self.stringValue = stringValue }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Passes everything through to `base`, noting the top-level keys written.
private struct KeyRecordingEncoder: Encoder {
    final class Written {
        var keys: Set<String> = []
    }

    let base: any Encoder
    let written = Written()

    init(_ base: any Encoder) { self.base = base }

    var codingPath: [any CodingKey] { base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Container(base: base.container(keyedBy: type), written: written))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { base.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { base.singleValueContainer() }

    struct Container<Key: CodingKey>: KeyedEncodingContainerProtocol {
        var base: KeyedEncodingContainer<Key>
        let written: Written

        var codingPath: [any CodingKey] { base.codingPath }

        mutating func encodeNil(forKey key: Key) throws {
            written.keys.insert(key.stringValue)
            try base.encodeNil(forKey: key)
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            written.keys.insert(key.stringValue)
            try base.encode(value, forKey: key)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            written.keys.insert(key.stringValue)
            return base.nestedContainer(keyedBy: keyType, forKey: key)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            written.keys.insert(key.stringValue)
            return base.nestedUnkeyedContainer(forKey: key)
        }

        mutating func superEncoder() -> any Encoder { base.superEncoder() }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            written.keys.insert(key.stringValue)
            return base.superEncoder(forKey: key)
        }
    }
}
