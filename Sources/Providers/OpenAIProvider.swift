import AsyncHTTPClient
import Foundation
import SpeechCore

/// OpenAI's `/v1/audio/speech`, and any server that speaks it (Kokoro-FastAPI, LocalAI,
/// openedai-speech): JSON in, raw audio bytes out. The pcm rate is read from the answer's
/// `Content-Type` (`audio/pcm;rate=22050` from openedai's tts-1), 24 kHz when it says none.
public struct OpenAIProvider: SpeechProvider {
    public let slug = "openai"
    public let name: String
    public let speedRange: ClosedRange<Double>? = 0.25...4.0
    public let maxInputCharacters = 4_096
    let baseURL: String
    let apiKey: String
    let client: UpstreamClient

    public init(baseURL: String = "https://api.openai.com/v1", apiKey: String, client: UpstreamClient, name: String = "OpenAI") {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.client = client
        self.name = name
    }

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        var body = request.options.mapValues(\.foundation)
        body["model"] = request.model
        body["input"] = request.input
        body["voice"] = request.voice
        body["response_format"] = request.format.rawValue
        if let speed = request.speed { body["speed"] = speed }
        if let instructions = request.instructions, body["instructions"] == nil { body["instructions"] = instructions }
        let http = try HTTPClientRequest.json(
            url: baseURL + "/audio/speech", body: body,
            headers: [("Authorization", "Bearer \(apiKey)"), ("Accept", "application/octet-stream")])
        let format = request.format
        return try await client.send(http, provider: name, secret: apiKey) { response in
            switch format {
            case .mp3: return Mp3Passthrough()
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

extension JSONValue {
    /// The value as JSONSerialization expects it.
    var foundation: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.foundation)
        case .object(let fields): fields.mapValues(\.foundation)
        }
    }
}
