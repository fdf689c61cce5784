import Accounts
import Foundation

/// `GET /generation?id=`: one generation in OpenRouter's shape, for speech.
struct GenerationInfo: Encodable, Sendable {
    var id: String
    @Nullable var upstreamID: String? = nil
    var model: String
    var providerName: String
    var apiType = "tts"
    var createdAt: String
    var totalCost: Double
    var usage: Double
    @Nullable var cacheDiscount: Double? = nil
    @Nullable var upstreamInferenceCost: Double? = nil
    /// Input characters.
    var tokensPrompt: Int
    var tokensCompletion = 0
    /// Characters actually spoken.
    var nativeTokensPrompt: Int
    var nativeTokensCompletion = 0
    var streamed = true
    var cancelled: Bool
    var status: String
    /// Milliseconds to the first audio byte.
    @Nullable var latency: Double?
    /// Milliseconds to the end of the generation.
    @Nullable var generationTime: Double?
    @Nullable var moderationLatency: Double? = nil
    @Nullable var finishReason: String?
    @Nullable var nativeFinishReason: String?
    var voice: String
    var responseFormat: String
    var origin = ""
    var isByok = false
    @Nullable var appID: String? = nil
    @Nullable var externalUser: String? = nil
    /// The generation whose audio a cache hit replayed; null for a generation that synthesized.
    @Nullable var responseCacheSourceID: String?

    enum CodingKeys: String, CodingKey {
        case id, model, usage, streamed, cancelled, status, latency, voice, origin
        case upstreamID = "upstream_id"
        case providerName = "provider_name"
        case apiType = "api_type"
        case createdAt = "created_at"
        case totalCost = "total_cost"
        case cacheDiscount = "cache_discount"
        case upstreamInferenceCost = "upstream_inference_cost"
        case tokensPrompt = "tokens_prompt"
        case tokensCompletion = "tokens_completion"
        case nativeTokensPrompt = "native_tokens_prompt"
        case nativeTokensCompletion = "native_tokens_completion"
        case generationTime = "generation_time"
        case moderationLatency = "moderation_latency"
        case finishReason = "finish_reason"
        case nativeFinishReason = "native_finish_reason"
        case responseFormat = "response_format"
        case isByok = "is_byok"
        case appID = "app_id"
        case externalUser = "external_user"
        case responseCacheSourceID = "response_cache_source_id"
    }

    init(_ record: GenerationRecord) {
        let milliseconds = { (end: Date?) in end.map { ($0.timeIntervalSince(record.startedAt) * 1000).rounded() } }
        let finishReason: String? =
            switch record.status {
            case .completed: "stop"
            case .cancelled: "cancelled"
            case .failed: "error"
            case .running: nil
            }
        id = record.id
        model = record.model
        providerName = record.provider
        createdAt = ISO8601DateFormatter().string(from: record.startedAt)
        totalCost = record.cost.usd
        usage = record.cost.usd
        tokensPrompt = record.characters
        nativeTokensPrompt = record.spokenCharacters
        cancelled = record.status == .cancelled
        status = record.status.rawValue
        latency = milliseconds(record.firstByteAt)
        generationTime = milliseconds(record.finishedAt)
        self.finishReason = finishReason
        nativeFinishReason = finishReason
        voice = record.voice
        responseFormat = record.format
        responseCacheSourceID = record.responseCacheSourceID
    }
}
