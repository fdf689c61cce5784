import AsyncHTTPClient
import AudioPipeline
import NIOCore
import Synchronization
import Testing

@testable import Providers
@testable import SpeechCore

/// Ten sentences, each of which `SentenceLevels` speaks as a level of its own.
private let sentences = (1...10).map { "Sentence number \($0) is here." }
private let input = sentences.joined(separator: " ")
/// Samples per sentence at 24 kHz.
private let sentenceSamples = 2_400

/// An upstream in this process that speaks each of `sentences` in its input as a constant
/// level, 1000 × its number, for `sentenceSamples` samples of 24 kHz PCM; after `breaksAfter`
/// samples in all it dies: the body in flight breaks off there, and new requests are refused.
private final class SentenceLevels: SpeechProvider {
    let slug = "openai"
    let name: String
    let speedRange: ClosedRange<Double>? = nil
    let maxInputCharacters = 4_096
    let passthroughFormats: Set<AudioFormat> = [.mp3]
    let breaksAfter: Int?
    private let state = Mutex((sent: 0, inputs: [String]()))

    init(_ name: String, breaksAfter: Int? = nil) {
        self.name = name
        self.breaksAfter = breaksAfter
    }

    /// The inputs of its requests, in order.
    var inputs: [String] { state.withLock { $0.inputs } }

    func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        let samples = sentences.enumerated().filter { request.input.contains($0.element) }.flatMap { place, _ in
            [Int16](repeating: Int16(1_000 * (place + 1)), count: sentenceSamples)
        }
        let (count, breaks) = state.withLock { state in
            state.inputs.append(request.input)
            let count = min(samples.count, max((breaksAfter ?? .max) - state.sent, 0))
            state.sent += count
            return (count, count < samples.count)
        }
        if breaks && count == 0 {
            throw ProviderError(.unreachable, provider: name, message: "\(name) could not be reached")
        }
        let bytes = PCMEncoder().encode(Array(samples.prefix(count)))
        let body = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            for start in stride(from: 0, to: bytes.count, by: 1_000) {
                continuation.yield(ByteBuffer(bytes: bytes[start..<min(start + 1_000, bytes.count)]))
            }
            continuation.finish(throwing: breaks ? HTTPClientError.remoteConnectionClosed : nil)
        }
        return UpstreamStream(
            body: .stream(body), decoder: PCM16Decoder(rate: 24_000), provider: name, secret: UpstreamSecret(""))
    }
}

/// The levels of `pcm` (s16le) in order, each with how many samples it lasts.
private func levels(_ pcm: [UInt8]) -> [(level: Int16, samples: Int)] {
    var runs: [(level: Int16, samples: Int)] = []
    for index in stride(from: 0, to: pcm.count - 1, by: 2) {
        let sample = Int16(bitPattern: UInt16(pcm[index]) | UInt16(pcm[index + 1]) << 8)
        if runs.last?.level == sample { runs[runs.count - 1].samples += 1 } else { runs.append((sample, 1)) }
    }
    return runs
}

/// What `endpoints` stream for the ten sentences as pcm: the bytes until the end or the error.
private func speak(
    _ providers: [SentenceLevels], progress: SpeechProgress
) async -> (pcm: [UInt8], error: (any Error)?) {
    let model = SpeechModel(
        id: "test/fleet", name: "Fleet", description: "", created: 0, contextLength: 4_096, pricePerCharacter: "0",
        voices: ["alloy"], defaultVoice: "alloy", supportsSpeed: false)
    let speech = ResolvedSpeech(
        model: model, voice: "alloy", request: SpeechRequest(model: model.id, input: input, responseFormat: .pcm))
    let stream = UpstreamAudioStream(
        endpoints: providers.map { ProviderEndpoint(provider: $0, model: "tts") }, speech: speech, progress: progress,
        serving: ServingProvider())
    var pcm: [UInt8] = []
    do {
        for try await chunk in stream { pcm += chunk }
    } catch {
        return (pcm, error)
    }
    return (pcm, nil)
}

@Suite struct MidstreamFailoverTests {
    let characters = sentences.map(\.unicodeScalars.count).reduce(0, +)

