import Foundation
import Routing
import SpeechCore

/// One way a model is served: the gateway's own engine, or an upstream provider.
struct ModelEndpoint: Sendable {
    /// `SpeechRouter` for a built-in engine, else the provider's name (`OpenAI`, `Azure`, …).
    var providerName: String
    /// `local`, or the provider's slug.
    var tag: String
    /// OpenRouter's `supports_voice_cloning`: whether the provider takes `input_references`.
    var supportsVoiceCloning = false
    /// The upstream deployment, whose health the listing shows; nil for a built-in engine.
    var deployment: Deployment? = nil

    static let builtIn = ModelEndpoint(providerName: "SpeechRouter", tag: "local")
}

/// `GET /models/{author}/{slug}/endpoints`: a model and the endpoints that serve it, in
/// OpenRouter's shape. An upstream deployment's `status` (0 healthy, -1 half-open, -2 open),
/// `breaker`, `uptime_last_30m` (percent of its recent attempts that succeeded) and
/// `latency_last_30m` (median first-byte milliseconds) come from its health; statistics the
/// gateway does not keep (throughput, the other uptime windows) are null.
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
        /// OpenRouter's endpoint status: 0 serving normally, below 0 degraded.
        var status = 0
        /// The deployment's breaker: `closed`, `open` or `half_open`; null for a built-in engine.
        @Nullable var breaker: String? = nil
        @Nullable var uptimeLast5m: Double? = nil
        @Nullable var uptimeLast30m: Double? = nil
        @Nullable var uptimeLast1d: Double? = nil
        @Nullable var latencyLast30m: Double? = nil
        @Nullable var throughputLast30m: Double? = nil

        enum CodingKeys: String, CodingKey {
            case name, pricing, tag, quantization, status, breaker
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

    init(_ model: SpeechModel, endpoints: [ModelEndpoint], health: [String: DeploymentStatus] = [:]) {
        id = model.id
        name = model.name
        created = model.created
        description = model.description
        self.endpoints = endpoints.map { endpoint in
            var listed = Endpoint(
                name: "\(endpoint.providerName) | \(model.id)", modelID: model.id, modelName: model.name,
                contextLength: model.contextLength, pricing: OpenRouterModel.Pricing(prompt: model.pricePerCharacter),
                providerName: endpoint.providerName, tag: endpoint.tag, maxPromptTokens: model.contextLength,
                supportedParameters: model.supportedParameters, supportsVoiceCloning: endpoint.supportsVoiceCloning)
            if let deployment = endpoint.deployment {
                let status = health[deployment.id] ?? DeploymentStatus()
                listed.pricing = OpenRouterModel.Pricing(prompt: Self.decimal(deployment.pricePerCharacter))
                listed.breaker = status.state.rawValue
                listed.status =
                    switch status.state {
                    case .closed: 0
                    case .halfOpen: -1
                    case .open: -2
                    }
                listed.uptimeLast30m = status.uptime.map { ($0 * 10_000).rounded() / 100 }
                listed.latencyLast30m = status.latencyP50.map { ($0 / .milliseconds(1)).rounded() }
            }
            return listed
        }
    }

    /// A price as OpenRouter writes one: a plain decimal string, no exponent.
    static func decimal(_ usd: Double) -> String {
        var text = String(format: "%.12f", usd)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
