import AudioPipeline
import Foundation
import SpeechCore
import Testing

@testable import BuiltinEngines

func rms(_ samples: [Int16]) -> Double {
    guard !samples.isEmpty else { return 0 }
    return (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
}

func seconds(_ audio: PCMAudio) -> Double { Double(audio.samples.count) / Double(audio.sampleRate) }

/// The engines hold process-global C state, so the suite starts them once.
enum Engines {
    static let scheduler = SynthesisScheduler(threads: 2)
    static let flite = FliteEngine(scheduler: scheduler)
    static let espeak = Task { try await EspeakEngine.start() }
}

@Suite struct FliteEngineTests {
    let sentence = "The quick brown fox jumps over the lazy dog."

    @Test(arguments: ["slt", "rms", "awb", "kal16", "kal", "alloy", "onyx"])
    func everyVoiceSpeaksAudibly(voice: String) async throws {
        let audio = try await Engines.flite.synthesize(sentence, voice: voice, speed: 1)
        #expect((1.5...5).contains(seconds(audio)), "\(voice): \(seconds(audio)) s")
        #expect(rms(audio.samples) > 300, "\(voice) is not silent")
    }

    @Test func speedShortensTheSpeech() async throws {
        let normal = try await Engines.flite.synthesize(sentence, voice: "slt", speed: 1)
        let fast = try await Engines.flite.synthesize(sentence, voice: "slt", speed: 2)
        let ratio = seconds(fast) / seconds(normal)
        #expect((0.4...0.65).contains(ratio), "2× speed gave \(ratio) of the duration")
    }

    @Test func foreignScriptsAndEmojiAreDroppedNotCrashed() async throws {
        #expect(FliteEngine.speakable("😀🎉 日本語") == "")
        #expect(FliteEngine.speakable("Café “quoted” — done…") == "Cafe \"quoted\" ,  done...")
        let audio = try await Engines.flite.synthesize("Hello 😀 world\u{0007}\u{0000}!", voice: "slt", speed: 1)
        #expect(seconds(audio) > 0.5)
    }

    /// Flite's clustergen voices mix random noise into their excitation: one text gives the
    /// same samples every time, whatever was synthesized before or beside it.
    @Test(arguments: ["slt", "rms", "awb"])
    func oneTextGivesTheSameSamplesEveryTime(voice: String) async throws {
        let first = try await Engines.flite.synthesize(sentence, voice: voice, speed: 1)
        async let beside = Engines.flite.synthesize("Something else, meanwhile.", voice: voice, speed: 1)
        let second = try await Engines.flite.synthesize(sentence, voice: voice, speed: 1)
        _ = try await beside
        #expect(first.samples == second.samples, "\(voice): \(first.samples.count) and \(second.samples.count) samples")
    }

    /// The first chunk of a stream is a few words, not the whole first sentence (here 140
    /// characters, some 9 s of speech), so the first byte comes soon; the pieces after grow.
    @Test func aStreamStartsWithAFewWords() async throws {
        let text =
            "The lighthouse on the northern cape was built in 1874, and for more than a century its keepers "
            + "climbed the same spiral staircase every evening. Each of them kept a logbook."
        var chunks = SpeechAudioStream(engine: Engines.flite, text: text, voice: "slt", speed: 1, format: .pcm)
            .makeAsyncIterator()
        let first = try #require(try await chunks.next())
        let second = try #require(try await chunks.next())
        let samples = stride(from: 0, to: first.count - 1, by: 2).map {
            Int16(bitPattern: UInt16(first[$0]) | UInt16(first[$0 + 1]) << 8)
        }
        let duration = Double(samples.count) / Double(AudioFormat.outputSampleRate)
        #expect(duration > 0.5 && duration < 2.5, "the first chunk holds \(duration) s")
        #expect(second.count > first.count, "the pieces after the first grow")
        #expect(rms(samples) > 300, "speech, not silence")
    }

    @Test func concurrentSynthesesAllComplete() async throws {
        let lengths = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<16 {
                group.addTask {
                    try await Engines.flite.synthesize("Request \(index) speaks now.", voice: "slt", speed: 1).samples.count
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(lengths.count == 16)
        #expect(lengths.allSatisfy { $0 > 8_000 })
    }
}

@Suite struct EspeakEngineTests {
    @Test(arguments: ["en-us", "de", "fr", "en-us+f3", "alloy"])
    func voicesSpeakAudibly(voice: String) async throws {
        let engine = try await Engines.espeak.value
        let audio = try await engine.synthesize("One two three four five.", voice: voice, speed: 1)
        #expect(audio.sampleRate == 22_050)
        #expect((0.8...5).contains(seconds(audio)), "\(voice): \(seconds(audio)) s")
        #expect(rms(audio.samples) > 300)
    }

    /// Every voice `/models` lists for local/espeak-ng speaks, with a variant too: a language code
    /// that is not also a voice file's name (en-gb, fr-fr, es-mx, zh…) is selected by language.
    @Test func everyListedVoiceSpeaks() async throws {
        let engine = try await Engines.espeak.value
        let languages = engine.model.voices.filter { !openAIVoiceNames.contains($0) }
        var silent: [String] = []
        // Digits first; the few languages that read neither digits nor Latin letters get a word in
        // their own script (Cyrillic, Hebrew, Cherokee) or in Elvish.
        let texts = ["1 2 3.", "Salam, mae govannen, elen síla.", "Салам.", "שלום עולם.", "ᎣᏏᏲ."]
        for voice in languages + ["en-gb+f3", "fr-fr+m2"] {
            do {
                var longest = 0
                for text in texts where longest < 2_000 {
                    longest = max(longest, try await engine.synthesize(text, voice: voice, speed: 1).samples.count)
                }
                if longest < 2_000 { silent.append("\(voice): \(longest) samples") }
            } catch {
                silent.append("\(voice): \(error)")
            }
        }
        #expect(silent.isEmpty, "\(silent.count) of \(languages.count + 2) voices did not speak: \(silent)")
    }

    @Test func languagesAndVariantsAreListed() async throws {
        let model = try await Engines.espeak.value.model
        #expect(model.voices.count > 100)
        #expect(model.accepts(voice: "en-us+f3"))
        #expect(model.accepts(voice: "de+m1"))
        #expect(!model.accepts(voice: "klingon"))
    }

    @Test func speedShortensTheSpeech() async throws {
        let engine = try await Engines.espeak.value
        let text = "This sentence is long enough to measure its speed."
        let normal = try await engine.synthesize(text, voice: "en-us", speed: 1)
        let fast = try await engine.synthesize(text, voice: "en-us", speed: 2)
        #expect(seconds(fast) < 0.7 * seconds(normal))
    }

    @Test func concurrentCallsAreSerializedAndAllComplete() async throws {
        let engine = try await Engines.espeak.value
        let results = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for voice in ["en-us", "de", "fr", "es"] {
                for index in 0..<4 {
                    group.addTask {
                        (voice, try await engine.synthesize("Number \(index).", voice: voice, speed: 1).samples.count)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 16)
        #expect(results.allSatisfy { $0.1 > 2_000 })
    }
}