    @Test func anUpstreamThatDiesAfterThreeSentencesIsFollowedByTheNextFromTheFourth() async throws {
        let a = SentenceLevels("A", breaksAfter: 3 * sentenceSamples)
        let b = SentenceLevels("B")
        let progress = SpeechProgress()
        let (pcm, error) = await speak([a, b], progress: progress)
        #expect(error == nil)
        let runs = levels(pcm)
        #expect(runs.map(\.level) == (1...10).map { Int16($0 * 1_000) }, "every sentence once, in order")
        #expect(runs.allSatisfy { $0.samples == sentenceSamples })
        // A sentence a request; A's fourth was refused, and B went on from there.
        #expect(a.inputs == Array(sentences[0..<4]))
        #expect(b.inputs == Array(sentences[3...]))
        #expect(progress.spokenCharacters == characters)
        #expect(progress.incurredCharacters == characters)
    }

    @Test func aSentenceCutPartwayIsSpokenAgainFromItsStart() async throws {
        let a = SentenceLevels("A", breaksAfter: 3 * sentenceSamples + sentenceSamples / 2)
        let b = SentenceLevels("B")
        let progress = SpeechProgress()
        let (pcm, error) = await speak([a, b], progress: progress)
        #expect(error == nil)
        let runs = levels(pcm)
        #expect(runs.map(\.level) == (1...10).map { Int16($0 * 1_000) })
        // Half of the fourth from A, then all of it from B.
        #expect(runs.map(\.samples) == [2_400, 2_400, 2_400, 3_600, 2_400, 2_400, 2_400, 2_400, 2_400, 2_400])
        #expect(b.inputs.first == sentences[3])
        // Its characters are counted once, though two upstreams spoke them.
        #expect(progress.incurredCharacters == characters)
    }

    @Test func withNoEndpointLeftTheStreamEndsAtTheBreak() async throws {
        let a = SentenceLevels("A", breaksAfter: 3 * sentenceSamples)
        let b = SentenceLevels("B", breaksAfter: 2 * sentenceSamples)
        let progress = SpeechProgress()
        let (pcm, error) = await speak([a, b], progress: progress)
        #expect((error as? ProviderError)?.provider == "B")
        #expect(levels(pcm).map(\.level) == (1...5).map { Int16($0 * 1_000) })
        // Five sentences whole; the sixth was B's last request, which it refused.
        #expect(progress.spokenCharacters == sentences[0..<5].map(\.unicodeScalars.count).reduce(0, +))
    }

    @Test func oneEndpointGetsTheWholeInputInOneRequestAsBefore() async throws {
        let a = SentenceLevels("A", breaksAfter: 3 * sentenceSamples)
        let (pcm, error) = await speak([a], progress: SpeechProgress())
        #expect(error is ProviderError)
        #expect(a.inputs == [input])
        #expect(levels(pcm).map(\.level) == [1_000, 2_000, 3_000])
    }
}

@Suite struct LeadingID3TagTests {
    /// An ID3v2 tag of `size` bytes after its header (size as four 7-bit bytes).
    func tag(size: Int, footer: Bool = false) -> [UInt8] {
        let header: [UInt8] = [0x49, 0x44, 0x33, 4, 0, footer ? 0x10 : 0]
            + [UInt8(size >> 21 & 0x7F), UInt8(size >> 14 & 0x7F), UInt8(size >> 7 & 0x7F), UInt8(size & 0x7F)]
        return header + [UInt8](repeating: 0xAA, count: size + (footer ? 10 : 0))
    }

    let frames: [UInt8] = [0xFF, 0xFB, 0x90, 0x64] + [UInt8](repeating: 1, count: 20)

    @Test func theFirstPieceKeepsItsTagAndTheNextLoseTheirs() {
        var tags = LeadingID3Tag()
        #expect(tags.strip(tag(size: 300) + frames) == tag(size: 300) + frames)
        tags.pieceBegins()
        #expect(tags.strip(tag(size: 300) + frames) == frames)
        tags.pieceBegins()
        #expect(tags.strip(tag(size: 20, footer: true) + frames) == frames)
        // Without a tag, a piece passes whole; so do the chunks after a piece's first.
        tags.pieceBegins()
        #expect(tags.strip(frames) == frames)
        #expect(tags.strip(tag(size: 5)) == tag(size: 5))
    }

    @Test func aTagLongerThanItsChunkIsDroppedAcrossChunks() {
        var tags = LeadingID3Tag()
        tags.pieceBegins()
        let whole = tag(size: 1_000) + frames
        #expect(tags.strip(Array(whole[0..<400])) == [])
        #expect(tags.strip(Array(whole[400..<900])) == [])
        #expect(tags.strip(Array(whole[900...])) == frames)
        #expect(tags.strip(frames) == frames)
    }
}
