import Foundation
import Hummingbird
import HummingbirdTesting
import SpeechCore
import Testing

@testable import Providers

/// The exact bytes each adapter sends: typed fields, then the client's `provider.options` for
/// what the typed body leaves unset, keys sorted as JSONSerialization sorted them.
@Suite struct UpstreamBodyTests {
    private func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private struct Body: Encodable, Sendable {
        var name: String
        var speed: Double?
    }

    @Test func typedFieldsWinAndOptionsFillTheRest() throws {
        let options: [String: JSONValue] = [
            "name": .string("from options"), "extra": .object(["b": .null, "a": .array([.bool(true), .number(2)])]),
        ]
        #expect(try encoded(MergedBody(Body(name: "typed", speed: 1.5), options: options))
            == #"{"extra":{"a":[true,2],"b":null},"name":"typed","speed":1.5}"#)
        #expect(try encoded(MergedBody(Body(name: "typed"), options: ["speed": .number(3)]))
            == #"{"name":"typed","speed":3}"#, "a field the body leaves nil comes from the options")
        #expect(try encoded(MergedBody(Body(name: "a/b"), options: [:])) == #"{"name":"a\/b"}"#)
    }

    /// Sends `request` to `provider` on a fresh fake and returns the body the fake received.
    private func sent(
        _ slug: String, _ request: UpstreamRequest,
        provider: @Sendable (_ base: String, _ client: UpstreamClient) -> any SpeechProvider
    ) async throws -> String {
        let fake = FakeUpstream()
        let fakeApp = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await fakeApp.test(.live) { upstream in
            let client = UpstreamClient()
            let stream = try await provider("http://127.0.0.1:\(upstream.port!)", client).synthesize(request)
            for try await _ in stream {}
            try await client.shutdown()
        }
        return try #require(fake.received(slug).last).body
    }

    private func request(
        voice: String, speed: Double? = nil, options: [String: JSONValue] = [:], instructions: String? = nil
    ) -> UpstreamRequest {
        UpstreamRequest(
            model: "m-1", input: "Hi / there.", voice: voice, format: .mp3, speed: speed, options: options,
            instructions: instructions)
    }

    @Test func openAIsOwnInstructionsOptionWinsOverTheRequests() async throws {
        let openAI = { @Sendable (base: String, client: UpstreamClient) -> any SpeechProvider in
            OpenAIProvider(baseURL: base + "/v1", apiKey: FakeUpstream.key, client: client)
        }
        #expect(try await sent("openai", request(voice: "nova", speed: 1.25, instructions: "Warm."), provider: openAI)
            == #"{"input":"Hi \/ there.","instructions":"Warm.","model":"m-1","response_format":"mp3","speed":1.25,"voice":"nova"}"#)
        let options: [String: JSONValue] = ["instructions": .string("Cold."), "model": .string("other"), "speed": .number(2)]
        #expect(try await sent("openai", request(voice: "nova", options: options, instructions: "Warm."), provider: openAI)
            == #"{"input":"Hi \/ there.","instructions":"Cold.","model":"m-1","response_format":"mp3","speed":2,"voice":"nova"}"#)
    }

    @Test func mistralAlwaysAsksForTheStream() async throws {
        let options: [String: JSONValue] = ["stream": .bool(false), "metadata": .object(["tag": .string("t")])]
        let body = try await sent("mistral", request(voice: "en_paul_neutral", speed: 2, options: options)) { base, client in
            MistralProvider(baseURL: base + "/mistral", apiKey: FakeUpstream.key, client: client)
        }
        #expect(body == #"{"input":"Hi \/ there.","metadata":{"tag":"t"},"model":"m-1","response_format":"mp3","stream":true,"voice_id":"en_paul_neutral"}"#)
    }

    @Test func elevenLabsSpeedJoinsTheOptionsVoiceSettings() async throws {
        let elevenLabs = { @Sendable (base: String, client: UpstreamClient) -> any SpeechProvider in
            ElevenLabsProvider(baseURL: base, apiKey: FakeUpstream.key, client: client)
        }
        let settings: [String: JSONValue] = ["voice_settings": .object(["stability": .number(0.5), "speed": .number(9)])]
        #expect(try await sent("elevenlabs", request(voice: "v", speed: 0.8, options: settings), provider: elevenLabs)
            == #"{"model_id":"m-1","text":"Hi \/ there.","voice_settings":{"speed":0.8,"stability":0.5}}"#)
        #expect(try await sent("elevenlabs", request(voice: "v", options: settings), provider: elevenLabs)
            == #"{"model_id":"m-1","text":"Hi \/ there.","voice_settings":{"speed":9,"stability":0.5}}"#,
            "without a speed the options' settings pass untouched")
        #expect(try await sent("elevenlabs", request(voice: "v", speed: 1.1, options: ["voice_settings": .string("x")]),
                               provider: elevenLabs)
            == #"{"model_id":"m-1","text":"Hi \/ there.","voice_settings":{"speed":1.1}}"#)
    }

    @Test func googlesTypedFieldsReplaceOptionsOfTheSameName() async throws {
        let options: [String: JSONValue] = [
            "audioConfig": .object(["pitch": .number(2)]), "input": .object(["ssml": .string("<speak/>")]),
            "enableTimePointing": .array([.string("SSML_MARK")]),
        ]
        let body = try await sent("google", request(voice: "en-GB-Neural2-A", speed: 1.5, options: options)) { base, client in
            GoogleProvider(baseURL: base, apiKey: FakeUpstream.key, client: client)
        }
        #expect(body == #"{"audioConfig":{"audioEncoding":"MP3","sampleRateHertz":24000,"speakingRate":1.5},"#
            + #""enableTimePointing":["SSML_MARK"],"input":{"text":"Hi \/ there."},"#
            + #""voice":{"languageCode":"en-GB","name":"en-GB-Neural2-A"}}"#)
    }
}
