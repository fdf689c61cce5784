import Accounts
import Foundation

/// `GET /generation?id=`: one generation in OpenRouter's shape, for speech. Every field the
/// OpenRouter SDK requires is present; those about chat, media, search or routing the gateway
/// does not have are null.
struct GenerationInfo: Encodable, Sendable {
    /// The upstream request behind a generation served by a provider.
    struct ProviderResponse: Encodable, Sendable {
        var providerName: String
        /// The model's id at the provider.
        @Nullable var modelPermaslug: String?
        /// The upstream's HTTP status: 200 once it sent audio, else unknown.
        @Nullable var status: Int?
        /// Milliseconds from the request to the upstream's answer; null when not measured.
        @Nullable var latency: Double? = nil
        /// The deployment's slug (`openai/box-a`).
        @Nullable var endpointID: String? = nil
        var isByok = false

        enum CodingKeys: String, CodingKey {
            case status, latency
            case endpointID = "endpoint_id"
            case providerName = "provider_name"
            case modelPermaslug = "model_permaslug"
            case isByok = "is_byok"
        }
    }

    var id: String
    @Nullable var upstreamID: String? = nil
    var model: String
    @Nullable var upstreamModel: String?
    var providerName: String
    var providerResponses: [ProviderResponse]
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
    @Nullable var nativeTokensCached: Int? = nil
    @Nullable var nativeTokensReasoning: Int? = nil
    @Nullable var nativeTokensCompletionImages: Int? = nil
    @Nullable var numMediaPrompt: Int? = nil
    @Nullable var numMediaCompletion: Int? = nil
    @Nullable var numInputAudioPrompt: Int? = nil
    @Nullable var numSearchResults: Int? = nil
    @Nullable var numFetches: Int? = nil
    @Nullable var webSearchEngine: String? = nil
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
    var dataRegion = AccountScope.dataRegion
    @Nullable var workspaceID: String? = AccountScope.workspaceID
    @Nullable var appID: Int? = nil
    @Nullable var externalUser: String? = nil
    @Nullable var presetID: String? = nil
    @Nullable var router: String? = nil
    @Nullable var serviceTier: String? = nil
    @Nullable var httpReferer: String? = nil
    @Nullable var userAgent: String? = nil
    /// The generation whose audio a cache hit replayed; null for a generation that synthesized.
    @Nullable var responseCacheSourceID: String?

    enum CodingKeys: String, CodingKey {
        case id, model, usage, streamed, cancelled, status, latency, voice, origin, router
        case upstreamID = "upstream_id"
        case upstreamModel = "upstream_model"
        case providerName = "provider_name"
        case providerResponses = "provider_responses"
        case apiType = "api_type"
        case createdAt = "created_at"
        case totalCost = "total_cost"
        case cacheDiscount = "cache_discount"
        case upstreamInferenceCost = "upstream_inference_cost"
        case tokensPrompt = "tokens_prompt"
        case tokensCompletion = "tokens_completion"
        case nativeTokensPrompt = "native_tokens_prompt"
        case nativeTokensCompletion = "native_tokens_completion"
        case nativeTokensCached = "native_tokens_cached"
        case nativeTokensReasoning = "native_tokens_reasoning"
        case nativeTokensCompletionImages = "native_tokens_completion_images"
        case numMediaPrompt = "num_media_prompt"
        case numMediaCompletion = "num_media_completion"
        case numInputAudioPrompt = "num_input_audio_prompt"
        case numSearchResults = "num_search_results"
        case numFetches = "num_fetches"
        case webSearchEngine = "web_search_engine"
        case generationTime = "generation_time"
        case moderationLatency = "moderation_latency"
        case finishReason = "finish_reason"
        case nativeFinishReason = "native_finish_reason"
        case responseFormat = "response_format"
        case isByok = "is_byok"
        case dataRegion = "data_region"
        case workspaceID = "workspace_id"
        case appID = "app_id"
        case externalUser = "external_user"
        case presetID = "preset_id"
        case serviceTier = "service_tier"
        case httpReferer = "http_referer"
        case userAgent = "user_agent"
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
        upstreamModel = record.upstreamModel
        providerName = record.provider
        // A built-in engine makes no upstream request. Each upstream attempt is listed as routing
        // recorded it; a record from before that lists the provider that served it.
        providerResponses =
            !record.providerResponses.isEmpty
            ? record.providerResponses.map {
                ProviderResponse(
                    providerName: $0.providerName, modelPermaslug: $0.model, status: $0.status,
                    latency: Double($0.latencyMilliseconds), endpointID: $0.tag)
            }
            : record.upstreamModel.map {
                [ProviderResponse(
                    providerName: record.provider, modelPermaslug: $0, status: record.firstByteAt == nil ? nil : 200)]
            } ?? []
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
