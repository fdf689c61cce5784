import Foundation
public import Providers
import Routing

extension GatewayConfiguration {
    /// One deployment of a model in the configuration file: where a provider serves it and what
    /// routing weighs about it. The key is never in the file, only the environment variable
    /// that holds it.
    ///
    ///     {"provider": "openai", "tag": "openai/box-a", "base_url": "http://10.0.0.5:8880/v1",
    ///      "api_key_env": "BOX_A_KEY", "model": "kokoro", "weight": 3,
    ///      "price_per_character": "0.000001", "max_concurrent_streams": 8, "zdr": true,
    ///      "data_collection": false}
    public struct DeploymentSetting: Sendable, Decodable, Equatable {
        /// The API it speaks: `openai` (any OpenAI-compatible server, another SpeechRouter
        /// too), `azure`, `mistral`, `elevenlabs` or `google`.
        public var provider: String
        /// The slug requests name it by (default: `provider`); unique among the model's deployments.
        public var tag: String?
        /// The name in errors and generation records (OpenAI-compatible deployments only).
        public var name: String?
        public var baseURL: String?
        /// The environment variable that holds its key.
        public var apiKeyEnv: String
        /// The model's id at this deployment.
        public var model: String
        public var weight: Double?
        /// USD per character at this deployment (default: the model's price).
        public var pricePerCharacter: String?
        public var maxConcurrentStreams: Int?
        /// It keeps no request data (Zero Data Retention); default false.
        public var zdr: Bool?
        /// It may store or train on requests; default true, so only a deployment marked
        /// `false` serves a request with `provider.data_collection: "deny"`.
        public var dataCollection: Bool?

        public init(
            provider: String, tag: String? = nil, name: String? = nil, baseURL: String? = nil, apiKeyEnv: String,
            model: String, weight: Double? = nil, pricePerCharacter: String? = nil, maxConcurrentStreams: Int? = nil,
            zdr: Bool? = nil, dataCollection: Bool? = nil
        ) {
            self.provider = provider
            self.tag = tag
            self.name = name
            self.baseURL = baseURL
            self.apiKeyEnv = apiKeyEnv
            self.model = model
            self.weight = weight
            self.pricePerCharacter = pricePerCharacter
            self.maxConcurrentStreams = maxConcurrentStreams
            self.zdr = zdr
            self.dataCollection = dataCollection
        }

        private enum CodingKeys: String, CodingKey {
            case provider, tag, name, model, weight, zdr
            case baseURL = "base_url"
            case apiKeyEnv = "api_key_env"
            case pricePerCharacter = "price_per_character"
            case maxConcurrentStreams = "max_concurrent_streams"
            case dataCollection = "data_collection"
        }

        /// The most deployments one model may list, and the highest weight.
        public static let maximumDeployments = 64
        public static let maximumWeight = 1_000_000.0

        /// `tag`, or the provider kind.
        public var slug: String { (tag ?? provider).lowercased() }

        /// Checks every field; `path` names this deployment in the file (`models.x.deployments[0]`).
        func validate(path: String) throws {
            guard UpstreamCatalog.ProviderKind(rawValue: provider) != nil else {
                let kinds = UpstreamCatalog.ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError("\(path).provider must be one of \(kinds), not \"\(provider.prefix(40))\"")
            }
            let slugCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-._/")
            if let tag {
                guard (1...64).contains(tag.count), tag.lowercased().unicodeScalars.allSatisfy(slugCharacters.contains),
                    !tag.hasPrefix("/"), !tag.hasSuffix("/")
                else {
                    throw ConfigurationError(
                        "\(path).tag must be 1 to 64 letters, digits, '-', '.', '_' or '/', such as \"openai/box-a\"")
                }
            }
            if let baseURL {
                guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                    url.host?.isEmpty == false
                else {
                    throw ConfigurationError("\(path).base_url must be an http:// or https:// URL")
                }
            }
            let variableCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
            guard (1...128).contains(apiKeyEnv.count), apiKeyEnv.unicodeScalars.allSatisfy(variableCharacters.contains),
                !(apiKeyEnv.first?.isNumber ?? true)
            else {
                throw ConfigurationError(
                    "\(path).api_key_env must name an environment variable (letters, digits, '_'), not hold the key itself")
            }
            guard (1...256).contains(model.count) else {
                throw ConfigurationError("\(path).model must be the model's id at the provider (1 to 256 characters)")
            }
            if let weight, !(weight.isFinite && weight > 0 && weight <= Self.maximumWeight) {
                throw ConfigurationError("\(path).weight must be more than 0 and at most \(Int(Self.maximumWeight)), not \(weight)")
            }
            try GatewayConfiguration.checkPrice(pricePerCharacter, "\(path).price_per_character")
            try GatewayConfiguration.checkStreams(maxConcurrentStreams, "\(path).max_concurrent_streams")
        }

        /// The routing view of this deployment of `model`, priced at `modelPrice` unless it has its own.
        func deployment(of model: String, modelPrice: String) -> Deployment {
            Deployment(
                model: model, tag: slug, pricePerCharacter: Double(pricePerCharacter ?? modelPrice) ?? 0,
                weight: weight ?? 1, maxConcurrentStreams: maxConcurrentStreams, zeroDataRetention: zdr ?? false,
                collectsData: dataCollection ?? true)
        }

        /// The adapter for this deployment, its key read from `environment`.
        func makeProvider(
            path: String, environment: [String: String], client: UpstreamClient
        ) throws -> any SpeechProvider {
            guard let kind = UpstreamCatalog.ProviderKind(rawValue: provider) else {
                throw ConfigurationError("\(path).provider \"\(provider.prefix(40))\" is not a provider kind")
            }
            guard let key = environment[apiKeyEnv]?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
                throw ConfigurationError("\(path).api_key_env: the environment variable \(apiKeyEnv) is not set")
            }
            if kind == .azure, baseURL == nil {
                throw ConfigurationError("\(path).base_url is required for azure: its full endpoint URL")
            }
            return kind.provider(baseURL: baseURL, apiKey: key, client: client, name: name)
        }
    }

    /// Every configured deployment's adapter, keyed by `Deployment.id`, its key read from
    /// `environment`: a missing key is an error at start, not at the first request.
    public func deploymentProviders(
        environment: [String: String], client: UpstreamClient
    ) throws -> [String: any SpeechProvider] {
        var providers: [String: any SpeechProvider] = [:]
        for (id, override) in models.sorted(by: { $0.key < $1.key }) {
            for (index, setting) in (override.deployments ?? []).enumerated() {
                let deployment = setting.deployment(of: id, modelPrice: "0")
                providers[deployment.id] = try setting.makeProvider(
                    path: "models.\(id).deployments[\(index)]", environment: environment, client: client)
            }
        }
        return providers
    }
}
