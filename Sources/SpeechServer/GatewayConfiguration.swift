public import Accounts
public import Foundation
import Providers
public import Routing
import SpeechCore

/// The `--config` file (JSON): per-model overrides, the default rate limit, upstream timeouts,
/// client connection limits.
///
///     {"models": {"local/flite": {"price_per_character": "0.000001", "context_length": 4096}},
///      "rate_limit": {"requests": 600, "interval_seconds": 60},
///      "upstream_timeouts": {"connect_seconds": 5, "first_byte_seconds": 30},
///      "connections": {"max_open": 512, "header_timeout_seconds": 10, "idle_timeout_seconds": 60,
///                      "write_timeout_seconds": 30},
///      "admission": {"measured": true, "max_streams_per_key": 8},
///      "breaker": {"consecutive_failures": 3, "cooldown_seconds": 5},
///      "metrics": {"enabled": true, "bearer_token": "a-long-random-secret"},
///      "cors": {"allowed_origins": ["https://app.example.com"]},
///      "log_format": "json"}
public struct GatewayConfiguration: Sendable, Decodable, Equatable {
    /// Changes to a shipped model, or (with `endpoints` and `voices`) a model of its own.
    public struct ModelOverride: Sendable, Decodable, Equatable {
        public var pricePerCharacter: String?
        public var contextLength: Int?
        public var endpoints: [Endpoint]?
        /// The places that serve the model, routed among per request (instead of `endpoints`).
        public var deployments: [DeploymentSetting]?
        public var name: String?
        public var description: String?
        public var voices: [String]?
        public var defaultVoice: String?
        public var supportsSpeed: Bool?
        /// For a built-in model: the most streams it serves at once, whatever its measured speed.
        public var maxConcurrentStreams: Int?
        /// With `deployments`: how they are ordered when a request's `provider.sort` does not say
        /// (`balanced`, `least-busy`, `latency` or `ordered`; the file's text, checked at load).
        public var routingStrategyName: String?
        /// `routingStrategyName` as a strategy (nil when absent or unknown; loading refuses unknown).
        public var routingStrategy: RoutingStrategy? { routingStrategyName.flatMap(RoutingStrategy.init(rawValue:)) }

        public init(
            pricePerCharacter: String? = nil, contextLength: Int? = nil, endpoints: [Endpoint]? = nil,
            name: String? = nil, description: String? = nil, voices: [String]? = nil, defaultVoice: String? = nil,
            supportsSpeed: Bool? = nil, maxConcurrentStreams: Int? = nil, deployments: [DeploymentSetting]? = nil
        ) {
            self.deployments = deployments
            self.maxConcurrentStreams = maxConcurrentStreams
            self.pricePerCharacter = pricePerCharacter
            self.contextLength = contextLength
            self.endpoints = endpoints
            self.name = name
            self.description = description
            self.voices = voices
            self.defaultVoice = defaultVoice
            self.supportsSpeed = supportsSpeed
        }

        private enum CodingKeys: String, CodingKey {
            case endpoints, deployments, name, description, voices
            case pricePerCharacter = "price_per_character"
            case contextLength = "context_length"
            case defaultVoice = "default_voice"
            case supportsSpeed = "supports_speed"
            case maxConcurrentStreams = "max_concurrent_streams"
            case routingStrategyName = "routing_strategy"
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
        public var connectSeconds: Double?
        public var firstByteSeconds: Double?

        public init(connectSeconds: Double? = nil, firstByteSeconds: Double? = nil) {
            self.connectSeconds = connectSeconds
            self.firstByteSeconds = firstByteSeconds
        }

        private enum CodingKeys: String, CodingKey {
            case connectSeconds = "connect_seconds"
            case firstByteSeconds = "first_byte_seconds"
        }
    }

    /// Client connection limits (`ConnectionLimits`); an absent one keeps its default.
    public struct ConnectionSettings: Sendable, Decodable, Equatable {
        public var maxOpen: Int?
        public var headerTimeoutSeconds: Double?
        public var idleTimeoutSeconds: Double?
        public var writeTimeoutSeconds: Double?

        public init(
            maxOpen: Int? = nil, headerTimeoutSeconds: Double? = nil, idleTimeoutSeconds: Double? = nil,
            writeTimeoutSeconds: Double? = nil
        ) {
            self.maxOpen = maxOpen
            self.headerTimeoutSeconds = headerTimeoutSeconds
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.writeTimeoutSeconds = writeTimeoutSeconds
        }

        private enum CodingKeys: String, CodingKey {
            case maxOpen = "max_open"
            case headerTimeoutSeconds = "header_timeout_seconds"
            case idleTimeoutSeconds = "idle_timeout_seconds"
            case writeTimeoutSeconds = "write_timeout_seconds"
        }

