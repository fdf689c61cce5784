import Accounts
import Foundation
import SpeechCore

/// The `--config` file (JSON): per-model overrides and the default rate limit.
///
///     {"models": {"local/flite": {"price_per_character": "0.000001", "context_length": 4096}},
///      "rate_limit": {"requests": 600, "interval_seconds": 60}}
public struct GatewayConfiguration: Sendable, Decodable, Equatable {
    public struct ModelOverride: Sendable, Decodable, Equatable {
        public var price_per_character: String?
        public var context_length: Int?
    }

    public struct RateLimitSetting: Sendable, Decodable, Equatable {
        public var requests: Int
        public var interval_seconds: Double
    }

    public var models: [String: ModelOverride]
    public var rate_limit: RateLimitSetting?

    public init(models: [String: ModelOverride] = [:], rate_limit: RateLimitSetting? = nil) {
        self.models = models
        self.rate_limit = rate_limit
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        models = try container.decodeIfPresent([String: ModelOverride].self, forKey: .models) ?? [:]
        rate_limit = try container.decodeIfPresent(RateLimitSetting.self, forKey: .rate_limit)
    }

    private enum CodingKeys: String, CodingKey { case models, rate_limit }

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
        return model
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
