import Accounts

/// One item of `GET /generations`: a generation in `GET /generation`'s shape, plus the hash of
/// the key that made it (the management key sees every key's generations).
struct RecentGeneration: Encodable, Sendable {
    var generation: GenerationInfo
    var keyHash: String

    enum CodingKeys: String, CodingKey {
        case keyHash = "key_hash"
    }

    init(_ record: GenerationRecord) {
        generation = GenerationInfo(record)
        keyHash = record.keyHash
    }

    func encode(to encoder: any Encoder) throws {
        try generation.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyHash, forKey: .keyHash)
    }
}
