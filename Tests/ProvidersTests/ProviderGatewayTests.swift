import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SpeechCache
import SpeechCore
import Testing
import NIOFoundationEssentialsCompat

@testable import Providers
@testable import SpeechServer

/// A gateway whose providers all point at one `FakeUpstream` on a loopback port.
struct UpstreamHarness {
    let fake = FakeUpstream()

    /// Runs `body` with a router-level client for a gateway configured against the fake.
    func run(
        configuration: GatewayConfiguration = .init(), firstByteTimeout: Duration = .seconds(5),
        _ body: @Sendable @escaping (any TestClientProtocol, HTTPFields) async throws -> Void
    ) async throws {
        try await run(configuration: configuration, firstByteTimeout: firstByteTimeout) { client, auth, _ in
            try await body(client, auth)
        }
    }

    /// `run`, with a speech cache when `cached`, and the gateway's account store passed to `body`.
    func run(
        configuration: GatewayConfiguration = .init(), firstByteTimeout: Duration = .seconds(5), cached: Bool = false,
        _ body: @Sendable @escaping (any TestClientProtocol, HTTPFields, AccountStore) async throws -> Void
    ) async throws {
        let fakeApp = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await fakeApp.test(.live) { upstream in
            let base = "http://127.0.0.1:\(upstream.port!)"
            let client = UpstreamClient(connectTimeout: .seconds(2), firstByteTimeout: firstByteTimeout)
            let providers = UpstreamCatalog.providers(
                environment: [
                    "OPENAI_API_KEY": FakeUpstream.key, "OPENAI_BASE_URL": base + "/v1",
                    "AZURE_SPEECH_KEY": FakeUpstream.key, "AZURE_SPEECH_ENDPOINT": base + "/cognitiveservices/v1",
                    "MISTRAL_API_KEY": FakeUpstream.key, "MISTRAL_BASE_URL": base + "/mistral",
                    "ELEVENLABS_API_KEY": FakeUpstream.key, "ELEVENLABS_BASE_URL": base,
                    "GOOGLE_API_KEY": FakeUpstream.key, "GOOGLE_BASE_URL": base,
                ], client: client)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("up-\(UUID().uuidString)").path
            let store = try await AccountStore.open(
                databaseURL: nil, dataDirectory: directory, instance: "test", logger: Logger(label: "test"))
            let (_, secret) = try await store.createKey(KeySettings(name: "t"))
            var gateway = Gateway(engines: [], providers: providers, store: store, configuration: configuration)
            if cached {
                gateway.cache = try SpeechCacheStore(
                    directory: URL(fileURLWithPath: directory).appendingPathComponent("cache"), limitBytes: 1 << 24)
            }
            let app = gateway.application(host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await body(client, [.authorization: "Bearer \(secret.value)", .contentType: "application/json"], store)
            }
            try await store.close()
            try await client.shutdown()
        }
    }
}

func speech(_ client: any TestClientProtocol, _ auth: HTTPFields, _ json: String) async throws -> TestResponse {
    try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: auth, body: ByteBuffer(string: json))
}

func fields(_ body: String) throws -> [String: JSONValue] { try FakeUpstream.object(body) }

func errorOf(_ response: TestResponse) throws -> (code: Int, message: String, metadata: [String: JSONValue]) {
    guard case .object(let root) = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)),
        case .object(let error)? = root["error"], case .number(let code)? = error["code"],
        case .string(let message)? = error["message"]
    else { throw HTTPError(.internalServerError, message: "not an error body: \(String(buffer: response.body))") }
    guard case .object(let metadata)? = error["metadata"] else { return (Int(code), message, [:]) }
    return (Int(code), message, metadata)
}

/// A model reached first through Mistral, then OpenAI, to exercise fallback.
let fallbackModel = GatewayConfiguration(models: [
    "test/fallback": .init(
        endpoints: [.init(provider: "mistral", model: "voxtral-mini-tts-2603"), .init(provider: "openai", model: "tts-1")],
        voices: ["alloy"])
])

