import Accounts
import AudioPipeline
import Foundation
import HTTPTypes
import SpeechCache
import SpeechCore

/// The speech cache as `POST /audio/speech` uses it: whether a request is cached and under which
/// key (`plan`), and what a hit's generation records (`hitRecord`).
struct SpeechCaching: Sendable {
    let store: SpeechCacheStore
    let settings: SpeechCacheSettings

    /// How one request is cached.
    struct Plan: Sendable {
        var key: SpeechCacheKey
        var ttlSeconds: Int
        /// What a hit costs per character.
        var pricePerCharacter: Nanodollars
    }

    /// The plan for a request, or nil when it is not cached: `X-OpenRouter-Cache: true` turns
    /// caching on (`false` off), else a `keys` or `models` rule of the configuration with a TTL
    /// does. The TTL is `X-OpenRouter-Cache-TTL`'s, else the key's rule's, else the model's, else 300 s.
    func plan(
        headers: HTTPFields, speech: ResolvedSpeech, keyHash: String, deployment: String
    ) throws(SpeechError) -> Plan? {
        let keyRule = settings.keys?[keyHash]
        let modelRule = settings.models?[speech.model.id]
        let configuredTTL = keyRule?.ttlSeconds ?? modelRule?.ttlSeconds
        let enabled: Bool
        switch headers[.openRouterCache]?.lowercased() {
        case nil: enabled = configuredTTL != nil
        case "true", "1": enabled = true
        case "false", "0": enabled = false
        case let other?:
            throw .invalidField(name: "X-OpenRouter-Cache", reason: "must be true or false, got '\(other)'")
        }
        var ttl = configuredTTL ?? SpeechCacheSettings.defaultTTL
        if let text = headers[.openRouterCacheTTL] {
            guard let seconds = Int(text), SpeechCacheSettings.ttlRange.contains(seconds) else {
                throw .invalidField(
                    name: "X-OpenRouter-Cache-TTL", reason: "must be a whole number of seconds from 1 to 86400, got '\(text)'")
            }
            ttl = seconds
        }
        guard enabled else { return nil }
        let request = speech.request
        let options = (try? JSONEncoder.sorted.encode(request.providerOptions)).map { String(decoding: $0, as: UTF8.self) }
        let key = SpeechCacheKey(fields: [
            ("scope", settings.shared == true ? "shared" : "key:\(keyHash)"),
            ("model", speech.model.id),
            ("deployment", deployment),
            ("voice", speech.voice),
            // A voice file replaced under the same name (and reloaded) speaks differently.
            ("voice_identity", speech.model.roster?.identity(of: speech.voice) ?? ""),
            ("input", request.input),
            ("response_format", request.responseFormat.rawValue),
            ("speed", "\(request.speed)"),
            ("instructions", request.instructions ?? ""),
            ("provider_options", options ?? ""),
        ])
        let price = modelRule?.pricePerCharacter.flatMap { Nanodollars(usd: $0) } ?? .zero
        return Plan(key: key, ttlSeconds: ttl, pricePerCharacter: price)
    }

    /// The record of a hit, or of a request that joined a synthesis running already: a
    /// generation of its own at the cache price, naming the generation `source` that made the audio.
    static func hitRecord(_ record: GenerationRecord, source: String, plan: Plan) -> GenerationRecord {
        var record = record
        record.provider = "cache"
        record.pricePerCharacter = plan.pricePerCharacter
        record.responseCacheSourceID = source
        return record
    }

    /// The response headers of a cached request: `HIT` or `MISS`, and the TTL.
    static func headers(status: String, plan: Plan) -> HTTPFields {
        [.openRouterCacheStatus: status, .openRouterCacheTTL: String(plan.ttlSeconds)]
    }
}

/// Cached audio as a response's source: the reader's chunks, then, at their end, the whole
/// input counted as spoken (a hit says so in SSE's closing usage, as a miss does).
struct CacheReplay: AsyncIteratorProtocol, Sendable {
    private var reader: CacheReader
    let progress: SpeechProgress
    /// The input's characters, counted once the audio has ended.
    private(set) var characters: Int

    init(reader: CacheReader, progress: SpeechProgress, characters: Int) {
        self.reader = reader
        self.progress = progress
        self.characters = characters
    }

    mutating func next() async throws -> [UInt8]? {
        let chunk: [UInt8]?
        do {
            chunk = try await reader.next()
        } catch let error as SpeechCacheError {
            throw SpeechError.engineFailure("\(error)")
        }
        if chunk == nil {
            progress.add(characters)
            characters = 0
        }
        return chunk
    }
}

extension JSONEncoder {
    /// Object keys in order, so equal values encode to equal bytes.
    fileprivate static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension HTTPField.Name {
    /// OpenRouter's response-caching headers: `X-OpenRouter-Cache` and `-TTL` in a request,
    /// `-Status` (HIT or MISS) and `-TTL` in its response.
    static let openRouterCache = Self("X-OpenRouter-Cache")!
    static let openRouterCacheTTL = Self("X-OpenRouter-Cache-TTL")!
    static let openRouterCacheStatus = Self("X-OpenRouter-Cache-Status")!
}
