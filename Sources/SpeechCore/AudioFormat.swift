/// The audio encodings a client can ask for in `response_format`: OpenAI's six.
public enum AudioFormat: String, Sendable, CaseIterable, Codable {
    case mp3
    /// Opus in an Ogg container (RFC 7845), as OpenAI sends it.
    case opus
    /// AAC-LC in ADTS frames.
    case aac
    case flac
    case wav
    case pcm

    /// Every response carries mono audio at this rate, whatever the engine's native rate.
    public static let outputSampleRate = 24_000

    public var contentType: String {
        switch self {
        case .mp3: "audio/mpeg"
        case .opus: "audio/opus"
        case .aac: "audio/aac"
        case .flac: "audio/flac"
        case .wav: "audio/wav"
        case .pcm: "audio/pcm"
        }
    }
}

/// How the audio of a response is framed: `stream_format` in OpenAI's API.
public enum StreamFormat: String, Sendable, CaseIterable, Codable {
    /// The encoded bytes themselves, as the body.
    case audio
    /// Server-sent events whose `speech.audio.delta` events carry the bytes in base64.
    case sse
}
