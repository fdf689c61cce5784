import Foundation
import SpeechCore
import Synchronization
import Testing

@testable import AudioPipeline

/// An engine for testing the pipeline alone: one 440 Hz tone of 10 ms per character (or
/// `secondsPerCharacter`) at 16 kHz, with a delay, recording how many pieces run at once.
final class ToneEngine: SpeechEngine {
    let model = SpeechModel(
        id: "test/tone", name: "Tone", description: "", created: 0, contextLength: 100_000,
        pricePerCharacter: "0", voices: ["a"], defaultVoice: "a", supportsSpeed: false)
    let parallelism: Int
    let queuedPieces: Int
    let delay: Duration
    /// Pieces holding this word give no samples, as an engine's do when nothing in them is speakable.
    let silentWord: String?
    let secondsPerCharacter: Double
    /// Seconds of silence before and after each piece's tone, as engines leave around an utterance.
    let padding: Double
    /// What one piece carried when the engine was called with it.
    struct PieceRecord {
        let text: String
        /// Its `SynthesisDeadline` then, and the deadline itself (as it is now: it may have moved).
        let due: ContinuousClock.Instant?
        let moving: PieceDeadline?
        let opening: SynthesisOpening?
        /// When the engine was called.
        let at: ContinuousClock.Instant
    }
    private let state = Mutex((running: 0, peak: 0, calls: [String](), deadlines: [PieceRecord]()))

    init(
        parallelism: Int, queuedPieces: Int = 0, delay: Duration = .milliseconds(20), silentWord: String? = nil,
        secondsPerCharacter: Double = 0.01, padding: Double = 0
    ) {
        self.padding = padding
        self.parallelism = parallelism
        self.queuedPieces = queuedPieces
        self.delay = delay
        self.silentWord = silentWord
        self.secondsPerCharacter = secondsPerCharacter
    }

    var peak: Int { state.withLock { $0.peak } }
    var calls: [String] { state.withLock { $0.calls } }
    /// Each piece's record, in the order the engine was called.
    var deadlines: [PieceRecord] { state.withLock { $0.deadlines } }

    /// The records of `pieces` (texts), in that order: pieces started together may reach the
    /// engine in either order.
    func records(of pieces: [String]) throws -> [PieceRecord] {
        let all = deadlines
        return try pieces.map { text in try #require(all.first { $0.text == text }, "no piece \(text)") }
    }

    func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        state.withLock {
            $0.running += 1
            $0.peak = max($0.peak, $0.running)
            $0.calls.append(text)
            $0.deadlines.append(
                PieceRecord(
                    text: text, due: SynthesisDeadline.current?.instant, moving: SynthesisDeadline.current,
                    opening: SynthesisDeadline.opening, at: .now))
        }
        defer { state.withLock { $0.running -= 1 } }
        try await Task.sleep(for: delay)
        if let silentWord, text.contains(silentWord) { return PCMAudio(samples: [], sampleRate: 16_000) }
        let silence = [Int16](repeating: 0, count: Int(padding * 16_000))
        return PCMAudio(
            samples: silence + tone(seconds: Double(text.count) * secondsPerCharacter, rate: 16_000) + silence,
            sampleRate: 16_000)
    }
}

/// The pause between sentences, in samples at 24 kHz (the tone engine's pieces end loud).
let sentencePauseSamples = Int(PipelineState.sentencePause / .milliseconds(1)) * 24

@Suite struct SpeechAudioStreamTests {
    let text = (1...12).map { "Sentence number \($0) is here." }.joined(separator: " ")

