import Accounts
import Foundation
import NIOCore
import SpeechRouterClient
import Testing

/// Twenty-four sentences: long enough that the server sends the audio in many pieces.
let longText = (1...24).map { "Sentence number \($0) is here, and it says a few words more." }.joined(separator: " ")

extension SpeechRouter {
    /// A client for a test gateway that ignores the environment of the machine running the tests.
    init(test baseURL: String, key: String?) throws {
        try self.init(apiKey: key, baseURL: baseURL, environment: [:])
    }
}

@Suite struct SpeechRouterClientTests {
    @Test func longInputArrivesInChunksThatMakeOneValidMp3() async throws {
        let test = try await LiveGateway.make()
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)
            let audio = try await client.tts.createSpeech(
                SpeechRequest(model: "local/flite", input: longText, voice: "slt", responseFormat: .mp3))
            #expect(audio.contentType == "audio/mpeg")
            var chunks: [ByteBuffer] = []
            for try await chunk in audio { chunks.append(chunk) }
            #expect(chunks.count >= 5, "\(chunks.count) chunks")

            let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).mp3").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(chunks.flatMap { $0.readableBytesView }).write(to: URL(fileURLWithPath: path))
            let probe = try await AudioProbe.probe(path)
            #expect(probe.codec == "mp3")
            #expect(probe.sampleRate == 24_000)
            #expect((24.0...150.0).contains(probe.seconds), "\(probe.seconds) s for 24 sentences")

            let id = try #require(audio.generationID)
            _ = try await test.finishedGeneration(id: id)
            let generation = try await client.generation(id: id)
            #expect(generation.id == id)
            #expect(generation.model == "local/flite")
            #expect(generation.apiType == "tts")
            #expect(generation.tokensPrompt == longText.unicodeScalars.count)
            #expect(generation.finishReason == "stop")
            #expect(generation.totalCost == 0)
        }
    }

    @Test func modelsAndTheKeysLimitAndUsageDecode() async throws {
        let test = try await LiveGateway.make(fliteCharacterPrice: "0.00001", keyLimit: 2.5)
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)
            let models = try await client.models.list()
            #expect(Array(models.map(\.id).prefix(2)) == ["local/espeak-ng", "local/flite"])
            let flite = try #require(models.first { $0.id == "local/flite" })
            #expect(flite.pricing.prompt == "0.00001")
            #expect(flite.supportedVoices.contains("slt") && flite.supportedVoices.contains("alloy"))
            #expect(flite.outputModalities == ["speech"])
            #expect(flite.contextLength == 100_000)
            #expect(try await client.models.list(outputModalities: "text").isEmpty)
            #expect(try await client.models.get(id: "local/espeak-ng").supportedVoices.contains("de"))

            let key = try await client.key()
            #expect(key.limit == 2.5)
            #expect(key.limitRemaining == 2.5)
            #expect(key.usage == 0)
            #expect(key.isManagementKey == false)
            #expect(key.label.hasPrefix("sk-sr-v1-"))
        }
    }

    @Test func everyErrorStatusArrivesAsATypedErrorWithTheServersMessage() async throws {
        let test = try await LiveGateway.make()
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)

            let badSpeed = try await apiError {
                _ = try await client.tts.createSpeech(SpeechRequest(model: "local/flite", input: "Hi.", speed: 7))
            }
            #expect(badSpeed.kind == .badRequest && badSpeed.code == 400)
            #expect(badSpeed.message.contains("Invalid 'speed'"), "\(badSpeed.message)")
            #expect(badSpeed.metadata["param"] == "speed")
            #expect(badSpeed.metadata["error_type"] == "invalid_request")

            let unknownVoice = try await apiError {
                _ = try await client.tts.createSpeech(SpeechRequest(model: "local/flite", input: "Hi.", voice: "zzz"))
            }
            #expect(unknownVoice.message.hasPrefix("Voice 'zzz' is not available for local/flite; available voices:"))

            let missingKey = try await apiError { _ = try await SpeechRouter(test: baseURL, key: nil).key() }
            #expect(missingKey.kind == .unauthorized && missingKey.message == "Missing Authentication header")
            let wrongKey = try await apiError {
                _ = try await SpeechRouter(test: baseURL, key: "sk-sr-v1-" + String(repeating: "0", count: 64)).tts
                    .createSpeech(SpeechRequest(model: "local/flite", input: "Hi."))
            }
            #expect(wrongKey.status == 401 && wrongKey.message == "Invalid API key")

            let unknownGeneration = try await apiError { _ = try await client.generation(id: "gen-tts-0-unknown") }
            #expect(unknownGeneration.kind == .notFound && unknownGeneration.message == "Generation not found")

            let tooLarge = try await apiError {
                _ = try await client.tts.createSpeech(
                    SpeechRequest(model: "local/flite", input: String(repeating: "a", count: 64_000_000)))
            }
            #expect(tooLarge.kind == .payloadTooLarge && tooLarge.code == 413)
            #expect(tooLarge.message == "Request body exceeds the limit of 63963136 bytes")
        }
    }

    @Test func aKeyOverItsLimitGets402() async throws {
        let test = try await LiveGateway.make(fliteCharacterPrice: "0.00001", keyLimit: 0.0001)
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)
            let error = try await apiError {
                _ = try await client.tts.createSpeech(SpeechRequest(model: "local/flite", input: longText))
            }
            #expect(error.kind == .paymentRequired && error.status == 402)
            #expect(error.message.hasPrefix("Key limit exceeded"), "\(error.message)")
            #expect(error.metadata["error_type"] == "payment_required")
        }
    }

    @Test func aRateLimitedKeyGets429WithRetryAfter() async throws {
        let test = try await LiveGateway.make(requestsPerMinute: 1)
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)
            _ = try await client.key()
            let error = try await apiError { _ = try await client.key() }
            #expect(error.kind == .rateLimited && error.code == 429)
            #expect(error.metadata["error_type"] == "rate_limit_exceeded")
            #expect((1...60).contains(try #require(error.retryAfter)))
            #expect(!error.message.isEmpty)
        }
    }

    @Test func stoppingEarlyCancelsTheRequest() async throws {
        let test = try await LiveGateway.make()
        let text = String(repeating: longText + " ", count: 20)
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)

            // Leaving the loop drops the iterator.
            let audio = try await client.tts.createSpeech(SpeechRequest(model: "local/flite", input: text))
            for try await _ in audio { break }
            let dropped = try await test.finishedGeneration(id: try #require(audio.generationID))
            #expect(dropped.status == .cancelled)
            #expect(dropped.spokenCharacters < dropped.characters)

            // Cancelling the task that reads.
            let (ids, idSink) = AsyncStream.makeStream(of: String.self)
            let reader = Task {
                let audio = try await client.tts.createSpeech(SpeechRequest(model: "local/flite", input: text))
                idSink.yield(audio.generationID ?? "")
                for try await _ in audio { try await Task.sleep(for: .milliseconds(10)) }
            }
            var iterator = ids.makeAsyncIterator()
            let id = try #require(await iterator.next())
            reader.cancel()
            await #expect(throws: (any Error).self) { try await reader.value }
            let cancelled = try await test.finishedGeneration(id: id)
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.spokenCharacters < cancelled.characters)
        }
    }

    @Test func configurationComesFromArgumentsThenEnvironment() throws {
        let local = try SpeechRouter(environment: ["SPEECHROUTER_API_KEY": "sk-sr-v1-a"])
        #expect(local.baseURL == SpeechRouter.defaultBaseURL && local.apiKey == "sk-sr-v1-a")

        let openRouter = try SpeechRouter(environment: ["OPENROUTER_API_KEY": "sk-or-v1-b"])
        #expect(openRouter.baseURL == "https://openrouter.ai/api/v1" && openRouter.apiKey == "sk-or-v1-b")

        // An OpenRouter key never goes to another server.
        let elsewhere = try SpeechRouter(
            environment: ["SPEECHROUTER_BASE_URL": "http://gateway:8080/", "OPENROUTER_API_KEY": "sk-or-v1-b"])
        #expect(elsewhere.baseURL == "http://gateway:8080/api/v1" && elsewhere.apiKey == nil)

        let explicit = try SpeechRouter(
            apiKey: "k", baseURL: "http://127.0.0.1:9000/v1",
            environment: ["SPEECHROUTER_BASE_URL": "http://gateway:8080", "SPEECHROUTER_API_KEY": "other"])
        #expect(explicit.baseURL == "http://127.0.0.1:9000/v1" && explicit.apiKey == "k")

        #expect(throws: ClientError.invalidBaseURL("gateway:8080")) {
            try SpeechRouter(baseURL: "gateway:8080", environment: [:])
        }
    }

    @Test func requestsEncodeToOpenRoutersSnakeCaseJSON() throws {
        let request = SpeechRequest(
            model: "openai/gpt-4o-mini-tts", input: "Hi", voice: "alloy", responseFormat: .mp3, speed: 1.5,
            providerOptions: ["openai": ["instructions": "Speak warmly."]])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(
            String(decoding: try encoder.encode(request), as: UTF8.self)
                == #"{"input":"Hi","model":"openai\/gpt-4o-mini-tts","provider":{"options":{"openai":{"instructions":"Speak warmly."}}},"response_format":"mp3","speed":1.5,"voice":"alloy"}"#
        )
        #expect(
            String(decoding: try encoder.encode(SpeechRequest(model: "m", input: "i")), as: UTF8.self)
                == #"{"input":"i","model":"m","response_format":"pcm"}"#)
    }
}

/// The `APIError` that `body` throws; anything else it throws, or nothing, fails the test.
func apiError(_ body: () async throws -> Void) async throws -> APIError {
    do {
        try await body()
    } catch let error as APIError {
        return error
    }
    throw TestFailure("expected an APIError, got success")
}
