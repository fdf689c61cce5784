import SpeechCore

/// One way a model is served: the gateway's own engine, or an upstream provider.
struct ModelEndpoint: Sendable {
    /// `SpeechRouter` for a built-in engine, else the provider's name (`OpenAI`, `Azure`, …).
    var providerName: String
    /// `local`, or the provider's slug.
    var tag: String
    /// OpenRouter's `supports_voice_cloning`: whether the provider takes `input_references`.
    var supportsVoiceCloning = false

    static let builtIn = ModelEndpoint(providerName: "SpeechRouter", tag: "local")
}

/// `GET /models/{author}/{slug}/endpoints`: a model and the endpoints that serve it, in
/// OpenRouter's shape. Statistics the gateway does not keep (uptime, latency, throughput) are null.
struct OpenRouterEndpoints: Encodable, Sendable {
    struct Endpoint: Encodable, Sendable {
        struct ToolChoiceSupport: Encodable, Sendable {
            var auto = false
            var function = false
            var none = false
            var required = false
        }

        struct NativeTool: Encodable, Sendable {
            var type: String
        }

        var name: String
        var modelID: String
        var modelName: String
        var contextLength: Int
        var pricing: OpenRouterModel.Pricing
        var providerName: String
        var tag: String
        @Nullable var quantization: String? = nil
        @Nullable var maxCompletionTokens: Int? = nil
        /// The most input characters one request may carry.
        @Nullable var maxPromptTokens: Int?
        var supportedParameters: [String]
        @Nullable var serviceTier: String? = nil
        var supportsImplicitCaching = false
        var supportsDiarization = false
        var supportsVoiceCloning = false
        var supportsToolChoice = ToolChoiceSupport()
        var nativeTools: [String: NativeTool] = [:]
        @Nullable var uptimeLast5m: Double? = nil
        @Nullable var uptimeLast30m: Double? = nil
        @Nullable var uptimeLast1d: Double? = nil
        @Nullable var latencyLast30m: Double? = nil
        @Nullable var throughputLast30m: Double? = nil

        enum CodingKeys: String, CodingKey {
            case name, pricing, tag, quantization
            case modelID = "model_id"
            case modelName = "model_name"
            case contextLength = "context_length"
            case providerName = "provider_name"
            case maxCompletionTokens = "max_completion_tokens"
            case maxPromptTokens = "max_prompt_tokens"
            case supportedParameters = "supported_parameters"
            case serviceTier = "service_tier"
            case supportsImplicitCaching = "supports_implicit_caching"
            case supportsDiarization = "supports_diarization"
            case supportsVoiceCloning = "supports_voice_cloning"
            case supportsToolChoice = "supports_tool_choice"
            case nativeTools = "native_tools"
            case uptimeLast5m = "uptime_last_5m"
            case uptimeLast30m = "uptime_last_30m"
            case uptimeLast1d = "uptime_last_1d"
            case latencyLast30m = "latency_last_30m"
            case throughputLast30m = "throughput_last_30m"
        }
    }

    var id: String
    var name: String
    var created: Int
    var description: String
    var architecture = OpenRouterModel.Architecture()
    var endpoints: [Endpoint]

    init(_ model: SpeechModel, endpoints: [ModelEndpoint]) {
        id = model.id
        name = model.name
        created = model.created
        description = model.description
        self.endpoints = endpoints.map { endpoint in
            Endpoint(
                name: "\(endpoint.providerName) | \(model.id)", modelID: model.id, modelName: model.name,
                contextLength: model.contextLength, pricing: OpenRouterModel.Pricing(prompt: model.pricePerCharacter),
                providerName: endpoint.providerName, tag: endpoint.tag, maxPromptTokens: model.contextLength,
                supportedParameters: model.supportedParameters, supportsVoiceCloning: endpoint.supportsVoiceCloning)
        }
    }
}
