import Accounts
import BuiltinEngines
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpeechCore
import Testing
import NIOFoundationEssentialsCompat

@testable import SpeechServer

/// A gateway on the real engines and a real SQLite file, driven through Hummingbird's router.
struct TestGateway {
    static let engines = Task { try await LocalEngines.start().engines }

    let store: AccountStore
    let secret: KeySecret
    let gateway: Gateway

    static func make(
        configuration: GatewayConfiguration = .init(), key settings: KeySettings = KeySettings(name: "test")
    ) async throws -> TestGateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)").path
        let store = try await AccountStore.open(
            databaseURL: nil, dataDirectory: directory, instance: "test", logger: Logger(label: "test"))
        let (_, secret) = try await store.createKey(settings)
        return TestGateway(
            store: store, secret: secret,
            gateway: Gateway(engines: try await engines.value, store: store, configuration: configuration))
    }

    func run(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = gateway.application(host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        try await app.test(.router, body)
        try await store.close()
    }

    var auth: HTTPFields { [.authorization: "Bearer \(secret.value)", .contentType: "application/json"] }
}

struct ErrorBody: Decodable {
    struct Inner: Decodable {
        var code: Int
        var message: String
        var metadata: [String: JSONValue]?
    }
    var error: Inner
}

func decodeError(_ response: TestResponse) throws -> ErrorBody.Inner {
    #expect(response.headers[.contentType] == "application/json")
    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
    #expect(body.error.code == Int(response.status.code))
    return body.error
}

/// The models the real engines serve: local/hibari and local/piper only where they are installed.
let builtinModelIDs =
    ["local/espeak-ng", "local/flite"] + (HibariInstallation.locate() != nil ? ["local/hibari"] : [])
    + (PiperInstallation.locate() != nil ? ["local/piper"] : [])

