import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SpeechCore
import Testing
import NIOFoundationEssentialsCompat

@testable import Providers
@testable import SpeechServer

/// `input_references` through the gateway: a cloning upstream gets the recording intact, every
/// other model and every bad reference is refused before anything is sent or charged.
@Suite struct VoiceCloningTests {
    /// Every byte value, so any re-encoding on the way would show.
    static let recording: [UInt8] = (0..<3_000).map { UInt8(($0 * 7) % 256) }

    static func body(model: String, references: String) -> String {
        #"{"model":"\#(model)","input":"Hello there.","input_references":\#(references)}"#
    }

    static let references = """
        [{"type":"input_audio","input_audio":{"data":"\(Data(recording).base64EncodedString())","format":"wav"}},
         {"type":"text","text":"What the recording says."}]
        """

    @Test func mistralGetsTheRecordingIntactAsRefAudio() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth, store in
            let response = try await speech(
                client, auth, Self.body(model: "mistralai/voxtral-mini-tts-2603", references: Self.references))
            #expect(response.status == .ok)
            #expect(response.body.readableBytes == FakeUpstream.pcm.count)
            let sent = try fields(try #require(harness.fake.received("mistral").last).body)
            guard case .string(let reference)? = sent["ref_audio"] else {
                Issue.record("no ref_audio in \(sent.keys.sorted())")
                return
            }
            #expect(Data(base64Encoded: reference).map { [UInt8]($0) } == Self.recording)
            // The reference replaces the preset voice; Mistral documents no transcript field.
            #expect(sent["voice_id"] == nil)
            #expect(Set(sent.keys) == ["model", "input", "ref_audio", "response_format", "stream"])
            #expect(try await store.recentGenerations(limit: 10).count == 1)
        }
    }

    @Test func elevenLabsClonesAVoiceFromEveryRecordingSpeaksWithItAndDeletesIt() async throws {
        let second = Array(Self.recording.reversed())
        let references = """
            [{"type":"input_audio","input_audio":{"data":"\(Data(Self.recording).base64EncodedString())","format":"wav"}},
             {"type":"input_audio","input_audio":{"data":"data:audio/mpeg;base64,\(Data(second).base64EncodedString())"}}]
            """
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let response = try await speech(
                client, auth, Self.body(model: "elevenlabs/eleven-multilingual-v2", references: references))
            #expect(response.status == .ok)
            #expect(Array(response.body.readableBytesView) == FakeUpstream.pcm)
            let voices = harness.fake.clonedVoices()
            #expect(voices.count == 1)
            let voice = try #require(voices.first)
            #expect(voice.files == [
                FakeUpstream.UploadedFile(filename: "reference-1.wav", contentType: "audio/wav", bytes: Self.recording),
                FakeUpstream.UploadedFile(filename: "reference-2.mp3", contentType: "audio/mpeg", bytes: second),
            ])
            #expect(harness.fake.received("elevenlabs").map(\.path) == ["/v1/text-to-speech/\(voice.id)/stream"])
            // The clone lives for this request only.
            #expect(voice.deleted)
        }
    }

    @Test func modelsThatCannotCloneAnswer400NamingTheFieldAndSendNothing() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth, store in
            for (model, provider) in [
                ("openai/gpt-4o-mini-tts-2025-12-15", "openai"), ("microsoft/mai-voice-2", "azure"),
                ("google/cloud-tts-neural2", "google"),
            ] {
                let response = try await speech(client, auth, Self.body(model: model, references: Self.references))
                #expect(response.status == .badRequest, "\(model)")
                let error = try errorOf(response)
                #expect(error.metadata["param"] == .string("input_references"), "\(model)")
                #expect(error.message.contains("cannot clone"), "\(model): \(error.message)")
                #expect(harness.fake.received(provider).isEmpty, "\(model)")
            }
            #expect(try await store.recentGenerations(limit: 10).isEmpty)
        }
    }

    @Test func badReferencesAnswer400AndChangeNothing() async throws {
        let base64 = Data(Self.recording).base64EncodedString()
        let audio = #"{"type":"input_audio","input_audio":{"data":"\#(base64)"}}"#
        let harness = UpstreamHarness()
        try await harness.run { client, auth, store in
            let cases: [(String, String)] = [
                ("[" + Array(repeating: audio, count: 4).joined(separator: ",") + "]", "input_references"),
                (#"[{"type":"input_audio","input_audio":{"data":"%%%not base64%%%"}}]"#, "input_references[0].input_audio.data"),
                (
                    #"[{"type":"input_audio","input_audio":{"data":"\#(String(repeating: "A", count: 20 * 1_048_576 + 4))"}}]"#,
                    "input_references[0].input_audio.data"
                ),
                // Mistral clones from one recording: two are more than this model's providers take.
                ("[\(audio),\(audio)]", "input_references"),
            ]
            for (references, field) in cases {
                let response = try await speech(
                    client, auth, Self.body(model: "mistralai/voxtral-mini-tts-2603", references: references))
                #expect(response.status == .badRequest, "\(field)")
                #expect(try errorOf(response).metadata["param"] == .string(field))
            }
            #expect(harness.fake.received("mistral").isEmpty)
            #expect(try await store.recentGenerations(limit: 10).isEmpty)
        }
    }

    @Test func clonedRequestsAreNeverCached() async throws {
        let harness = UpstreamHarness()
        try await harness.run(cached: true) { client, auth, _ in
            var headers = auth
            headers[HTTPField.Name("X-OpenRouter-Cache")!] = "true"
            let json = Self.body(model: "mistralai/voxtral-mini-tts-2603", references: Self.references)
            for _ in 0..<2 {
                let response = try await client.execute(
                    uri: "/api/v1/audio/speech", method: .post, headers: headers, body: ByteBuffer(string: json))
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-OpenRouter-Cache-Status")!] == nil)
            }
            #expect(harness.fake.received("mistral").count == 2)
        }
    }

    @Test func theModelsListSaysWhichModelsClone() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let response = try await client.execute(uri: "/api/v1/models?output_modalities=speech", method: .get, headers: auth)
            guard case .object(let root) = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)),
                case .array(let models)? = root["data"]
            else {
                Issue.record("no model list")
                return
            }
            var cloning: [String] = []
            for case .object(let model) in models {
                guard case .string(let id)? = model["id"], case .array(let parameters)? = model["supported_parameters"]
                else { continue }
                if parameters.contains(.string("input_references")) { cloning.append(id) }
            }
            #expect(Set(cloning) == ["mistralai/voxtral-mini-tts-2603", "elevenlabs/eleven-multilingual-v2"])
            let endpoints = try await client.execute(
                uri: "/api/v1/models/mistralai/voxtral-mini-tts-2603/endpoints", method: .get, headers: auth)
            guard case .object(let listing) = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: endpoints.body)),
                case .object(let data)? = listing["data"], case .array(let served)? = data["endpoints"],
                case .object(let mistral)? = served.first
            else {
                Issue.record("no endpoints")
                return
            }
            #expect(mistral["supports_voice_cloning"] == .bool(true))
        }
    }
}
