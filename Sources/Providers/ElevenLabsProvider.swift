import AsyncHTTPClient
import Foundation
import SpeechCore

/// ElevenLabs' streaming endpoint: `/v1/text-to-speech/{voice_id}/stream`, the format in the
/// `output_format` query, raw bytes back (`pcm_24000` is 16-bit LE at 24 kHz).
public struct ElevenLabsProvider: SpeechProvider {
    public let slug = "elevenlabs"
    public let name = "ElevenLabs"
    public let speedRange: ClosedRange<Double>? = 0.7...1.2
    public let maxInputCharacters = 10_000
    let baseURL: String
    let apiKey: String
    let client: UpstreamClient

    public init(baseURL: String = "https://api.elevenlabs.io", apiKey: String, client: UpstreamClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.client = client
    }

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        var body = request.options.mapValues(\.foundation)
        body["text"] = request.input
        body["model_id"] = request.model
        if let speed = request.speed {
            var settings = body["voice_settings"] as? [String: Any] ?? [:]
            settings["speed"] = speed
            body["voice_settings"] = settings
        }
        let voice = request.voice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? request.voice
        let output = request.format == .mp3 ? "mp3_24000_48" : "pcm_24000"
        let http = try HTTPClientRequest.json(
            url: "\(baseURL)/v1/text-to-speech/\(voice)/stream?output_format=\(output)", body: body,
            headers: [("xi-api-key", apiKey)])
        let format = request.format
        return try await client.send(http, provider: name, secret: apiKey) { _ in
            format == .mp3 ? Mp3Passthrough() as any BodyDecoder : PCM16Decoder(rate: 24_000)
        }
    }
}
