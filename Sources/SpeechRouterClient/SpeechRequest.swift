// Requests and errors carry JSON values; a client needs no second import to build them.
@_exported public import JSONValue

/// The body of `POST /audio/speech`, as OpenRouter's `SpeechRequest`.
public struct SpeechRequest: Sendable, Hashable, Encodable {
    public var model: String
    public var input: String
    /// Omitted: the model's default voice.
    public var voice: String?
    public var responseFormat: ResponseFormat
    /// Omitted: 1.0. Models that cannot change speed ignore it.
    public var speed: Double?
    /// `provider.options`, keyed by provider slug (`["openai": ["instructions": "Speak warmly."]]`).
    /// Only the options of the provider that serves the request are used.
    public var providerOptions: [String: JSONValue]

    public init(
        model: String, input: String, voice: String? = nil, responseFormat: ResponseFormat = .pcm,
        speed: Double? = nil, providerOptions: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.input = input
        self.voice = voice
        self.responseFormat = responseFormat
        self.speed = speed
        self.providerOptions = providerOptions
    }

    private enum CodingKeys: String, CodingKey {
        case model, input, voice, speed, provider
        case responseFormat = "response_format"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(input, forKey: .input)
        try container.encodeIfPresent(voice, forKey: .voice)
        // Always sent, as @openrouter/sdk does: the server's default (pcm) is rarely what a caller wants to save.
        try container.encode(responseFormat, forKey: .responseFormat)
        try container.encodeIfPresent(speed, forKey: .speed)
        if !providerOptions.isEmpty {
            try container.encode(["options": providerOptions], forKey: .provider)
        }
    }
}

/// An audio encoding. Open like OpenRouter's: a server may accept more than these.
public struct ResponseFormat: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// MPEG audio (`audio/mpeg`).
    public static let mp3: ResponseFormat = "mp3"
    /// Headerless signed 16-bit little-endian mono samples; 24 kHz on SpeechRouter.
    public static let pcm: ResponseFormat = "pcm"
    /// The same samples as `pcm` behind a RIFF header.
    public static let wav: ResponseFormat = "wav"
    /// Opus in an Ogg container (`audio/opus`).
    public static let opus: ResponseFormat = "opus"
    /// AAC-LC in ADTS frames (`audio/aac`).
    public static let aac: ResponseFormat = "aac"
    /// Lossless FLAC (`audio/flac`).
    public static let flac: ResponseFormat = "flac"
}