    @Test func everyPieceArrivesInOrderAsItsOwnChunk() async throws {
        let engine = ToneEngine(parallelism: 2)
        let progress = SpeechProgress()
        var chunks: [[UInt8]] = []
        for try await chunk in SpeechAudioStream(
            engine: engine, text: text, voice: "a", speed: 1, format: .pcm, progress: progress)
        {
            chunks.append(chunk)
        }
        #expect(chunks.count >= 12, "one chunk per sentence, plus the resampler's tail")
        let samples = chunks.reduce(0) { $0 + $1.count } / 2
        // 10 ms a character at 24 kHz, and a sentence pause between each two of the 12 sentences.
        let expected = SentenceSplitter(text).reduce(0) { $0 + $1.count } * 240 + 11 * sentencePauseSamples
        #expect(abs(samples - expected) <= 48)
        // (Two pieces start together and may reach the engine in either order.)
        #expect(engine.calls.sorted() == SentenceSplitter(text).map(String.init).sorted())
        // Every character of the input counts as spoken, the spaces between pieces too.
        #expect(progress.spokenCharacters == text.unicodeScalars.count)
    }

    @Test func eachPieceIsDueWhenItsListenerWouldRunOutOfAudio() async throws {
        let engine = ToneEngine(parallelism: 1)
        for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {}
        let deadlines = engine.deadlines
        let sentences = SentenceSplitter(text).map(String.init)
        try #require(deadlines.count == sentences.count && deadlines.allSatisfy { $0.due != nil })
        // Before any audio has left, the first piece is due at once.
        #expect(deadlines[0].due! <= deadlines[0].at)
        // Afterwards each piece is due later than the one before by the audio made in between:
        // with one piece in flight, piece k starts once piece k - 1 is made, and is moved to
        // count the pause written after it (the deadlines as they ended).
        for k in 2..<sentences.count {
            let made = Duration.milliseconds(10 * sentences[k - 1].count) + PipelineState.sentencePause
            let gap = deadlines[k].moving!.instant - deadlines[k - 1].moving!.instant
            #expect(abs((gap - made) / .milliseconds(1)) <= 2, "piece \(k): \(gap) apart, \(made) made")
        }
    }

    /// The scheduler keeps a stream's first two pieces together while many streams start: the
    /// first is marked as such, the second with the first's deadline, the rest not at all.
    @Test func aStreamsFirstTwoPiecesAreMarkedAsItsOpening() async throws {
        let engine = ToneEngine(parallelism: 2, queuedPieces: 1)
        for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {}
        let sentences = SentenceSplitter(text).map(String.init)
        try #require(engine.deadlines.count == sentences.count)
        let pieces = try engine.records(of: sentences)
        #expect(pieces[0].opening == .first)
        let firstDue = try #require(pieces[0].due)
        #expect(pieces[1].opening == .second(firstDue: firstDue))
        #expect(pieces.dropFirst(2).allSatisfy { $0.opening == nil })
    }

