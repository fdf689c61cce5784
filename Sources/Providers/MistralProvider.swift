import AsyncHTTPClient
import Foundation
public import SpeechCore
import NIOHTTP1

/// Mistral's Voxtral TTS: JSON with `voice_id`, answered as SSE `speech.audio.delta` events with
/// base64 audio (float32 samples for `pcm`), or as one JSON `{"audio_data"}` when not streamed.
/// A voice to clone goes as one base64 recording in `ref_audio`, instead of `voice_id`; Mistral
/// documents no field for its transcript, so none is sent.
public struct MistralProvider: SpeechProvider, AccountProvider {
    public let slug = "mistral"
    public let name = "Mistral"
    public let speedRange: ClosedRange<Double>? = nil
    public let maxInputCharacters = 4_000
    public let passthroughFormats: Set<AudioFormat> = [.mp3]
    public let maxReferenceAudios = 1
    static let defaultBaseURL = "https://api.mistral.ai"
    let account: UpstreamAccount

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        let reference = request.references?.audio.first?.base64
        let body = SpeechBody(
            model: request.model, input: request.input, voiceID: reference == nil ? request.voice : nil,
            refAudio: reference, responseFormat: request.format.rawValue)
        let format = request.format
        return try await account.postJSON(
            "/v1/audio/speech", body: MergedBody(body, options: request.options),
            headers: [("Authorization", "Bearer \(account.apiKey)"), ("Accept", "text/event-stream")], provider: name
        ) { response in
            let pcm = PCMEncoding.float32le(rate: 24_000)
            if response.headers.first(name: "content-type")?.contains("application/json") == true {
                return Base64JSONDecoder(path: ["audio_data"], format: format, pcm: pcm)
            }
            return SSEAudioDecoder(
                delta: "speech.audio.delta", done: "speech.audio.done", field: "audio_data", format: format, pcm: pcm)
        }
    }
}

extension MistralProvider {
    /// The body of `POST /v1/audio/speech`, always asking for the SSE stream.
    struct SpeechBody: Encodable, Sendable {
        var model: String
        var input: String
        var voiceID: String?
        /// Base64 reference audio to clone the voice from; it takes precedence over `voice_id`.
        var refAudio: String?
        var responseFormat: String
        var stream = true

        enum CodingKeys: String, CodingKey {
            case model, input, stream
            case voiceID = "voice_id"
            case refAudio = "ref_audio"
            case responseFormat = "response_format"
        }
    }
}
