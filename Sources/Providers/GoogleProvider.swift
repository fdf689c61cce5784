import AsyncHTTPClient
import Foundation
public import SpeechCore

/// Google Cloud Text-to-Speech `v1/text:synthesize` with an API key: one JSON answer whose
/// `audioContent` is base64 MP3, or LINEAR16 with a WAV header that is parsed off.
public struct GoogleProvider: SpeechProvider, AccountProvider {
    public let slug = "google"
    public let name = "Google"
    public let speedRange: ClosedRange<Double>? = 0.25...4.0
    public let maxInputCharacters = 4_500
    public let passthroughFormats: Set<AudioFormat> = [.mp3]
    static let defaultBaseURL = "https://texttospeech.googleapis.com"
    let account: UpstreamAccount

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        let language = request.voice.split(separator: "-").prefix(2).joined(separator: "-")
        let body = SynthesizeBody(
            input: .init(text: request.input), voice: .init(languageCode: language, name: request.voice),
            audioConfig: .init(audioEncoding: request.format == .mp3 ? "MP3" : "LINEAR16", speakingRate: request.speed))
        let format = request.format
        return try await account.postJSON(
            "/v1/text:synthesize", body: MergedBody(body, options: request.options),
            headers: [("X-Goog-Api-Key", account.apiKey)], provider: name
        ) { _ in
            Base64JSONDecoder(path: ["audioContent"], format: format, pcm: .wav)
        }
    }
}

extension GoogleProvider {
    /// The body of `POST /v1/text:synthesize`; its three fields replace any options of the same names.
    struct SynthesizeBody: Encodable, Sendable {
        struct Input: Encodable, Sendable {
            var text: String
        }

        struct Voice: Encodable, Sendable {
            var languageCode: String
            var name: String
        }

        struct AudioConfig: Encodable, Sendable {
            var audioEncoding: String
            var sampleRateHertz = 24_000
            var speakingRate: Double?
        }

        var input: Input
        var voice: Voice
        var audioConfig: AudioConfig
    }
}
