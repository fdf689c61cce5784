public import Foundation

/// The configuration file's `cache` object: where the speech cache lives, how big it may grow,
/// whether keys share entries, and which models and keys are cached without asking (with the
/// TTL they get) and what a hit costs.
///
///     "cache": {"directory": "/var/cache/speechrouter", "max_bytes": 1073741824, "shared": false,
///               "models": {"local/piper": {"ttl_seconds": 3600, "price_per_character": "0"}},
///               "keys": {"<key hash>": {"ttl_seconds": 600}}}
public struct SpeechCacheSettings: Sendable, Decodable, Equatable {
    public struct Rule: Sendable, Decodable, Equatable {
        /// Cache every request of this model or key for this many seconds (1-86400).
        public var ttlSeconds: Int?
        /// For a model: what a hit costs per character (default "0", as OpenRouter bills hits).
        public var pricePerCharacter: String?

        public init(ttlSeconds: Int? = nil, pricePerCharacter: String? = nil) {
            self.ttlSeconds = ttlSeconds
            self.pricePerCharacter = pricePerCharacter
        }

        private enum CodingKeys: String, CodingKey {
            case ttlSeconds = "ttl_seconds"
            case pricePerCharacter = "price_per_character"
        }
    }

    /// Default: `cache` under the data directory.
    public var directory: String?
    /// Default: 1 GiB.
    public var maxBytes: Int?
    /// Whether every key shares entries (default false: a key hits only what it made itself).
    public var shared: Bool?
    public var models: [String: Rule]?
    public var keys: [String: Rule]?

    public static let defaultMaxBytes = 1 << 30
    /// OpenRouter's TTL range and default, in seconds.
    public static let ttlRange = 1...86_400
    public static let defaultTTL = 300

    public init(
        directory: String? = nil, maxBytes: Int? = nil, shared: Bool? = nil, models: [String: Rule]? = nil,
        keys: [String: Rule]? = nil
    ) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.shared = shared
        self.models = models
        self.keys = keys
    }

    private enum CodingKeys: String, CodingKey {
        case directory, shared, models, keys
        case maxBytes = "max_bytes"
    }

    func validate() throws(ConfigurationError) {
        if let maxBytes {
            try ConfigurationError.check(maxBytes, in: 1_024...(1 << 40), "cache.max_bytes", unit: "bytes")
        }
        for (group, rules) in [("models", models ?? [:]), ("keys", keys ?? [:])] {
            for (name, rule) in rules.sorted(by: { $0.key < $1.key }) {
                let path = "cache.\(group).\(name)"
                if let ttl = rule.ttlSeconds { try ConfigurationError.check(ttl, in: Self.ttlRange, "\(path).ttl_seconds") }
                try GatewayConfiguration.checkPrice(rule.pricePerCharacter, "\(path).price_per_character")
            }
        }
    }

    /// The cache directory: the configured one, else `cache` in `dataDirectory`.
    public func directory(dataDirectory: String) -> URL {
        URL(fileURLWithPath: directory ?? (dataDirectory as NSString).appendingPathComponent("cache"))
    }
}
