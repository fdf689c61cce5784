import AsyncHTTPClient
import Foundation
public import SpeechCore

/// ElevenLabs' streaming endpoint: `/v1/text-to-speech/{voice_id}/stream`, the format in the
/// `output_format` query, raw bytes back (`pcm_24000` is 16-bit LE at 24 kHz).
public struct ElevenLabsProvider: SpeechProvider, AccountProvider {
    public let slug = "elevenlabs"
    public let name = "ElevenLabs"
    public let speedRange: ClosedRange<Double>? = 0.7...1.2
    public let maxInputCharacters = 10_000
    public let passthroughFormats: Set<AudioFormat> = [.mp3]
    /// Instant voice cloning (`ElevenLabsVoiceCloning.swift`) takes several recordings.
    public let maxReferenceAudios = 3
    static let defaultBaseURL = "https://api.elevenlabs.io"
    let account: UpstreamAccount

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        if let references = request.references { return try await synthesizeCloned(request, references: references) }
        // A speed joins the options' own `voice_settings`; without one those pass through untouched.
        let settings = request.speed.map { speed in
            var options: [String: JSONValue] = [:]
            if case .object(let fields)? = request.options["voice_settings"] { options = fields }
            return MergedBody(VoiceSettings(speed: speed), options: options)
        }
        let body = MergedBody(
            StreamBody(text: request.input, modelID: request.model, voiceSettings: settings), options: request.options)
        let voice = request.voice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? request.voice
        let output = request.format == .mp3 ? "mp3_24000_48" : "pcm_24000"
        let format = request.format
        return try await account.postJSON(
            "/v1/text-to-speech/\(voice)/stream?output_format=\(output)", body: body,
            headers: [("xi-api-key", account.apiKey)], provider: name
        ) { _ in
            format == .mp3 ? EncodedPassthrough() as any BodyDecoder : PCM16Decoder(rate: 24_000)
        }
    }
}

extension ElevenLabsProvider {
    /// The body of `POST /v1/text-to-speech/{voice_id}/stream`.
    struct StreamBody: Encodable, Sendable {
        var text: String
        var modelID: String
        var voiceSettings: MergedBody<VoiceSettings>?

        enum CodingKeys: String, CodingKey {
            case text
            case modelID = "model_id"
            case voiceSettings = "voice_settings"
        }
    }

    struct VoiceSettings: Encodable, Sendable {
        var speed: Double
    }
}