        /// `limits` with these settings, each range-checked and named in an error by its path in the file.
        func applied(to limits: ConnectionLimits) throws(ConfigurationError) -> ConnectionLimits {
            var limits = limits
            if let maxOpen { limits.maxOpen = try ConnectionLimits.open(maxOpen, name: "connections.max_open") }
            if let seconds = headerTimeoutSeconds {
                limits.headerTimeout = try ConnectionLimits.timeout(seconds: seconds, name: "connections.header_timeout_seconds")
            }
            if let seconds = idleTimeoutSeconds {
                limits.idleTimeout = try ConnectionLimits.timeout(seconds: seconds, name: "connections.idle_timeout_seconds")
            }
            if let seconds = writeTimeoutSeconds {
                limits.writeTimeout = try ConnectionLimits.timeout(seconds: seconds, name: "connections.write_timeout_seconds")
            }
            return limits
        }
    }

    public struct RateLimitSetting: Sendable, Decodable, Equatable {
        public var requests: Int
        public var intervalSeconds: Double

        public init(requests: Int, intervalSeconds: Double) {
            self.requests = requests
            self.intervalSeconds = intervalSeconds
        }

        private enum CodingKeys: String, CodingKey {
            case requests
            case intervalSeconds = "interval_seconds"
        }
    }

    /// Which speech streams are let in: by the built-in engines' measured speed, and per key.
    public struct AdmissionSetting: Sendable, Decodable, Equatable {
        /// Whether a built-in model admits only the streams its measured speed keeps in real
        /// time (default true); `max_concurrent_streams` of a model applies either way.
        public var measured: Bool?
        /// The most speech streams one key may have open at once (default: no limit).
        public var maxStreamsPerKey: Int?

        public init(measured: Bool? = nil, maxStreamsPerKey: Int? = nil) {
            self.measured = measured
            self.maxStreamsPerKey = maxStreamsPerKey
        }

        private enum CodingKeys: String, CodingKey {
            case measured
            case maxStreamsPerKey = "max_streams_per_key"
        }
    }

    /// `GET /metrics`: served by default; with a bearer token, only to requests that present it.
    public struct MetricsSetting: Sendable, Decodable, Equatable {
        public var enabled: Bool?
        public var bearerToken: MetricsToken?

        public init(enabled: Bool? = nil, bearerToken: MetricsToken? = nil) {
            self.enabled = enabled
            self.bearerToken = bearerToken
        }

        private enum CodingKeys: String, CodingKey {
            case enabled
            case bearerToken = "bearer_token"
        }
    }

    /// Browser pages on other origins allowed to call the API (default: none, same origin only).
    public struct CORSSetting: Sendable, Decodable, Equatable {
        public var allowedOrigins: [String]?

        public init(allowedOrigins: [String]? = nil) { self.allowedOrigins = allowedOrigins }

        private enum CodingKeys: String, CodingKey {
            case allowedOrigins = "allowed_origins"
        }
    }

    public var models: [String: ModelOverride]
    public var rateLimit: RateLimitSetting?
    public var upstreamTimeouts: Timeouts?
    /// When an upstream deployment's breaker opens (`BreakerSetting`).
    public var breaker: BreakerSetting?
    public var connections: ConnectionSettings?
    public var admission: AdmissionSetting?
    public var metrics: MetricsSetting?
    public var cors: CORSSetting?
    /// How log lines are written: `text` (default) or `json`, one object per line.
    public var logFormat: LogFormat?
    /// Where Piper's parts are (`scripts/install-piper`'s `.piper/` elsewhere); before
    /// `SPEECHROUTER_PIPER_DIR` and the default places.
    public var piperDirectory: String?
    /// The speech cache (`SpeechCacheSettings`).
    public var cache: SpeechCacheSettings?
    /// The folder of Piper voices `local/piper` serves besides its packaged one (default
    /// `<data dir>/voices`); `serve --voices-dir` comes before it.
    public var voicesDirectory: String?

