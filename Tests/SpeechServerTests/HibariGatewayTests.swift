import BuiltinEngines
import Foundation
import Hummingbird
import HummingbirdTesting
import SpeechCore
import Testing
import NIOFoundationEssentialsCompat
import Accounts

@testable import SpeechServer

@Suite(.enabled(if: HibariInstallation.locate() != nil, "hibari is not installed (scripts/install-hibari)"))
struct HibariGatewayTests {
    @Test(arguments: ["pcm", "mp3"])
    func hibariSpeaksTheSameBytesForTheSameRequest(format: String) async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let text = "hibari speaks offline, on this machine. The same request always gives the same bytes."
            let body = #"{"model":"local/hibari","input":"\#(text)","voice":"nova","response_format":"\#(format)"}"#
            var bodies: [ByteBuffer] = []
            for _ in 0..<2 {
                let (id, audio) = try await client.execute(
                    uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .ok)
                    return (try #require(response.headers[.generationID]), response.body)
                }
                bodies.append(audio)
                let record = try #require(try await test.store.generation(id: id))
                #expect(record.status == .completed && record.model == "local/hibari" && record.voice == "nova")
            }
            let samples = try decodeWithFFmpeg(bodies[0], format: format)
            let seconds = Double(samples.count) / 24_000
            #expect((3.5...9).contains(seconds), "\(format): \(seconds) s")
            #expect(rootMeanSquare(samples) > 500, "\(format) is not silent")
            #expect(bodies[0] == bodies[1])
        }
    }

    @Test func openAIModelNamesGoToHibariAndTheRecordNamesIt() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            try await client.execute(uri: "/api/v1/models?output_modalities=speech", method: .get) { response in
                let list = try JSONDecoder().decode(ModelList.self, from: Data(buffer: response.body))
                #expect(list.data.map(\.id) == builtinModelIDs)
                let hibari = try #require(list.data.first { $0.id == "local/hibari" })
                #expect(hibari.description.hasSuffix("Also answers to gpt-4o-mini-tts, tts-1, tts-1-hd."))
                #expect(!list.data[1].description.contains("Also answers"))
            }
            for name in ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"] {
                let body = #"{"model":"\#(name)","input":"Hello.","voice":"nova","response_format":"mp3"}"#
                let id = try await client.execute(
                    uri: "/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .ok)
                    return try #require(response.headers[.generationID])
                }
                let record = try #require(try await test.store.generation(id: id))
                #expect(record.model == "local/hibari" && record.voice == "nova")
            }
        }
    }
}
