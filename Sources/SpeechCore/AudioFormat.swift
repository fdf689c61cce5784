/// The audio encodings a client can ask for in `response_format`.
public enum AudioFormat: String, Sendable, CaseIterable, Codable {
    case mp3
    case pcm
    case wav

    /// Every response carries mono audio at this rate, whatever the engine's native rate.
    public static let outputSampleRate = 24_000

    public var contentType: String {
        switch self {
        case .mp3: "audio/mpeg"
        case .pcm: "audio/pcm"
        case .wav: "audio/wav"
        }
    }
}