    public init(
        models: [String: ModelOverride] = [:], rateLimit: RateLimitSetting? = nil, upstreamTimeouts: Timeouts? = nil,
        connections: ConnectionSettings? = nil, admission: AdmissionSetting? = nil, metrics: MetricsSetting? = nil,
        cors: CORSSetting? = nil, logFormat: LogFormat? = nil
    ) {
        self.models = models
        self.metrics = metrics
        self.cors = cors
        self.logFormat = logFormat
        self.admission = admission
        self.rateLimit = rateLimit
        self.upstreamTimeouts = upstreamTimeouts
        self.connections = connections
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        models = try container.decodeIfPresent([String: ModelOverride].self, forKey: .models) ?? [:]
        rateLimit = try container.decodeIfPresent(RateLimitSetting.self, forKey: .rateLimit)
        upstreamTimeouts = try container.decodeIfPresent(Timeouts.self, forKey: .upstreamTimeouts)
        breaker = try container.decodeIfPresent(BreakerSetting.self, forKey: .breaker)
        connections = try container.decodeIfPresent(ConnectionSettings.self, forKey: .connections)
        piperDirectory = try container.decodeIfPresent(String.self, forKey: .piperDirectory)
        voicesDirectory = try container.decodeIfPresent(String.self, forKey: .voicesDirectory)
        if voicesDirectory?.isEmpty == true {
            throw ConfigurationError("voices_directory must name a folder, not be empty")
        }
        admission = try container.decodeIfPresent(AdmissionSetting.self, forKey: .admission)
        metrics = try container.decodeIfPresent(MetricsSetting.self, forKey: .metrics)
        cors = try container.decodeIfPresent(CORSSetting.self, forKey: .cors)
        logFormat = try container.decodeIfPresent(LogFormat.self, forKey: .logFormat)
        cache = try container.decodeIfPresent(SpeechCacheSettings.self, forKey: .cache)
    }

    private enum CodingKeys: String, CodingKey {
        case models
        case rateLimit = "rate_limit"
        case upstreamTimeouts = "upstream_timeouts"
        case connections, breaker
        case piperDirectory = "piper_directory"
        case voicesDirectory = "voices_directory"
        case admission, metrics, cors
        case logFormat = "log_format"
        case cache
    }

