import AudioPipeline
import SpeechCore
import Synchronization
import Testing

@testable import BuiltinEngines

/// Word timings of Flite and eSpeak NG through the audio pipeline, measured on the 24 kHz pcm a
/// client receives: each word's interval holds its speech, and the gaps at sentence ends are
/// silent.
@Suite struct WordTimingTests {
    static let text = "The quick brown fox jumps over the lazy dog. Then seven tired cats slept!"

    struct Spoken {
        var samples: [Int16]
        var words: [WordTiming]
        var seconds: Double { Double(samples.count) / Double(AudioFormat.outputSampleRate) }

        func slice(_ start: Double, _ end: Double) -> [Int16] {
            let rate = Double(AudioFormat.outputSampleRate)
            let from = max(Int(start * rate), 0)
            let to = min(Int(end * rate), samples.count)
            return from < to ? Array(samples[from..<to]) : []
        }
    }

    static func speak(
        _ engine: any SpeechEngine, _ text: String, voice: String, speed: Double = 1, timed: Bool = true
    ) async throws -> Spoken {
        let progress = SpeechProgress(timesWords: timed)
        var bytes: [UInt8] = []
        for try await chunk in SpeechAudioStream(
            engine: engine, text: text, voice: voice, speed: speed, format: .pcm, progress: progress)
        {
            bytes += chunk
        }
        let samples = stride(from: 0, to: bytes.count - 1, by: 2).map {
            Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)
        }
        return Spoken(samples: samples, words: progress.takeWords(all: true))
    }

    static func engine(_ name: String) async throws -> any SpeechEngine {
        name == "flite" ? Engines.flite : try await Engines.espeak.value
    }

    @Test(arguments: ["flite", "espeak-ng"], [1.0, 2.0])
    func everyWordLiesInItsSpeechAndSentenceEndsAreSilent(engineName: String, speed: Double) async throws {
        let engine = try await Self.engine(engineName)
        let spoken = try await Self.speak(engine, Self.text, voice: engine.model.defaultVoice, speed: speed)
        let input = Array(Self.text.unicodeScalars)
        let expected = TextOrigins.words(of: Self.text).map(\.word)
        #expect(spoken.words.map(\.word) == expected, "\(engineName)")
        for word in spoken.words {
            #expect(word.startTime >= 0 && word.startTime < word.endTime && word.endTime <= spoken.seconds, "\(word)")
            #expect(String(String.UnicodeScalarView(input[word.charStart..<word.charEnd])) == word.word)
            let loudness = rms(spoken.slice(word.startTime, word.endTime))
            #expect(loudness > 300, "\(engineName) ×\(speed): '\(word.word)' has RMS \(loudness)")
        }
        for (word, next) in zip(spoken.words, spoken.words.dropFirst()) {
            #expect(word.endTime <= next.startTime, "\(word.word) overlaps \(next.word)")
        }
        // Between "dog." and "Then": the pause the pipeline leaves at a sentence end.
        let dog = try #require(spoken.words.first { $0.word == "dog" })
        let then = try #require(spoken.words.first { $0.word == "Then" })
        #expect(then.startTime - dog.endTime > 0.15, "\(engineName): gap \(then.startTime - dog.endTime) s")
        let gap = rms(spoken.slice(dog.endTime + 0.02, then.startTime - 0.02))
        #expect(gap < 150, "\(engineName) ×\(speed): the sentence gap has RMS \(gap)")
        // And before the first word and after the last, nothing but the engine's own silence.
        let last = try #require(spoken.words.last)
        #expect(rms(spoken.slice(last.endTime + 0.02, spoken.seconds)) < 150)
    }

    @Test(arguments: ["flite", "espeak-ng"])
    func offsetsReferToTheOriginalText(engineName: String) async throws {
        let engine = try await Self.engine(engineName)
        let text = "Café  “naïve”\u{200B} friends — really."
        let spoken = try await Self.speak(engine, text, voice: engine.model.defaultVoice)
        let input = Array(text.unicodeScalars)
        let words = spoken.words.map { String(String.UnicodeScalarView(input[$0.charStart..<$0.charEnd])) }
        #expect(words == ["Café", "naïve", "friends", "really"], "\(engineName): \(spoken.words)")
    }

    /// eSpeak NG's word events start where it began reading a word, but their lengths are not
    /// the words' (0 after a typographic quote, 2 for "It's") and a number makes one per word it
    /// is read as: every word of the text is still timed once, at its own place.
    @Test func espeakEventsTimeEachWordOfTheTextOnce() async throws {
        let engine = try await Self.engine("espeak-ng")
        let text = "It's 1995, «ça» & “quoted” e-mail; don't ‘single’ (parens)."
        let spoken = try await Self.speak(engine, text, voice: engine.model.defaultVoice)
        let input = Array(text.unicodeScalars)
        let words = spoken.words.map { String(String.UnicodeScalarView(input[$0.charStart..<$0.charEnd])) }
        #expect(words == ["It's", "1995", "ça", "quoted", "e-mail", "don't", "single", "parens"], "\(spoken.words)")
        #expect(spoken.words.map(\.word) == words)
        for (word, next) in zip(spoken.words, spoken.words.dropFirst()) {
            #expect(word.startTime < word.endTime && word.endTime <= next.startTime, "\(word.word), \(next.word)")
        }
    }

    @Test(arguments: ["flite", "espeak-ng"])
    func timingWordsLeavesTheAudioAlone(engineName: String) async throws {
        // eSpeak NG does not repeat itself sample for sample, so both streams get the same
        // pieces of the engine's audio (`RecordedEngine`) and must make the same samples of
        // them. Two plain runs of this text differed in length by 19 to 492 samples at 24 kHz,
        // and by 1,694 (the loudness contours correlating 0.83) while other suites spoke with it
        // in between; the library alone (libespeak-ng 1.51 in a C program, one text twice) gave
        // 106,283 and 106,275 samples: it carries noise and pitch state from call to call.
        let engine = RecordedEngine(try await Self.engine(engineName))
        let plain = try await Self.speak(engine, Self.text, voice: engine.model.defaultVoice, timed: false)
        let timed = try await Self.speak(engine, Self.text, voice: engine.model.defaultVoice)
        #expect(plain.words.isEmpty)
        #expect(!timed.words.isEmpty)
        #expect(engine.syntheses == engine.pieces, "the second stream was spoken afresh")
        // One Bool: a failed `#expect` on two arrays this long has the testing library diff
        // them, which ran for over ten minutes (the hung `swift test`).
        let identical = plain.samples == timed.samples
        #expect(identical, "\(engineName): \(plain.samples.count) vs \(timed.samples.count) samples")
    }

    /// Engines that time no words (Piper, hibari) get them placed by character count inside the
    /// voiced span of each piece.
    @Test func untimedAudioPlacesWordsByCharacterCount() {
        let silence = [Int16](repeating: 0, count: 1_000)
        let audio = PCMAudio(
            samples: silence + [Int16](repeating: 4_000, count: 4_000) + silence, sampleRate: 1_000)
        let words = audio.placedWords(for: "  Hi there, you!")
        #expect(words.map(\.word) == ["Hi", "there", "you"])
        #expect(words.map(\.charStart) == [2, 5, 12])
        #expect(words.first?.startTime == 1.0)
        #expect(words.last?.endTime == 5.0)
        // 2 + 5 + 3 characters share 4 seconds.
        #expect(abs(words[1].endTime - (1.0 + 4.0 * 7 / 10)) < 1e-9)
    }
}

/// A real engine whose pieces are synthesized once: a piece asked for again (same text, voice
/// and speed) gets the samples and timings of the first time, so two streams can be compared
/// byte for byte although the engine itself varies from call to call.
final class RecordedEngine: SpeechEngine {
    let engine: any SpeechEngine
    private let recorded = Mutex([String: PCMAudio]())
    private let calls = Mutex(0)

    init(_ engine: any SpeechEngine) { self.engine = engine }

    var model: SpeechModel { engine.model }
    var parallelism: Int { engine.parallelism }
    var pieceSizes: PieceSizes { engine.pieceSizes }
    var queuedPieces: Int { engine.queuedPieces }
    /// How many pieces the engine synthesized, and how many distinct pieces were asked for.
    var syntheses: Int { calls.withLock { $0 } }
    var pieces: Int { recorded.withLock { $0.count } }

    func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let key = "\(voice)|\(speed)|\(text)"
        if let audio = recorded.withLock({ $0[key] }) { return audio }
        let audio = try await engine.synthesize(text, voice: voice, speed: speed)
        calls.withLock { $0 += 1 }
        recorded.withLock { $0[key] = audio }
        return audio
    }
}
