import Foundation
public import SpeechCore

/// A model served by upstream providers, with its endpoints in the order they are tried.
public struct UpstreamModel: Sendable {
    public var model: SpeechModel
    /// (provider slug, the model's id at that provider)
    public var endpoints: [(provider: String, model: String)]

    public init(model: SpeechModel, endpoints: [(provider: String, model: String)]) {
        self.model = model
        self.endpoints = endpoints
    }
}

/// The providers configured by environment, and the shipped upstream models.
public enum UpstreamCatalog {
    /// Providers whose credentials are present, keyed by slug. Variables, as users of each
    /// provider's own SDK expect: `OPENAI_API_KEY` (+ `OPENAI_BASE_URL` for any OpenAI-compatible
    /// server), `AZURE_SPEECH_KEY` + `AZURE_SPEECH_REGION` or `AZURE_SPEECH_ENDPOINT`,
    /// `MISTRAL_API_KEY` (+ `MISTRAL_BASE_URL`), `ELEVENLABS_API_KEY` (+ `ELEVENLABS_BASE_URL`),
    /// `GOOGLE_API_KEY` (+ `GOOGLE_BASE_URL`).
    public static func providers(environment: [String: String], client: UpstreamClient) -> [String: any SpeechProvider] {
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        var providers: [String: any SpeechProvider] = [:]
        for kind in ProviderKind.allCases {
            guard let key = value(kind.keyVariable) else { continue }
            if kind == .azure {
                guard value("AZURE_SPEECH_REGION") != nil || value("AZURE_SPEECH_ENDPOINT") != nil else { continue }
                providers[kind.rawValue] = AzureProvider(
                    apiKey: key, region: value("AZURE_SPEECH_REGION"), endpoint: value("AZURE_SPEECH_ENDPOINT"),
                    client: client)
            } else {
                providers[kind.rawValue] = kind.provider(
                    baseURL: kind.baseURLVariable.flatMap(value), apiKey: key, client: client)
            }
        }
        return providers
    }

    /// The upstream APIs a deployment can speak; the raw value is the provider slug.
    public enum ProviderKind: String, Sendable, CaseIterable {
        case openai, azure, mistral, elevenlabs, google

        /// The environment variable of the one-deployment shorthand's key, and of its base URL.
        var keyVariable: String {
            switch self {
            case .openai: "OPENAI_API_KEY"
            case .azure: "AZURE_SPEECH_KEY"
            case .mistral: "MISTRAL_API_KEY"
            case .elevenlabs: "ELEVENLABS_API_KEY"
            case .google: "GOOGLE_API_KEY"
            }
        }

        var baseURLVariable: String? {
            switch self {
            case .openai: "OPENAI_BASE_URL"
            case .azure: nil
            case .mistral: "MISTRAL_BASE_URL"
            case .elevenlabs: "ELEVENLABS_BASE_URL"
            case .google: "GOOGLE_BASE_URL"
            }
        }

        /// An adapter of this kind at `baseURL` (the provider's own when nil; for Azure, the full
        /// endpoint URL, which it needs), named `name` where the adapter takes a name.
        public func provider(baseURL: String?, apiKey: String, client: UpstreamClient, name: String? = nil)
            -> any SpeechProvider
        {
            switch self {
            case .openai: OpenAIProvider(baseURL: baseURL, apiKey: apiKey, client: client, name: name)
            case .azure: AzureProvider(apiKey: apiKey, region: nil, endpoint: baseURL, client: client)
            case .mistral: MistralProvider(baseURL: baseURL, apiKey: apiKey, client: client)
            case .elevenlabs: ElevenLabsProvider(baseURL: baseURL, apiKey: apiKey, client: client)
            case .google: GoogleProvider(baseURL: baseURL, apiKey: apiKey, client: client)
            }
        }
    }

    static let created = 1_776_470_400  // 2026-04-18, when OpenRouter listed its first speech models

    /// The upstream models shipped by default: `Resources/upstream-models.json`, compiled in. A
    /// configuration file can change or add to them.
    public static let defaultModels: [UpstreamModel] = {
        do {
            return try ShippedModel.models(json: PackageResources.upstream_models_json)
        } catch {
            // Compiled in, not read at run time: a file that does not decode is a build mistake,
            // which every test serving a shipped model shows.
            preconditionFailure("Resources/upstream-models.json does not decode: \(error)")
        }
    }()

    /// An entry of `Resources/upstream-models.json`, in the configuration file's names; one
    /// without `voices` speaks OpenAI's.
    private struct ShippedModel: Decodable {
        struct Endpoint: Decodable {
            var provider, model: String
        }

        var id, name, description, pricePerCharacter, defaultVoice: String
        var contextLength: Int
        var voices: [String]?
        var supportsSpeed: Bool
        var endpoints: [Endpoint]

        static func models(json: [UInt8]) throws -> [UpstreamModel] {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode([ShippedModel].self, from: Data(json)).map { shipped in
                UpstreamModel(
                    model: SpeechModel(
                        id: shipped.id, name: shipped.name, description: shipped.description,
                        created: UpstreamCatalog.created, contextLength: shipped.contextLength,
                        pricePerCharacter: shipped.pricePerCharacter,
                        voices: shipped.voices ?? openAIVoiceNames, defaultVoice: shipped.defaultVoice,
                        supportsSpeed: shipped.supportsSpeed),
                    endpoints: shipped.endpoints.map { ($0.provider, $0.model) })
            }
        }
    }
}
