import AsyncHTTPClient
import Foundation
public import SpeechCore
import NIOHTTP1

/// OpenAI's `/v1/audio/speech`, and any server that speaks it (Kokoro-FastAPI, LocalAI,
/// openedai-speech): JSON in, raw audio bytes out. The pcm rate is read from the answer's
/// `Content-Type` (`audio/pcm;rate=22050` from openedai's tts-1), 24 kHz when it says none.
public struct OpenAIProvider: SpeechProvider {
    public let slug = "openai"
    public let name: String
    public let speedRange: ClosedRange<Double>? = 0.25...4.0
    public let maxInputCharacters = 4_096
    /// OpenAI makes all six; wav and pcm are still decoded, to be 24 kHz mono whatever the server.
    public let passthroughFormats: Set<AudioFormat> = [.mp3, .opus, .aac, .flac]
    let account: UpstreamAccount

    public init(baseURL: String = "https://api.openai.com/v1", apiKey: String, client: UpstreamClient, name: String = "OpenAI") {
        account = UpstreamAccount(baseURL: baseURL, apiKey: apiKey, client: client)
        self.name = name
    }

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        // The options' own `instructions` win over the request's.
        let body = SpeechBody(
            model: request.model, input: request.input, voice: request.voice, responseFormat: request.format.rawValue,
            speed: request.speed, instructions: request.options["instructions"] == nil ? request.instructions : nil)
        let format = request.format
        return try await account.postJSON(
            "/audio/speech", body: MergedBody(body, options: request.options),
            headers: [("Authorization", "Bearer \(account.apiKey)"), ("Accept", "application/octet-stream")],
            provider: name
        ) { response in
            switch format {
            case .mp3, .opus, .aac, .flac: return EncodedPassthrough()
            case .pcm: return PCM16Decoder(rate: pcmRate(contentType: response.headers.first(name: "content-type")))
            }
        }
    }
}

/// The `rate=` parameter of an `audio/pcm` content type, else OpenAI's 24 kHz.
func pcmRate(contentType: String?) -> Int {
    guard let contentType else { return 24_000 }
    for parameter in contentType.split(separator: ";").dropFirst() {
        let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if pair.count == 2, pair[0].lowercased() == "rate", let rate = Int(pair[1]), rate > 0 { return rate }
    }
    return 24_000
}

extension OpenAIProvider {
    /// The body of `POST /audio/speech`.
    struct SpeechBody: Encodable, Sendable {
        var model: String
        var input: String
        var voice: String
        var responseFormat: String
        var speed: Double?
        var instructions: String?

        enum CodingKeys: String, CodingKey {
            case model, input, voice, speed, instructions
            case responseFormat = "response_format"
        }
    }
}
