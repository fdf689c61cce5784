import Accounts
import Foundation
import SpeechRouterClient
import Testing

@testable import SpeechServer

/// The server's typed responses, read back through the client's own `Decodable` models.
@Suite struct ResponseSchemaTests {
    @Test func modelsDecodeWithEveryFieldTheClientReads() async throws {
        let test = try await LiveGateway.make(fliteCharacterPrice: "0.00001")
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)
            let flite = try await client.models.get(id: "local/flite")
            #expect(flite.id == "local/flite")
            #expect(!flite.name.isEmpty && flite.name != flite.id)
            #expect(!flite.description.isEmpty)
            #expect(flite.contextLength == 100_000)
            #expect(flite.pricing.prompt == "0.00001" && flite.pricing.completion == "0")
            #expect(flite.inputModalities == ["text"] && flite.outputModalities == ["speech"])
            #expect(flite.supportedParameters.contains("voice") && flite.supportedParameters.contains("response_format"))
            #expect(try await client.models.list().contains(flite))
        }
    }

    @Test func theCurrentKeyDecodesWithItsLimitResetAndExpiry() async throws {
        let test = try await LiveGateway.make(fliteCharacterPrice: "0.00001")
        let expiry = Date(timeIntervalSince1970: 2_000_000_000)
        let (_, secret) = try await test.store.createKey(
            KeySettings(name: "weekly", limit: Nanodollars(usd: 1.5), limitReset: .weekly, expiresAt: expiry))
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: secret.value)
            let audio = try await client.tts.createSpeech(.init(model: "local/flite", input: "Ten chars.", voice: "slt"))
            for try await _ in audio {}
            _ = try await test.finishedGeneration(id: try #require(audio.generationID))
            let key = try await client.key()
            #expect(key.label == secret.label)
            #expect(key.limit == 1.5)
            #expect(key.limitRemaining == 1.4999)
            #expect(key.limitReset == "weekly")
            #expect(key.usage == 0.0001)
            #expect(key.usageDaily == 0.0001 && key.usageWeekly == 0.0001 && key.usageMonthly == 0.0001)
            #expect(key.isFreeTier == false)
            #expect(key.isManagementKey == false)
            #expect(key.expiresAt == "2033-05-18T03:33:20Z")
        }
    }

    @Test func aFinishedGenerationDecodes() async throws {
        let test = try await LiveGateway.make(fliteCharacterPrice: "0.00001")
        try await test.run { baseURL in
            let client = try SpeechRouter(test: baseURL, key: test.key)
            let audio = try await client.tts.createSpeech(.init(model: "local/flite", input: "Ten chars.", voice: "slt"))
            for try await _ in audio {}
            let record = try await test.finishedGeneration(id: try #require(audio.generationID))
            let generation = try await client.generation(id: record.id)
            #expect(generation.id == record.id)
            #expect(generation.model == "local/flite")
            #expect(generation.providerName == record.provider)
            #expect(generation.createdAt == ISO8601DateFormatter().string(from: record.startedAt))
            #expect(generation.totalCost == 0.0001)
            #expect(generation.tokensPrompt == 10)
            #expect(generation.apiType == "tts")
            #expect(generation.streamed == true && generation.cancelled == false)
            #expect(try #require(generation.latency) >= 0)
            #expect(try #require(generation.generationTime) >= generation.latency!)
            #expect(generation.finishReason == "stop")
        }
    }

    @Test func aRunningGenerationsNullsDecodeAsAbsent() throws {
        struct Envelope: Decodable { var data: Generation }
        var record = GenerationRecord(
            id: "gen-1", keyHash: "h", model: "local/flite", provider: "Flite", voice: "slt", format: "mp3",
            characters: 4, startedAt: Date(timeIntervalSince1970: 1_700_000_000))
        let running = try JSONDecoder().decode(Envelope.self, from: JSONEncoder().encode(DataEnvelope(data: GenerationInfo(record)))).data
        #expect(running.latency == nil && running.generationTime == nil && running.finishReason == nil)
        #expect(running.createdAt == "2023-11-14T22:13:20Z")

        record.status = .cancelled
        record.firstByteAt = record.startedAt.addingTimeInterval(0.0123)
        record.finishedAt = record.startedAt.addingTimeInterval(1.5)
        let cancelled = try JSONDecoder().decode(Envelope.self, from: JSONEncoder().encode(DataEnvelope(data: GenerationInfo(record)))).data
        #expect(cancelled.latency == 12 && cancelled.generationTime == 1_500)
        #expect(cancelled.cancelled == true && cancelled.finishReason == "cancelled")
    }
}
