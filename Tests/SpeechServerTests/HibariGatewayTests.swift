import BuiltinEngines
import Foundation
import Hummingbird
import HummingbirdTesting
import SpeechCore
import Testing
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
}
