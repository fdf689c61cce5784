import AsyncHTTPClient
import Foundation
public import SpeechCore
import NIOHTTP1

/// OpenAI's `/v1/audio/speech`, and any server that speaks it (Kokoro-FastAPI, LocalAI,
/// openedai-speech, Piper-based servers): JSON in, raw audio bytes out. Audio the gateway decodes
/// is asked for as `wav`, whose header states the true rate (22,050 Hz from many Piper voices);
/// a server that answers with headerless PCM anyway is read at the rate its `Content-Type`
/// (`audio/pcm;rate=22050`, `audio/L16;rate=22050`) or `X-Sample-Rate` states, else OpenAI's 24 kHz.
public struct OpenAIProvider: SpeechProvider {
    public let slug = "openai"
    public let name: String
    public let speedRange: ClosedRange<Double>? = 0.25...4.0
    public let maxInputCharacters = 4_096
    /// OpenAI makes all six; wav and pcm are still decoded, to be 24 kHz mono whatever the server.
    public let passthroughFormats: Set<AudioFormat> = [.mp3, .opus, .aac, .flac]
    let account: UpstreamAccount

    /// OpenAI's own API unless `baseURL` names another server; `name` defaults to "OpenAI".
    init(baseURL: String? = nil, apiKey: String, client: UpstreamClient, name: String? = nil) {
        account = UpstreamAccount(baseURL: baseURL ?? "https://api.openai.com/v1", apiKey: apiKey, client: client)
        self.name = name ?? "OpenAI"
    }

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        // The options' own `instructions` win over the request's.
        let body = SpeechBody(
            model: request.model, input: request.input, voice: request.voice,
            responseFormat: request.format == .pcm ? "wav" : request.format.rawValue,
            speed: request.speed, instructions: request.options["instructions"] == nil ? request.instructions : nil)
        // Audio to decode is asked for as `wav`, not `pcm`: OpenAI's pcm carries no rate, and not
        // every compatible server's is 24 kHz.
        let format = request.format
        return try await account.postJSON(
            "/audio/speech", body: MergedBody(body, options: request.options),
            headers: [("Authorization", "Bearer \(account.apiKey)"), ("Accept", "application/octet-stream")],
            provider: name
        ) { response in
            switch format {
            case .mp3, .opus, .aac, .flac: return EncodedPassthrough()
            case .pcm:
                return WAVDecoder(
                    rate: statedRate(
                        contentType: response.headers.first(name: "content-type"),
                        sampleRate: response.headers.first(name: "x-sample-rate")) ?? 24_000)
            }
        }
    }
}

/// The rate a response states for headerless PCM: the `rate=` parameter of its content type,
/// else its `X-Sample-Rate` header; nil when neither holds a rate in `WAVHeader.rates`.
func statedRate(contentType: String?, sampleRate: String?) -> Int? {
    let parameters = (contentType ?? "").split(separator: ";").dropFirst().compactMap { parameter -> Int? in
        let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return pair.count == 2 && pair[0].lowercased() == "rate" ? Int(pair[1]) : nil
    }
    let header = sampleRate.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    return (parameters + [header].compactMap { $0 }).first { WAVHeader.rates.contains($0) }
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