    public static func load(path: String) throws -> GatewayConfiguration {
        try parse(Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Decodes and validates a configuration file's contents; a value of the wrong type is
    /// reported by its path in the file, like the range checks of `validate()`.
    public static func parse(_ json: Data) throws -> GatewayConfiguration {
        let configuration: GatewayConfiguration
        do {
            configuration = try JSONDecoder().decode(GatewayConfiguration.self, from: json)
        } catch let error as DecodingError {
            throw ConfigurationError(error)
        }
        try configuration.validate()
        return configuration
    }

    /// The longest upstream timeout accepted; a request's whole upstream exchange is cut at 15 minutes anyway.
    public static let maximumTimeoutSeconds = ConnectionLimits.maximumTimeoutSeconds

    /// The highest price per character accepted: $1, so the full cost of the longest input
    /// (a 1 MiB body) stays far inside the amounts a key's limit is summed in.
    public static let maximumPricePerCharacter = Nanodollars(1_000_000_000)
    /// The longest context length accepted: a longer input could not fit in a request body anyway.
    public static let maximumContextLength = 1 << 20
    /// The most concurrent streams a model or a key may be allowed.
    public static let maximumStreams = KeySettings.maximumStreams

    public func validate() throws {
        for (id, override) in models.sorted(by: { $0.key < $1.key }) {
            try Self.checkPrice(override.pricePerCharacter, "models.\(id).price_per_character")
            try Self.checkDeployments(override, of: id)
            if let length = override.contextLength {
                try ConfigurationError.check(
                    length, in: 1...Self.maximumContextLength, "models.\(id).context_length", unit: "characters")
            }
            try Self.checkStreams(override.maxConcurrentStreams, "models.\(id).max_concurrent_streams")
        }
        try Self.checkStreams(admission?.maxStreamsPerKey, "admission.max_streams_per_key")
        if let limit = rateLimit {
            if let problem = RateLimit.problem(requests: limit.requests) {
                throw ConfigurationError("rate_limit.requests \(problem)")
            }
            if let problem = RateLimit.problem(interval: limit.intervalSeconds) {
                throw ConfigurationError("rate_limit.interval_seconds \(problem)")
            }
        }
        let timeouts = [
            ("connect_seconds", upstreamTimeouts?.connectSeconds), ("first_byte_seconds", upstreamTimeouts?.firstByteSeconds),
        ]
        for case let (name, seconds?) in timeouts {
            _ = try ConnectionLimits.timeout(seconds: seconds, name: "upstream_timeouts.\(name)")
        }
        _ = try connectionLimits
        _ = try healthPolicy
        _ = try crossOriginPolicy
        try cache?.validate()
    }

    /// The origins `cors.allowed_origins` lets in.
    public var crossOriginPolicy: CrossOriginPolicy {
        get throws(ConfigurationError) { try CrossOriginPolicy(allowedOrigins: cors?.allowedOrigins ?? []) }
    }

    /// The default breaker policy with this file's `breaker`.
    public var healthPolicy: HealthPolicy {
        get throws(ConfigurationError) { try breaker?.applied(to: HealthPolicy()) ?? HealthPolicy() }
    }

    /// The default connection limits with this file's `connections`.
    public var connectionLimits: ConnectionLimits {
        get throws(ConfigurationError) { try connections?.applied(to: ConnectionLimits()) ?? ConnectionLimits() }
    }

    static func checkPrice(_ price: String?, _ path: String) throws(ConfigurationError) {
        if let price, !(Nanodollars(usd: price).map { $0 <= Self.maximumPricePerCharacter } ?? false) {
            throw ConfigurationError("\(path): \"\(price)\" is not a USD amount from 0 to 1 in whole billionths")
        }
    }

    private static func checkDeployments(_ override: ModelOverride, of id: String) throws {
        if let name = override.routingStrategyName {
            guard override.deployments != nil else {
                throw ConfigurationError("models.\(id).routing_strategy orders deployments: list them under deployments")
            }
            guard override.routingStrategy != nil else {
                let known = RoutingStrategy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                throw ConfigurationError("models.\(id).routing_strategy must be one of \(known), not \"\(name)\"")
            }
        }
        guard let deployments = override.deployments else { return }
        if override.endpoints != nil {
            throw ConfigurationError("models.\(id) lists both endpoints and deployments: use deployments only")
        }
        guard (1...DeploymentSetting.maximumDeployments).contains(deployments.count) else {
            throw ConfigurationError(
                "models.\(id).deployments must list 1 to \(DeploymentSetting.maximumDeployments) deployments, not \(deployments.count)")
        }
        var slugs: Set<String> = []
        for (index, deployment) in deployments.enumerated() {
            try deployment.validate(path: "models.\(id).deployments[\(index)]")
            guard slugs.insert(deployment.slug).inserted else {
                throw ConfigurationError(
                    "models.\(id).deployments[\(index)]: another deployment is tagged \"\(deployment.slug)\"; give each a distinct tag")
            }
        }
    }

    static func checkStreams(_ streams: Int?, _ path: String) throws(ConfigurationError) {
        if let streams { try ConfigurationError.check(streams, in: 1...maximumStreams, path, unit: "streams") }
    }

    public var defaultRateLimit: RateLimit? {
        rateLimit.map { RateLimit(requests: $0.requests, interval: $0.intervalSeconds) }
    }

    func apply(to model: SpeechModel) -> SpeechModel {
        guard let override = models[model.id] else { return model }
        var model = model
        if let price = override.pricePerCharacter { model.pricePerCharacter = price }
        if let length = override.contextLength { model.contextLength = length }
        if let name = override.name { model.name = name }
        if let description = override.description { model.description = description }
        if let voices = override.voices, !voices.isEmpty { model.voices = voices }
        if let voice = override.defaultVoice { model.defaultVoice = voice }
        if let speed = override.supportsSpeed { model.supportsSpeed = speed }
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
            guard override.endpoints != nil || override.deployments != nil, let voices = override.voices, !voices.isEmpty
            else { continue }
            let endpoints = override.endpoints ?? []
            let model = SpeechModel(
                id: id, name: override.name ?? id, description: override.description ?? "", created: 0,
                contextLength: override.contextLength ?? 4_096, pricePerCharacter: override.pricePerCharacter ?? "0",
                voices: voices, defaultVoice: override.defaultVoice ?? voices[0],
                supportsSpeed: override.supportsSpeed ?? true)
            result.append(UpstreamModel(model: model, endpoints: endpoints.map { ($0.provider, $0.model) }))
        }
        return result
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }

    /// Throws "`path` must be from `range`'s bounds (in `unit`), not `value`" unless `range` holds `value`.
    static func check<Value: Comparable>(
        _ value: Value, in range: ClosedRange<Value>, _ path: String, unit: String? = nil
    ) throws(ConfigurationError) {
        guard range.contains(value) else {
            let bounds = "from \(range.lowerBound) to \(range.upperBound)" + (unit.map { " \($0)" } ?? "")
            throw ConfigurationError("\(path) must be \(bounds), not \(value)")
        }
    }

    /// Names the offending value by its path in the file (`rate_limit.requests`), not by Swift's names.
    init(_ error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "the file" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let expected: String? =
                switch type {
                case is String.Type: "a string"
                case is Int.Type: "a whole number"
                case is Double.Type: "a number"
                case is Bool.Type: "true or false"
                default: nil
                }
            self.init(
                expected.map { "\(path(context.codingPath)) must be \($0)" }
                    ?? "\(path(context.codingPath)) is of the wrong type: \(context.debugDescription)")
        case .keyNotFound(let key, let context):
            self.init("\(path(context.codingPath + [key])) is required")
        case .dataCorrupted(let context):
            self.init("\(path(context.codingPath)): \(context.debugDescription)")
        @unknown default:
            self.init("\(error)")
        }
    }
}
