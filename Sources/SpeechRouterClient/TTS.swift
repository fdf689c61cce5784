import AsyncHTTPClient
import NIOHTTP1

extension SpeechRouter {
    /// Text to speech, as `@openrouter/sdk`'s `tts`.
    public struct TTS: Sendable {
        let client: SpeechRouter

        /// Starts speaking and returns as soon as the server does: the audio arrives chunk by
        /// chunk while it is iterated. Errors the server reports before the audio starts (bad
        /// request, key, limit, rate) are thrown here as `APIError`.
        ///
        /// Cancelling the task that iterates, or dropping the audio, cancels the HTTP request.
        public func createSpeech(_ request: SpeechRequest) async throws -> SpeechAudio {
            let response = try await client.post("/audio/speech", json: request, accept: "audio/*")
            let contentType = response.headers.first(name: "Content-Type")
            guard response.status == .ok, contentType?.lowercased().hasPrefix("audio/") == true else {
                throw await SpeechRouter.error(from: response)
            }
            return SpeechAudio(
                body: response.body, contentType: contentType,
                generationID: response.headers.first(name: "X-Generation-Id"))
        }
    }
}
