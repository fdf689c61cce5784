import Crypto

/// What a cached audio file is found by: a SHA-256 over every field that changes the audio,
/// each length-prefixed so that no two different field lists hash the same bytes.
public struct SpeechCacheKey: Hashable, Sendable, CustomStringConvertible {
    /// 64 lowercase hex digits; also the entry's file name.
    public let hex: String

    public init(fields: [(name: String, value: String)]) {
        var hasher = SHA256()
        for (name, value) in fields {
            for part in [name, value] {
                let bytes = Array(part.utf8)
                var length = UInt64(bytes.count).littleEndian
                withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
                hasher.update(data: bytes)
            }
        }
        hex = hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
    }

    /// A key read back from a file name: 64 lowercase hex digits, else nil.
    init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        self.hex = hex
    }

    public var description: String { hex }
}
