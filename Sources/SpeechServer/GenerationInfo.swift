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

    /// The fields the gateway has a value for.
    struct Fields: Encodable, Sendable {
        var id: String
        var model: String
        @Nullable var upstreamModel: String?
        var providerName: String
        var providerResponses: [ProviderResponse]
        var apiType = "tts"
        var createdAt: String
        var totalCost: Double
        var usage: Double
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
        @Nullable var finishReason: String?
        @Nullable var nativeFinishReason: String?
        var voice: String
        var responseFormat: String
        var origin = ""
        var isByok = false
        var dataRegion = AccountScope.dataRegion
        @Nullable var workspaceID: String? = AccountScope.workspaceID
        /// The generation whose audio a cache hit replayed; null for a generation that synthesized.
        @Nullable var responseCacheSourceID: String?

        enum CodingKeys: String, CodingKey {
            case id, model, usage, streamed, cancelled, status, latency, voice, origin
            case upstreamModel = "upstream_model"
            case providerName = "provider_name"
            case providerResponses = "provider_responses"
            case apiType = "api_type"
            case createdAt = "created_at"
            case totalCost = "total_cost"
            case tokensPrompt = "tokens_prompt"
            case tokensCompletion = "tokens_completion"
            case nativeTokensPrompt = "native_tokens_prompt"
            case nativeTokensCompletion = "native_tokens_completion"
            case generationTime = "generation_time"
            case finishReason = "finish_reason"
            case nativeFinishReason = "native_finish_reason"
            case responseFormat = "response_format"
            case isByok = "is_byok"
            case dataRegion = "data_region"
            case workspaceID = "workspace_id"
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

    /// OpenRouter's fields about chat, media, search or routing: the gateway has none of them.
    static let unknown = NullFields([
        "upstream_id", "cache_discount", "upstream_inference_cost", "native_tokens_cached", "native_tokens_reasoning",
        "native_tokens_completion_images", "num_media_prompt", "num_media_completion", "num_input_audio_prompt",
        "num_search_results", "num_fetches", "web_search_engine", "moderation_latency", "app_id", "external_user",
        "preset_id", "router", "service_tier", "http_referer", "user_agent",
    ])

    var fields: Fields

    init(_ record: GenerationRecord) { fields = Fields(record) }

    /// Both parts write into one keyed container, so the object is flat.
    func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
        try Self.unknown.encode(to: encoder)
    }
}