    @Test func aPieceQueuedAheadIsDueWhenItsListenerWillNeedIt() async throws {
        // 60 ms of audio a character: each sentence is about 3 s of audio, well past the margin.
        let engine = ToneEngine(parallelism: 2, secondsPerCharacter: 0.06)
        let text = (1...8).map { "Sentence number \($0) is here, and it goes on a while." }.joined(separator: " ")
        var firstAudioAt: ContinuousClock.Instant?
        for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {
            if firstAudioAt == nil { firstAudioAt = .now }
        }
        let sentences = SentenceSplitter(text).map(String.init)
        try #require(engine.deadlines.count == sentences.count)
        let deadlines = try engine.records(of: sentences)
        try #require(deadlines.allSatisfy { $0.due != nil })
        let first = try #require(firstAudioAt)
        // The first piece is due at once; the one started beside it only after the first's audio
        // (guessed before anything was measured at less than it made), not at once too.
        #expect(deadlines[0].due! <= deadlines[0].at)
        // (Compared with the first piece's deadline, not with when the engine saw the piece: a busy
        // machine may start the task long after its deadline was set.)
        #expect(deadlines[1].due! > deadlines[0].due! + .seconds(1))
        // Each later piece is due when a listener who started at the first audio has heard the
        // pieces and pauses before it, less the margin and at most the two pauses not yet made
        // (after the piece being written and the one in flight); never later.
        // The test sees the first audio a little after the stream does (more on a busy machine);
        // a second is still a third of a piece, and the old deadlines were two pieces early.
        let tolerance = Duration.seconds(1)
        for k in 2..<sentences.count {
            let before = sentences[..<k].reduce(Duration.zero) { $0 + .milliseconds(60 * $1.count) }
            let needed = first + before + PipelineState.sentencePause * k
            let due = deadlines[k].due!
            #expect(due <= needed, "piece \(k) due after its listener needs it")
            #expect(
                due >= needed - PipelineState.deadlineMargin - PipelineState.sentencePause * 2 - tolerance,
                "piece \(k) due \(needed - due) before its listener needs it")
        }
    }

    /// The pieces started beside the first are due by a guess until the first audio leaves; then
    /// from it, at the rate the stream really speaks.
    @Test func aPieceStartedBeforeTheFirstAudioIsThenDueFromIt() async throws {
        // 60 ms of audio a character, more than the 40 ms guessed; the first audio 300 ms after the start.
        let engine = ToneEngine(parallelism: 2, queuedPieces: 1, delay: .milliseconds(300), secondsPerCharacter: 0.06)
        let text = (1...6).map { "Sentence number \($0) is here, and it goes on a while." }.joined(separator: " ")
        var firstAudioAt: ContinuousClock.Instant?
        for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {
            if firstAudioAt == nil { firstAudioAt = .now }
        }
        let sentences = SentenceSplitter(text).map(String.init)
        try #require(engine.deadlines.count == sentences.count && sentences.count >= 3)
        let pieces = try engine.records(of: sentences)
        let first = try #require(firstAudioAt)
        let audio = sentences.map { Duration.milliseconds(60 * $0.count) }
        // Pieces 1 and 2 started with the first; once its audio left (the test sees it a little
        // later than the stream), each is due when a listener who started then has heard what
        // comes before it (the first piece and its pause; then piece 1 and its pause), less the margin.
        for (k, before) in [(1, audio[0]), (2, audio[0] + audio[1])] {
            let started = try #require(pieces[k].due)
            let now = try #require(pieces[k].moving?.instant)
            let needed = first + before + PipelineState.sentencePause * k - PipelineState.deadlineMargin
            #expect(now <= needed, "piece \(k) due \(now - needed) after its listener needs it")
            #expect(now >= needed - .milliseconds(500), "piece \(k) due \(needed - now) early")
            // At its start it was due by the guess, from the start: far earlier.
            #expect(now - started >= .milliseconds(500), "piece \(k) moved by \(now - started)")
        }
    }

    @Test func piecesGrowFromTheEnginesFirstPieceLength() async throws {
        let engine = ToneEngine(parallelism: 1, delay: .zero)
        let text = String(repeating: "word ", count: 400)
        for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {}
        let lengths = engine.calls.map(\.count)
        // The tone engine's first piece holds up to 160 characters; then 320, then 400 each.
        try #require(lengths.count >= 4)
        #expect(lengths[0] <= 160 && lengths[0] > 150)
        #expect(lengths[1] <= 320 && lengths[1] > 310)
        #expect(lengths.dropFirst(2).dropLast().allSatisfy { $0 <= 400 && $0 > 390 })
        #expect(engine.calls.joined(separator: " ") == text.trimmingCharacters(in: .whitespaces))
    }

    /// A sentence cut into pieces (the first piece is short) joins without the pause the engine
    /// leaves around each piece; a sentence's end keeps its pause.
    @Test func aSentenceCutIntoPiecesJoinsWithoutTheEnginesPauses() async throws {
        let engine = ToneEngine(parallelism: 2, delay: .zero, padding: 0.3)
        let text = String(repeating: "word ", count: 60) + "end. Then a short one."
        var bytes: [UInt8] = []
        for try await chunk in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {
            bytes += chunk
        }
        #expect(engine.calls.count == 3, "\(engine.calls)")
        let samples = stride(from: 0, to: bytes.count - 1, by: 2).map {
            Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)
        }
        // The silences between sounds, in seconds: where the sentence was cut, then its end.
        var gaps: [Double] = []
        var quiet = 0
        var sounded = false
        for sample in samples {
            if abs(Int32(sample)) < 500 {
                quiet += 1
            } else {
                if sounded && quiet > 240 { gaps.append(Double(quiet) / 24_000) }
                quiet = 0
                sounded = true
            }
        }
        try #require(gaps.count == 2, "\(gaps)")
        #expect(gaps[0] <= 0.1, "the cut inside the sentence left \(gaps[0]) s")
        #expect(gaps[1] >= 0.25, "the sentence's end kept \(gaps[1]) s")
    }

    @Test func noMoreThanTheEnginesParallelismRunsAtOnce() async throws {
        for parallelism in [1, 3] {
            let engine = ToneEngine(parallelism: parallelism)
            for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .mp3) {}
            #expect(engine.peak == parallelism)
        }
    }

    /// An engine that queues pieces (the built-in ones on the shared scheduler) gets that many
    /// more in flight: this engine runs them all at once, so its peak shows the window.
    @Test func queuedPiecesWidenTheWindowByThatMany() async throws {
        for (parallelism, queued) in [(1, 1), (2, 1), (2, 3)] {
            let engine = ToneEngine(parallelism: parallelism, queuedPieces: queued)
            for try await _ in SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm) {}
            #expect(engine.peak == parallelism + queued, "\(parallelism) + \(queued)")
        }
    }

    @Test func pullingNothingSynthesizesNothingBeyondTheWindow() async throws {
        let engine = ToneEngine(parallelism: 2)
        var iterator = SpeechAudioStream(engine: engine, text: text, voice: "a", speed: 1, format: .pcm)
            .makeAsyncIterator()
        _ = try await iterator.next()
        try await Task.sleep(for: .milliseconds(200))
        // The first piece was spoken; the window holds the next two. Nothing else was started.
        #expect(engine.calls.count == 3)
    }

    @Test func textWithNothingToSpeakIsAnError() async {
        var iterator = SpeechAudioStream(
            engine: ToneEngine(parallelism: 1), text: "?!... --", voice: "a", speed: 1, format: .mp3
        ).makeAsyncIterator()
        await #expect(throws: SpeechError.unspeakableInput(model: "test/tone")) { try await iterator.next() }
    }

    @Test func piecesWithoutSamplesAreSkippedAndTheRestSpoken() async throws {
        let engine = ToneEngine(parallelism: 2, silentWord: "mute")
        var samples = 0
        for try await chunk in SpeechAudioStream(
            engine: engine, text: "A mute one. Two is heard. The mute three. Another mute.", voice: "a", speed: 1,
            format: .pcm)
        {
            samples += chunk.count / 2
        }
        // The one spoken sentence, and the pause after it (more pieces follow, silent ones).
        #expect(abs(samples - ("Two is heard.".count * 240 + sentencePauseSamples)) <= 48)
    }

    @Test func piecesThatAllGiveNoSamplesAreUnspeakable() async {
        for format in [AudioFormat.wav, .mp3, .pcm] {
            var iterator = SpeechAudioStream(
                engine: ToneEngine(parallelism: 2, silentWord: "mute"), text: "A mute one. The mute two. Some mute three.",
                voice: "a", speed: 1, format: format
            ).makeAsyncIterator()
            await #expect(throws: SpeechError.unspeakableInput(model: "test/tone")) { try await iterator.next() }
        }
    }

    @Test func wavStartsWithItsHeaderInTheFirstChunk() async throws {
        var iterator = SpeechAudioStream(
            engine: ToneEngine(parallelism: 1), text: "One. Two.", voice: "a", speed: 1, format: .wav
        ).makeAsyncIterator()
        let first = try await iterator.next() ?? []
        #expect(Array(first.prefix(4)) == Array("RIFF".utf8))
        #expect(first.count > 44)
    }
}
