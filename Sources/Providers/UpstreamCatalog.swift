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

    /// The upstream models shipped by default; a configuration file can change or add to them.
    public static let defaultModels: [UpstreamModel] = [
        UpstreamModel(
            model: SpeechModel(
                id: "openai/gpt-4o-mini-tts-2025-12-15", name: "OpenAI: GPT-4o Mini TTS",
                description: "OpenAI's cost-efficient text-to-speech model, steerable with instructions.",
                created: created, contextLength: 4_096, pricePerCharacter: "0.0000006", voices: openAIVoiceNames,
                defaultVoice: "alloy", supportsSpeed: true),
            endpoints: [("openai", "gpt-4o-mini-tts-2025-12-15")]),
        UpstreamModel(
            model: SpeechModel(
                id: "microsoft/mai-voice-2", name: "Microsoft: MAI-Voice-2",
                description: "Microsoft's MAI-Voice-2 through Azure AI Speech; expressive styles via provider.options.azure.",
                created: created, contextLength: 5_000, pricePerCharacter: "0.000022",
                voices: [
                    "en-US-Harper:MAI-Voice-2", "en-US-Ethan:MAI-Voice-2", "en-US-Olivia:MAI-Voice-2",
                    "en-US-Grant:MAI-Voice-2", "en-US-Iris:MAI-Voice-2", "en-US-Jasper:MAI-Voice-2",
                    "en-AU-Lisa:MAI-Voice-2", "de-DE-Klaus:MAI-Voice-2", "de-DE-Mia:MAI-Voice-2",
                    "es-MX-Valeria:MAI-Voice-2", "fr-FR-Soleil:MAI-Voice-2", "fr-FR-Marc:MAI-Voice-2",
                ],
                defaultVoice: "en-US-Harper:MAI-Voice-2", supportsSpeed: true),
            endpoints: [("azure", "mai-voice-2")]),
        UpstreamModel(
            model: SpeechModel(
                id: "mistralai/voxtral-mini-tts-2603", name: "Mistral: Voxtral Mini TTS",
                description: "Mistral's Voxtral text-to-speech, streamed. Speed is not supported and is ignored.",
                created: created, contextLength: 4_000, pricePerCharacter: "0.000016",
                voices: [
                    "en_paul_neutral", "en_paul_happy", "en_paul_cheerful", "en_paul_excited", "en_paul_confident",
                    "en_paul_sad", "gb_jane_neutral", "gb_jane_confident", "gb_jane_curious", "gb_oliver_neutral",
                    "gb_oliver_cheerful", "gb_oliver_excited", "fr_marie_neutral",
                ],
                defaultVoice: "en_paul_neutral", supportsSpeed: false),
            endpoints: [("mistral", "voxtral-mini-tts-2603")]),
        UpstreamModel(
            model: SpeechModel(
                id: "elevenlabs/eleven-multilingual-v2", name: "ElevenLabs: Multilingual v2",
                description: "ElevenLabs' multilingual voices; speed 0.7–1.2 (clamped).",
                created: created, contextLength: 10_000, pricePerCharacter: "0.00003",
                voices: [
                    "21m00Tcm4TlvDq8ikWAM", "EXAVITQu4vr4xnSDxMaL", "ErXwobaYiN019PkySvjV", "TxGEqnHWrfWFTfGW9XjX",
                    "pNInz6obpgDQGcFmaJgB", "JBFqnCBsd6RMkjVDRZzb",
                ],
                defaultVoice: "21m00Tcm4TlvDq8ikWAM", supportsSpeed: true),
            endpoints: [("elevenlabs", "eleven_multilingual_v2")]),
        UpstreamModel(
            model: SpeechModel(
                id: "google/cloud-tts-neural2", name: "Google: Cloud Text-to-Speech Neural2",
                description: "Google Cloud Text-to-Speech Neural2 voices.",
                created: created, contextLength: 4_500, pricePerCharacter: "0.000016",
                voices: [
                    "en-US-Neural2-A", "en-US-Neural2-C", "en-US-Neural2-D", "en-US-Neural2-F", "en-GB-Neural2-A",
                    "en-GB-Neural2-B", "de-DE-Neural2-A", "fr-FR-Neural2-A", "es-ES-Neural2-A",
                ],
                defaultVoice: "en-US-Neural2-F", supportsSpeed: true),
            endpoints: [("google", "neural2")]),
    ]
}
