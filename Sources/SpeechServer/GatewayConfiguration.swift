import Accounts
import Foundation
import Providers
import SpeechCore

/// The `--config` file (JSON): per-model overrides and the default rate limit.
///
///     {"models": {"local/flite": {"price_per_character": "0.000001", "context_length": 4096}},
///      "rate_limit": {"requests": 600, "interval_seconds": 60}}
public struct GatewayConfiguration: Sendable, Decodable, Equatable {
    /// Changes to a shipped model, or (with `endpoints` and `voices`) a model of its own.
    public struct ModelOverride: Sendable, Decodable, Equatable {
        public var price_per_character: String?
        public var context_length: Int?
        public var endpoints: [Endpoint]?
        public var name: String?
        public var description: String?
        public var voices: [String]?
        public var default_voice: String?
        public var supports_speed: Bool?

        public init(
            price_per_character: String? = nil, context_length: Int? = nil, endpoints: [Endpoint]? = nil,
            name: String? = nil, description: String? = nil, voices: [String]? = nil, default_voice: String? = nil,
            supports_speed: Bool? = nil
        ) {
            self.price_per_character = price_per_character
            self.context_length = context_length
            self.endpoints = endpoints
            self.name = name
            self.description = description
            self.voices = voices
            self.default_voice = default_voice
            self.supports_speed = supports_speed
        }
    }

    /// One way to reach a model: a provider slug and the model's id there, tried in order.
    public struct Endpoint: Sendable, Decodable, Equatable {
        public var provider: String
        public var model: String

        public init(provider: String, model: String) {
            self.provider = provider
            self.model = model
        }
    }

    /// Upstream timeouts in seconds.
    public struct Timeouts: Sendable, Decodable, Equatable {
        public var connect_seconds: Double?
        public var first_byte_seconds: Double?
    }

    public struct RateLimitSetting: Sendable, Decodable, Equatable {
        public var requests: Int
        public var interval_seconds: Double
    }

    public var models: [String: ModelOverride]
    public var rate_limit: RateLimitSetting?
    public var upstream_timeouts: Timeouts?
    /// Where Piper's parts are (`scripts/install-piper`'s `.piper/` elsewhere); before
    /// `SPEECHROUTER_PIPER_DIR` and the default places.
    public var piper_directory: String?

    public init(models: [String: ModelOverride] = [:], rate_limit: RateLimitSetting? = nil, upstream_timeouts: Timeouts? = nil) {
        self.models = models
        self.rate_limit = rate_limit
        self.upstream_timeouts = upstream_timeouts
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        models = try container.decodeIfPresent([String: ModelOverride].self, forKey: .models) ?? [:]
        rate_limit = try container.decodeIfPresent(RateLimitSetting.self, forKey: .rate_limit)
        upstream_timeouts = try container.decodeIfPresent(Timeouts.self, forKey: .upstream_timeouts)
        piper_directory = try container.decodeIfPresent(String.self, forKey: .piper_directory)
    }

    private enum CodingKeys: String, CodingKey { case models, rate_limit, upstream_timeouts, piper_directory }

    public static func load(path: String) throws -> GatewayConfiguration {
        let configuration = try JSONDecoder().decode(
            GatewayConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        try configuration.validate()
        return configuration
    }

    public func validate() throws {
        for (id, override) in models {
            if let price = override.price_per_character, Nanodollars(usd: price) == nil {
                throw ConfigurationError("models.\(id).price_per_character: \"\(price)\" is not a USD amount in whole billionths")
            }
            if let length = override.context_length, length <= 0 {
                throw ConfigurationError("models.\(id).context_length must be positive")
            }
        }
        if let limit = rate_limit, limit.requests <= 0 || limit.interval_seconds <= 0 {
            throw ConfigurationError("rate_limit.requests and rate_limit.interval_seconds must be positive")
        }
    }

    public var defaultRateLimit: RateLimit? {
        rate_limit.map { RateLimit(requests: $0.requests, interval: $0.interval_seconds) }
    }

    func apply(to model: SpeechModel) -> SpeechModel {
        guard let override = models[model.id] else { return model }
        var model = model
        if let price = override.price_per_character { model.pricePerCharacter = price }
        if let length = override.context_length { model.contextLength = length }
        if let name = override.name { model.name = name }
        if let description = override.description { model.description = description }
        if let voices = override.voices, !voices.isEmpty { model.voices = voices }
        if let voice = override.default_voice { model.defaultVoice = voice }
        if let speed = override.supports_speed { model.supportsSpeed = speed }
        return model
    }

    /// The shipped upstream models with this file's changes, plus the models it defines.
    func upstreamModels(defaults: [UpstreamModel]) -> [UpstreamModel] {
        var result = defaults.map { shipped -> UpstreamModel in
            var changed = UpstreamModel(model: apply(to: shipped.model), endpoints: shipped.endpoints)
            if let endpoints = models[shipped.model.id]?.endpoints {
                changed.endpoints = endpoints.map { ($0.provider, $0.model) }
            }
            return changed
        }
        let shippedIDs = Set(defaults.map(\.model.id))
        for (id, override) in models.sorted(by: { $0.key < $1.key }) where !shippedIDs.contains(id) {
            guard let endpoints = override.endpoints, let voices = override.voices, !voices.isEmpty else { continue }
            let model = SpeechModel(
                id: id, name: override.name ?? id, description: override.description ?? "", created: 0,
                contextLength: override.context_length ?? 4_096, pricePerCharacter: override.price_per_character ?? "0",
                voices: voices, defaultVoice: override.default_voice ?? voices[0],
                supportsSpeed: override.supports_speed ?? true)
            result.append(UpstreamModel(model: model, endpoints: endpoints.map { ($0.provider, $0.model) }))
        }
        return result
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
