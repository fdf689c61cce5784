import BuiltinEngines
import Foundation
import Hummingbird
import HummingbirdTesting
import SpeechCore
import Testing
import NIOFoundationEssentialsCompat
import Logging
import Accounts

@testable import SpeechServer

/// Mono 16-bit samples at 24 kHz, as ffmpeg decodes `bytes` (a whole response body).
func decodeWithFFmpeg(_ bytes: ByteBuffer, format: String) throws -> [Int16] {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("decode-\(UUID().uuidString).\(format)")
    try Data(buffer: bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    var input = ["-i", url.path]
    if format == "pcm" { input = ["-f", "s16le", "-ar", "24000", "-ac", "1"] + input }
    process.arguments = ["ffmpeg", "-v", "error"] + input + ["-f", "s16le", "-ac", "1", "-ar", "24000", "-"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "ffmpeg decodes the \(format) body")
    return output.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
}

func rootMeanSquare(_ samples: [Int16]) -> Double {
    guard !samples.isEmpty else { return 0 }
    return (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
}

struct ModelList: Decodable {
    struct Model: Decodable {
        var id: String
        var description: String
    }
    var data: [Model]
}

@Suite struct ModelAliasGatewayTests {
    /// Without Piper's parts the gateway is built from the other engines: this is what a server
    /// that finds no Piper installation serves.
    @Test func withoutPiperItIsNotListedAndOpenAINamesGoToFlite() async throws {
        let test = try await TestGateway.make()
        let engines = test.gateway.engines.filter { !["local/piper", "local/hibari"].contains($0.model.id) }
        let gateway = Gateway(engines: engines, store: test.store)
        let app = gateway.application(host: "127.0.0.1", port: 0, logger: .init(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/models?output_modalities=speech", method: .get) { response in
                let list = try JSONDecoder().decode(ModelList.self, from: Data(buffer: response.body))
                #expect(list.data.map(\.id) == ["local/espeak-ng", "local/flite"])
                #expect(list.data[1].description.hasSuffix("Also answers to gpt-4o-mini-tts, tts-1, tts-1-hd."))
            }
            let body = #"{"model":"tts-1","input":"Hello from the alias.","voice":"alloy"}"#
            let id = try await client.execute(
                uri: "/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                #expect(rootMeanSquare(try decodeWithFFmpeg(response.body, format: "pcm")) > 300)
                return try #require(response.headers[.generationID])
            }
            #expect(try await test.store.generation(id: id)?.model == "local/flite")
            let piper = #"{"model":"local/piper","input":"Hi."}"#
            try await client.execute(
                uri: "/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: piper)
            ) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try decodeError(response).message == "Model local/piper does not exist")
            }
        }
        try await test.store.close()
    }
}

@Suite(.enabled(if: PiperInstallation.locate() != nil, "Piper is not installed (scripts/install-piper)"))
struct PiperGatewayTests {
    let text = "Piper speaks with a natural voice. It runs offline, on this machine, with no key."

    @Test(arguments: ["pcm", "mp3", "wav"])
    func piperSpeaksThroughTheRouter(format: String) async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let body = #"{"model":"local/piper","input":"\#(text)","response_format":"\#(format)"}"#
            let id = try await client.execute(
                uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                let samples = try decodeWithFFmpeg(response.body, format: format)
                let seconds = Double(samples.count) / 24_000
                #expect((3.5...10).contains(seconds), "\(format): \(seconds) s")
                #expect(rootMeanSquare(samples) > 500, "\(format) is not silent")
                return try #require(response.headers[.generationID])
            }
            let record = try #require(try await test.store.generation(id: id))
            #expect(record.status == .completed)
            #expect(record.model == "local/piper" && record.voice == "joe")
        }
    }

    @Test func oddInputIsSpokenAroundOrRejectedClearly() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let spoken =
                #"{"model":"local/piper","input":"Hello 😀 there\u0007\u0000, \u200b日本語 and Привет. The end!"}"#
            try await client.execute(
                uri: "/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: spoken)
            ) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(rootMeanSquare(try decodeWithFFmpeg(response.body, format: "pcm")) > 500)
            }
            // Javanese script has letters, but eSpeak NG has no phonemes for them: every piece is empty.
            for input in ["!!! ???", "😀🎉🚀", #"\u0000\u0001 … \u200b"#, "ꦲꦤꦕ. ꦲꦤ!"] {
                let body = #"{"model":"local/piper","input":"\#(input)"}"#
                try await client.execute(
                    uri: "/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
                ) { (response: TestResponse) throws in
                    #expect(response.status == .badRequest, "\(input)")
                    #expect(try decodeError(response).message == "Input has nothing local/piper can speak")
                }
            }
        }
    }
}