@Suite struct GatewayTests {
    @Test func speechStreamsPcmAndRecordsTheGeneration() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let body = #"{"model":"local/flite","input":"Hello there. This is a test.","voice":"alloy"}"#
            let id = try await client.execute(
                uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "audio/pcm")
                let seconds = Double(response.body.readableBytes) / 48_000
                #expect(response.body.readableBytes % 2 == 0)
                #expect((1.0...6.0).contains(seconds), "\(seconds) s")
                return try #require(response.headers[.generationID])
            }
            #expect(id.wholeMatch(of: /gen-tts-\d+-[A-Za-z0-9]{20}/) != nil)
            let record = try #require(try await test.store.generation(id: id))
            #expect(record.status == .completed)
            #expect(record.model == "local/flite")
            #expect(record.voice == "alloy")
            #expect(record.format == "pcm")
            #expect(record.characters == 28)
            #expect(record.spokenCharacters == 28)
        }
    }

    @Test func openAIStyleBasePathServesTheSameRoute() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let body = #"{"model":"local/espeak-ng","input":"Hi.","voice":"de","response_format":"wav"}"#
            try await client.execute(uri: "/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)) { (r: TestResponse) throws in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "audio/wav")
                #expect(r.body.getString(at: 0, length: 4) == "RIFF")
            }
        }
    }

    @Test func keysAreRequiredAndChecked() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let body = ByteBuffer(string: #"{"model":"local/flite","input":"hi"}"#)
            try await client.execute(uri: "/api/v1/audio/speech", method: .post, body: body) { (r: TestResponse) throws in
                #expect(r.status == .unauthorized)
                #expect(try decodeError(r).message == "Missing Authentication header")
            }
            let wrong: HTTPFields = [.authorization: "Bearer sk-sr-v1-" + String(repeating: "0", count: 64)]
            try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: wrong, body: body) { (r: TestResponse) throws in
                #expect(r.status == .unauthorized)
                #expect(try decodeError(r).message == "Invalid API key")
            }
        }
    }

    @Test func badRequestsGetOpenRouterErrors() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let cases: [(String, String, String?)] = [
                (#"{"model":"nope/x","input":"hi"}"#, "Model nope/x does not exist", "model"),
                (#"{"model":"local/flite","input":"hi","voice":"zzz"}"#, "Voice 'zzz' is not available for local/flite", "voice"),
                (#"{"model":"local/flite","input":"hi","response_format":"ogg"}"#, "allowed values: mp3, opus, aac, flac, wav, pcm", "response_format"),
                (#"{"model":"local/flite","input":"hi","speed":7}"#, "Invalid 'speed'", "speed"),
                (#"{"model":"local/flite","input":"hi","stream_format":"chunks"}"#, "must be audio or sse", "stream_format"),
                (#"{"model":"local/flite"}"#, "Missing required field 'input'", "input"),
                (#"{"model":"local/flite","input":"!!! ???"}"#, "nothing local/flite can speak", "input"),
                (#"{"model":"#, "Malformed JSON body", nil),
            ]
            for (body, message, param) in cases {
                try await client.execute(
                    uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    let error = try decodeError(response)
                    #expect(error.message.contains(message), "\(error.message)")
                    #expect(error.metadata?["param"] == param.map(JSONValue.string))
                }
            }
        }
    }

    @Test func oversizeBodiesGet413() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            // Past 1 MiB of request plus three of OpenRouter's 20 MiB reference recordings.
            let big = #"{"model":"local/flite","input":""# + String(repeating: "a", count: 64_000_000) + #""}"#
            try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: big)) { (r: TestResponse) throws in
                #expect(r.status == .contentTooLarge)
                #expect(try decodeError(r).message.contains("63963136 bytes"))
            }
        }
    }

    @Test func configurationNamesPipersDirectory() throws {
        let json = #"{"piper_directory": "/opt/speechrouter/piper"}"#
        let configuration = try JSONDecoder().decode(GatewayConfiguration.self, from: Data(json.utf8))
        #expect(configuration.piperDirectory == "/opt/speechrouter/piper")
        #expect(try JSONDecoder().decode(GatewayConfiguration.self, from: Data("{}".utf8)).piperDirectory == nil)
    }

    @Test func configurationNamesTheVoicesFolderAndRefusesAnEmptyOne() throws {
        let configuration = try GatewayConfiguration.parse(Data(#"{"voices_directory": "/srv/voices"}"#.utf8))
        #expect(configuration.voicesDirectory == "/srv/voices")
        #expect(try GatewayConfiguration.parse(Data("{}".utf8)).voicesDirectory == nil)
        #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.parse(Data(#"{"voices_directory": ""}"#.utf8))
        }
    }

    @Test func modelsAreListedForSpeechAndAllOnly() async throws {
        struct List: Decodable {
            struct Model: Decodable {
                var id: String
                var supported_voices: [String]
                var pricing: [String: String]
                var architecture: [String: JSONValue]
                var context_length: Int
            }
            var data: [Model]
            var total_count: Int
        }
        let test = try await TestGateway.make()
        try await test.run { client in
            for query in ["?output_modalities=speech", "?output_modalities=text,speech", "?output_modalities=all", ""] {
                try await client.execute(uri: "/api/v1/models" + query, method: .get) { response in
                    let list = try JSONDecoder().decode(List.self, from: Data(buffer: response.body))
                    #expect(list.data.map(\.id) == builtinModelIDs)
                    #expect(list.total_count == builtinModelIDs.count)
                    let flite = list.data[1]
                    #expect(flite.supported_voices.contains("slt") && flite.supported_voices.contains("alloy"))
                    #expect(flite.pricing == ["prompt": "0", "completion": "0"])
                    #expect(flite.architecture["output_modalities"] == .array([.string("speech")]))
                    #expect(flite.context_length == 100_000)
                }
            }
            try await client.execute(uri: "/api/v1/models?output_modalities=text", method: .get) { response in
                let list = try JSONDecoder().decode(List.self, from: Data(buffer: response.body))
                #expect(list.data.isEmpty, "no speech model has only text output")
            }
            try await client.execute(uri: "/api/v1/models/local/flite", method: .get) { (r: TestResponse) throws in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains(#""id":"local/flite""#))
            }
            try await client.execute(uri: "/api/v1/models/local/nothing", method: .get) { (r: TestResponse) throws in
                #expect(r.status == .notFound)
                #expect(try decodeError(r).message == "Model local/nothing does not exist")
            }
            try await client.execute(uri: "/api/v1/unknown", method: .get) { (r: TestResponse) throws in
                #expect(r.status == .notFound)
                #expect(try decodeError(r).metadata?["error_type"] == .string("not_found"))
            }
        }
    }

    /// A served path asked with a method it does not serve is 405 with `Allow` (it was 404), and
    /// needs no key; a path that is not served stays 404 whatever the method.
    @Test func anotherMethodOnAServedPathIs405NamingTheServedOnes() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.trace, "/api/v1/key", "GET"), (.put, "/api/v1/keys/abc", "DELETE, GET, PATCH"),
                (.get, "/v1/audio/speech", "POST"), (.delete, "/health", "GET"), (.post, "/openapi.json", "GET"),
                (HTTPRequest.Method("QUERY")!, "/api/v1/keys", "GET, POST"),
            ]
            for (method, uri, allow) in cases {
                try await client.execute(uri: uri, method: method) { (r: TestResponse) throws in
                    #expect(r.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(r.headers[.allow] == allow)
                    let error = try decodeError(r)
                    #expect(error.metadata?["error_type"] == .string("method_not_allowed"))
                    #expect(error.message == "Method \(method) is not allowed on \(uri); allowed: \(allow)")
                }
            }
            try await client.execute(uri: "/api/v1/nothing", method: .trace) { (r: TestResponse) throws in
                #expect(r.status == .notFound)
            }
        }
    }
}
