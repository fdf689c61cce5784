import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SpeechCore

/// ElevenLabs' instant voice cloning: the recordings are uploaded as a new voice
/// (`POST /v1/voices/add`, multipart `name` + `files`), the input is spoken with that voice, and
/// the voice is deleted (`DELETE /v1/voices/{voice_id}`) as soon as the speech request has been
/// answered, or has failed, so no clone outlives its request. ElevenLabs takes no transcript.
extension ElevenLabsProvider {
    /// The answer of `POST /v1/voices/add`.
    struct AddedVoice: Decodable {
        var voiceID: String

        enum CodingKeys: String, CodingKey { case voiceID = "voice_id" }
    }

    /// Speaks `request` with a voice cloned from its references for this request alone.
    func synthesizeCloned(_ request: UpstreamRequest, references: VoiceReferences) async throws -> UpstreamStream {
        let voice = try await addVoice(references)
        var cloned = request
        cloned.voice = voice
        cloned.references = nil
        let stream: UpstreamStream
        do {
            stream = try await synthesize(cloned)
        } catch {
            await deleteVoice(voice)
            throw error
        }
        await deleteVoice(voice)
        return stream
    }

    private func addVoice(_ references: VoiceReferences) async throws -> String {
        var form = MultipartForm()
        form.add(field: "name", value: "speechrouter-\(UUID().uuidString.prefix(8).lowercased())")
        for (index, audio) in references.audio.enumerated() {
            let format = audio.format ?? "mpeg"
            let subtype = format == "mp3" ? "mpeg" : format
            let ext = format == "mpeg" ? "mp3" : format
            form.add(
                file: "files", filename: "reference-\(index + 1).\(ext)", contentType: "audio/\(subtype)", data: audio.bytes)
        }
        var http = HTTPClientRequest(url: account.baseURL + "/v1/voices/add")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: form.contentType)
        http.headers.add(name: "User-Agent", value: "SpeechRouter/1")
        http.headers.add(name: "xi-api-key", value: account.apiKey)
        http.body = .bytes(ByteBuffer(bytes: form.body))
        let answer = try await account.client.collect(http, provider: name, secret: account.secret)
        guard let added = try? JSONDecoder().decode(AddedVoice.self, from: Data(answer.readableBytesView)), !added.voiceID.isEmpty
        else {
            throw ProviderError(.malformed, provider: name, message: "\(name) answered the voice upload without a voice_id")
        }
        return added.voiceID
    }

    /// Best effort: a clone that cannot be deleted now stays in the ElevenLabs account.
    private func deleteVoice(_ voice: String) async {
        let id = voice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? voice
        var http = HTTPClientRequest(url: account.baseURL + "/v1/voices/\(id)")
        http.method = .DELETE
        http.headers.add(name: "User-Agent", value: "SpeechRouter/1")
        http.headers.add(name: "xi-api-key", value: account.apiKey)
        _ = try? await account.client.collect(http, provider: name, secret: account.secret)
    }
}