@Suite struct ProviderGatewayTests {
    @Test func openAIMp3PassesThroughByteForByteWithTheExactRequest() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let response = try await speech(client, auth, """
                {"model":"openai/gpt-4o-mini-tts-2025-12-15","input":"Hello there.","voice":"nova","response_format":"mp3",
                 "speed":1.25,"provider":{"options":{"openai":{"instructions":"Warm."},"azure":{"style":"cheerful"}}}}
                """)
            #expect(response.status == .ok)
            #expect(Array(response.body.readableBytesView) == FakeUpstream.mp3)
            let sent = try #require(harness.fake.received("openai").last)
            #expect(sent.path == "/v1/audio/speech")
            #expect(sent.headers[.authorization] == "Bearer \(FakeUpstream.key)")
            #expect(try fields(sent.body) == [
                "model": .string("gpt-4o-mini-tts-2025-12-15"), "input": .string("Hello there."), "voice": .string("nova"),
                "response_format": .string("mp3"), "speed": .number(1.25), "instructions": .string("Warm."),
            ], "only the openai options reach OpenAI")
        }
    }

    @Test func topLevelInstructionsAreForwardedAndPcmComesBackAt24kHz() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let response = try await speech(client, auth, """
                {"model":"openai/gpt-4o-mini-tts-2025-12-15","input":"Hi.","voice":"alloy","instructions":"Slowly."}
                """)
            #expect(response.headers[.contentType] == "audio/pcm")
            #expect(Array(response.body.readableBytesView) == FakeUpstream.pcm)
            #expect(try fields(harness.fake.received("openai")[0].body)["instructions"] == .string("Slowly."))
        }
    }

    @Test func azureGetsEscapedSSMLWithStyleAndRate() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let response = try await speech(client, auth, """
                {"model":"microsoft/mai-voice-2","input":"Fish & <chips> \\"now\\" isn't </voice>","voice":"en-US-Harper:MAI-Voice-2",
                 "response_format":"wav","speed":1.5,
                 "provider":{"options":{"azure":{"style":"cheerful","styledegree":1.2},"openai":{"instructions":"x"}}}}
                """)
            #expect(response.status == .ok)
            #expect(response.body.getString(at: 0, length: 4) == "RIFF")
            #expect(response.body.readableBytes == 44 + FakeUpstream.pcm.count)
            let sent = try #require(harness.fake.received("azure").last)
            #expect(sent.headers[HTTPField.Name("X-Microsoft-OutputFormat")!] == "raw-24khz-16bit-mono-pcm")
            #expect(sent.headers[.contentType] == "application/ssml+xml")
            #expect(sent.headers[.userAgent] != nil)
            #expect(sent.body == """
                <speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xmlns:mstts="http://www.w3.org/2001/mstts" \
                xml:lang="en-US"><voice name="en-US-Harper:MAI-Voice-2"><mstts:express-as style="cheerful" styledegree="1.2">\
                <prosody rate="+50%">Fish &amp; &lt;chips&gt; &quot;now&quot; isn&apos;t &lt;/voice&gt;</prosody>\
                </mstts:express-as></voice></speak>
                """)
            // Speed beyond Azure's 0.5–2.0 is clamped, not rejected.
            _ = try await speech(client, auth, #"{"model":"microsoft/mai-voice-2","input":"Hi.","speed":4}"#)
            #expect(harness.fake.received("azure").last?.body.contains(#"<prosody rate="+100%">"#) == true)
        }
    }

    @Test func mistralStreamsFloatPcmAsS16AndIgnoresSpeed() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let response = try await speech(client, auth, """
                {"model":"mistralai/voxtral-mini-tts-2603","input":"Bonjour.","voice":"en_paul_neutral","speed":2,
                 "provider":{"options":{"mistral":{"metadata":{"tag":"t"}},"openai":{"instructions":"x"}}}}
                """)
            #expect(response.status == .ok)
            let samples = Array(response.body.readableBytesView)
            #expect(samples.count == FakeUpstream.pcm.count)
            // float32 → int16 round trip loses at most one step per sample.
            let decoded = stride(from: 0, to: samples.count, by: 2).map { Int16(bitPattern: UInt16(samples[$0]) | UInt16(samples[$0 + 1]) << 8) }
            #expect(zip(decoded, FakeUpstream.tone).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
            let sent = try fields(try #require(harness.fake.received("mistral").last).body)
            #expect(sent == [
                "model": .string("voxtral-mini-tts-2603"), "input": .string("Bonjour."), "voice_id": .string("en_paul_neutral"),
                "response_format": .string("pcm"), "stream": .bool(true), "metadata": .object(["tag": .string("t")]),
            ])
            #expect(harness.fake.received("mistral").last?.headers[.accept] == "text/event-stream")
        }
    }

    @Test func aFormatTheUpstreamDoesNotMakeIsEncodedHereFromItsPcm() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            for (format, magic, contentType) in [("flac", "fLaC", "audio/flac"), ("opus", "OggS", "audio/opus")] {
                let response = try await speech(client, auth, """
                    {"model":"elevenlabs/eleven-multilingual-v2","input":"Hi.","response_format":"\(format)"}
                    """)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == contentType)
                #expect(Array(response.body.readableBytesView.prefix(4)) == Array(magic.utf8), "\(format)")
                #expect(harness.fake.received("elevenlabs").last?.query == "output_format=pcm_24000")
            }
        }
    }

    @Test func elevenLabsAndGoogleSpeakTheirOwnWireFormats() async throws {
        let harness = UpstreamHarness()
        try await harness.run { client, auth in
            let eleven = try await speech(client, auth, """
                {"model":"elevenlabs/eleven-multilingual-v2","input":"Hi.","response_format":"mp3","speed":0.5}
                """)
            #expect(Array(eleven.body.readableBytesView) == FakeUpstream.mp3)
            let sent = try #require(harness.fake.received("elevenlabs").last)
            #expect(sent.path == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream")
            #expect(sent.query == "output_format=mp3_24000_48")
            #expect(try fields(sent.body) == [
                "text": .string("Hi."), "model_id": .string("eleven_multilingual_v2"),
                "voice_settings": .object(["speed": .number(0.7)]),
            ])

            let google = try await speech(client, auth, #"{"model":"google/cloud-tts-neural2","input":"Hi.","voice":"en-GB-Neural2-A"}"#)
            #expect(Array(google.body.readableBytesView) == FakeUpstream.pcm, "the WAV header is parsed off")
            let request = try fields(try #require(harness.fake.received("google").last).body)
            #expect(request["voice"] == .object(["languageCode": .string("en-GB"), "name": .string("en-GB-Neural2-A")]))
            #expect(request["audioConfig"] == .object(["audioEncoding": .string("LINEAR16"), "sampleRateHertz": .number(24_000)]))
        }
    }

    @Test func aFailingProviderFallsBackToTheNextAndTheRowSaysWho() async throws {
        let harness = UpstreamHarness()
        for fault in [FakeUpstream.Fault.status(503), .rateLimited(retryAfter: "7"), .slowFirstByte(.seconds(8)), .invalidBase64] {
            harness.fake.fault("mistral", fault)
            try await harness.run(configuration: fallbackModel, firstByteTimeout: .seconds(3)) { client, auth in
                let response = try await speech(client, auth, #"{"model":"test/fallback","input":"Hello.","voice":"alloy"}"#)
                #expect(response.status == .ok, "\(fault)")
                #expect(Array(response.body.readableBytesView) == FakeUpstream.pcm, "\(fault)")
                #expect(harness.fake.received("openai").count >= 1)
            }
        }
    }

    @Test func withoutFallbacksTheUpstreamErrorIsTranslated() async throws {
        let harness = UpstreamHarness()
        let noFallback = #"{"model":"test/fallback","input":"Hello.","voice":"alloy","provider":{"allow_fallbacks":false}}"#
        harness.fake.fault("mistral", .rateLimited(retryAfter: "7"))
        try await harness.run(configuration: fallbackModel) { client, auth in
            let response = try await speech(client, auth, noFallback)
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter] == "7")
            let error = try errorOf(response)
            #expect(error.metadata["provider_name"] == .string("Mistral"))
            #expect(harness.fake.received("openai").isEmpty, "no fallback was tried")
        }
        harness.fake.fault("mistral", .status(500))
        try await harness.run(configuration: fallbackModel) { client, auth in
            let response = try await speech(client, auth, noFallback)
            #expect(response.status == .badGateway)
            #expect(try errorOf(response).metadata["provider_name"] == .string("Mistral"))
            #expect(try errorOf(response).metadata["raw"] == .string(#"{"object":"error","message":"Service unavailable","type":"internal_error","param":null,"code":null}"#))
        }
        harness.fake.fault("mistral", .slowFirstByte(.seconds(3)))
        try await harness.run(configuration: fallbackModel, firstByteTimeout: .milliseconds(500)) { client, auth in
            let response = try await speech(client, auth, noFallback)
            #expect(response.status == .requestTimeout)
        }
        harness.fake.fault("google", .truncated)
        try await harness.run { client, auth in
            let response = try await speech(client, auth, #"{"model":"google/cloud-tts-neural2","input":"Hi."}"#)
            #expect(response.status == .badGateway)
            #expect(try errorOf(response).metadata["provider_name"] == .string("Google"))
        }
    }

    @Test func whenEveryEndpointFailsTheLastErrorIsReported() async throws {
        let harness = UpstreamHarness()
        harness.fake.fault("mistral", .status(503))
        harness.fake.fault("openai", .status(502))
        try await harness.run(configuration: fallbackModel) { client, auth in
            let response = try await speech(client, auth, #"{"model":"test/fallback","input":"Hello.","voice":"alloy"}"#)
            #expect(response.status == .badGateway)
            #expect(try errorOf(response).metadata["provider_name"] == .string("OpenAI"))
            #expect(harness.fake.received("mistral").count == 1 && harness.fake.received("openai").count == 1)
        }
    }

    @Test func aRejectedUpstreamKeyIs502AndNeverLeaks() async throws {
        // The fake echoes the Authorization it got, as OpenAI's 401 does; the gateway must scrub it.
        let fake = FakeUpstream()
        let fakeApp = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await fakeApp.test(.live) { upstream in
            let client = UpstreamClient()
            let provider = OpenAIProvider(baseURL: "http://127.0.0.1:\(upstream.port!)/v1", apiKey: "sk-wrong-key-9999", client: client)
            do {
                _ = try await provider.synthesize(
                    UpstreamRequest(model: "tts-1", input: "Hi.", voice: "alloy", format: .mp3, speed: nil, options: [:]))
                Issue.record("a refused key was accepted")
            } catch let error as ProviderError {
                #expect(error.kind == .credentials)
                #expect(APIError(error).status == .badGateway)
                #expect(error.raw?.contains("sk-wrong-key-9999") == false)
                #expect(error.raw?.contains("[redacted]") == true)
            }
            try await client.shutdown()
        }
    }

    /// Every form in which the fake's key could leak: as sent, JSON-escaped, percent-encoded.
    static let keyForms = [
        FakeUpstream.key, FakeUpstream.key.replacingOccurrences(of: "/", with: #"\/"#),
        FakeUpstream.key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
        FakeUpstream.key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!.lowercased(),
    ]

    /// A model of OpenAI's and one of ElevenLabs' (whose key travels in `xi-api-key`), with a voice of each.
    static let keyedModels = [
        ("openai", #"{"model":"openai/gpt-4o-mini-tts-2025-12-15","input":"Hello.","voice":"alloy"}"#),
        ("elevenlabs", #"{"model":"elevenlabs/eleven-multilingual-v2","input":"Hello.","voice":"21m00Tcm4TlvDq8ikWAM"}"#),
    ]

    @Test(arguments: keyedModels)
    func anUpstreamThatEchoesOurKeyNeverGetsItIntoTheResponse(provider: String, request: String) async throws {
        let harness = UpstreamHarness()
        harness.fake.fault(provider, .echoingKey)
        try await harness.run { client, auth in
            let response = try await speech(client, auth, request)
            #expect(response.status == .badGateway)
            let body = String(buffer: response.body)
            #expect(body.contains("[redacted]"), "the upstream's message is still there, without the key: \(body)")
            for form in Self.keyForms {
                #expect(!body.contains(form), "\(form) in \(body)")
            }
        }
        // What is logged of a failure is the error's description, and its raw body.
        let upstream = Application(
            router: harness.fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await upstream.test(.live) { fake in
            let client = UpstreamClient()
            let openAI = OpenAIProvider(baseURL: "http://127.0.0.1:\(fake.port!)/v1", apiKey: FakeUpstream.key, client: client)
            harness.fake.fault("openai", .echoingKey)
            do {
                _ = try await openAI.synthesize(
                    UpstreamRequest(model: "tts-1", input: "Hi.", voice: "alloy", format: .mp3, speed: nil, options: [:]))
                Issue.record("a refused key was accepted")
            } catch let error as ProviderError {
                for form in Self.keyForms {
                    #expect(!"\(error)".contains(form) && !(error.raw ?? "").contains(form), "\(form) in \(error)")
                }
            }
            try await client.shutdown()
        }
    }

    @Test func anUpstreamRedirectIsNotFollowedAndIsA502() async throws {
        let harness = UpstreamHarness()
        harness.fake.fault("elevenlabs", .redirect)
        harness.fake.fault("openai", .redirect)
        try await harness.run { client, auth in
            for (_, request) in Self.keyedModels {
                let response = try await speech(client, auth, request)
                #expect(response.status == .badGateway)
                let error = try errorOf(response)
                #expect(error.message.contains("307"), "\(error.message)")
                #expect(error.metadata["provider_code"] == .number(307))
            }
            #expect(harness.fake.received("elevenlabs").count == 1 && harness.fake.received("openai").count == 1)
            #expect(harness.fake.received("stolen").isEmpty, "the other host received the key and the body")
        }
    }

    @Test func longInputIsSplitAtSentencesAndEncodedAsOneStream() async throws {
        let harness = UpstreamHarness()
        // The model may take 20,000 characters; OpenAI takes 4,096 per request.
        let longer = GatewayConfiguration(models: ["openai/gpt-4o-mini-tts-2025-12-15": .init(contextLength: 20_000)])
        try await harness.run(configuration: longer) { client, auth in
            let sentence = "This sentence is part of a long input that no single upstream request may carry. "
            let input = String(repeating: sentence, count: 110)  // ~9,000 characters
            let response = try await speech(client, auth, """
                {"model":"openai/gpt-4o-mini-tts-2025-12-15","input":"\(input)","response_format":"mp3"}
                """)
            #expect(response.status == .ok)
            let sent = harness.fake.received("openai").map { try? fields($0.body) }
            #expect(sent.count == 3)
            for request in sent {
                guard case .string(let piece)? = request?["input"] else { throw HTTPError(.badRequest) }
                #expect(piece.count <= 4_096)
                #expect(piece.hasSuffix("carry."), "each piece ends at a sentence")
                #expect(request?["response_format"] == .string("wav"), "pieces come as WAV, at their stated rate, and are encoded once")
            }
            // Three seconds of tone encoded by one LAME stream: frames only, no second header.
            let bytes = Array(response.body.readableBytesView)
            #expect(bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
            #expect(abs(bytes.count - 3 * 64_000 / 8) < 2_000, "\(bytes.count) bytes is 3 s at 64 kbps")
        }
    }

    @Test func onlyModelsWithConfiguredCredentialsAreListed() async throws {
        let store = try await AccountStore.open(
            databaseURL: nil, dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path,
            instance: "t", logger: Logger(label: "t"))
        let client = UpstreamClient()
        let none = Gateway(engines: [], providers: [:], store: store)
        #expect(none.catalog.models.isEmpty)
        let openAI = Gateway(
            engines: [], providers: UpstreamCatalog.providers(environment: ["OPENAI_API_KEY": "k"], client: client), store: store)
        #expect(openAI.catalog.models.map(\.id) == ["openai/gpt-4o-mini-tts-2025-12-15"])
        let azureNeedsARegion = UpstreamCatalog.providers(environment: ["AZURE_SPEECH_KEY": "k"], client: client)
        #expect(azureNeedsARegion.isEmpty)
        try await client.shutdown()
        try await store.close()
    }
}
