import Accounts
import AudioPipeline
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SpeechCache
import SpeechCore

/// The speech cache as `POST /audio/speech` uses it: whether a request is cached and under which
/// key (`plan`), and the response of a hit (`respond`).
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

    /// The response of a hit, or of a request that joined a synthesis running already: a
    /// generation of its own at the cache price, naming `source`, streamed from `reader`.
    /// Limits apply as to any generation (402 before a byte); no engine slot is taken.
    static func respond(
        _ reader: CacheReader, source: String, plan: Plan, record: GenerationRecord, framing: StreamFormat,
        format: AudioFormat, ledger: GenerationLedger, end: ResponseEnd, summary: RequestSummary
    ) async throws -> Response {
        var record = record
        record.provider = "cache"
        record.pricePerCharacter = plan.pricePerCharacter
        record.responseCacheSourceID = source
        let lease = try await ledger.begin(record)
        summary.started(lease)
        var reader = reader
        let first: [UInt8]
        do {
            first = try framing.frame(try await reader.next() ?? [])
        } catch {
            await lease.end(SpeechRoutes.status(after: error))
            throw SpeechError.engineFailure("\(error)")
        }
        let headers: HTTPFields = [
            .contentType: framing.contentType(for: format),
            .generationID: record.id,
            .openRouterCacheStatus: "HIT",
            .openRouterCacheTTL: String(plan.ttlSeconds),
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { [reader, record] writer in
            var reader = reader
            var chunk: [UInt8]? = first
            while let bytes = chunk {
                do {
                    if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
                    lease.delivered(characters: 0)
                } catch {
                    await lease.end(.cancelled)
                    throw error
                }
                do {
                    chunk = try await reader.next().map { try framing.frame($0) }
                } catch {
                    await lease.end(SpeechRoutes.status(after: error))
                    throw error
                }
            }
            do {
                let closing = try framing.closing(characters: record.characters)
                if !closing.isEmpty { try await writer.write(ByteBuffer(bytes: closing)) }
                try await writer.finish(nil)
            } catch {
                await lease.end(.cancelled)
                throw error
            }
            await lease.end(await end.kept() ? .completed : .cancelled)
        })
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
