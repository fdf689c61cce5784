import AudioPipeline
import Foundation
import Logging
import SpeechCore
import Testing

@testable import BuiltinEngines

/// Small fixed inputs for the vocoder, computed from the same formulas (in double, rounded to
/// float) as `scripts/hibari-dsp-reference` computes them for hibari's own dsp.py.
enum HibariVocoderFixture {
    static let frames = 6

    static func grid(_ formula: (Double, Double) -> Double, columns: Int = frames) -> [Float] {
        (0..<HibariVocoder.bins).flatMap { k in (0..<columns).map { f in Float(formula(Double(k), Double(f))) } }
    }

    static let spectrum = HibariSpectrum(
        frames: frames,
        harmonicLogMagnitude: grid { k, f in -2.5 + 2 * sin(0.013 * k + 0.7 * f) - 0.004 * k },
        harmonicPhase: grid { k, f in 1.5 * cos(0.021 * k * (f + 1)) },
        noiseLogMagnitude: grid { k, f in -3 + cos(0.05 * k + f) },
        residualLogMagnitude: grid { k, f in -3.5 + sin(0.031 * k - 0.4 * f) },
        residualPhase: grid { k, f in 3 * sin(0.017 * k + 1.3 * f) },
        f0: [0, 110, 150, 30, 210, 190])
    static let noise = grid({ k, j in sin(1.7 * k + 2.3 * j + 0.1 * k * j) }, columns: 2 * frames)

    // Printed by scripts/hibari-dsp-reference (hibari-tts 0.2.1, numpy 2, scipy).
    // pulses(f0) at every 45th sample, synth(...) at every 15th; synth's RMS 0.003098027
    static let pulses: [Float] = [
        0, 0, 0, 0, 0, 0,
        -0.5266123, -0.2552786, -0.3434176, -1.217167, 4.228632, 0.1155369,
        -0.2016255, -0.08316001, 2.524784, 0.250936, -0.9478177, -0.3783533,
        39.01309, -1.260786, -0.8669196, -0.9787813, 0.01551962, 0,
        -1.158738, -3.800178, -0.1234684, -0.5438935, -0.9819047, 0.04753035,
        -0.6224412, -1.097866, -2.3616, -0.8005906, -1.399463, -0.815989,
        -0.5339112, -0.9748626, -0.6054252, -0.4671404,
    ]
    static let samples: [Float] = [
        -0.0002274354, 6.963318e-05, -0.0003440533, 0.0006769118, -0.001227895, -0.0007360088,
        0.001551946, -0.000710272, -4.715072e-05, -0.0002769893, -5.009036e-05, -0.0001666293,
        -7.648999e-05, -9.500782e-05, -0.0001157346, 4.825981e-05, -0.0005446586, 0.004530152,
        -0.001082716, 0.001434095, 0.0009380365, 0.0005298796, 0.000359399, 0.0007573815,
        0.00062723, 0.0007774559, 0.0003755004, -0.002115992, -0.006673691, 0.0004409298,
        0.004654403, -0.00740339, 0.003624751, 0.002397295, -0.001393401, -0.001184738,
        0.001249133, 0.001254359, 0.0006653444, -6.454443e-05, -0.001239464, -0.003784531,
        -0.001343798, 0.001738732, -0.005796314, -0.001140179, 0.004016688, -3.668129e-05,
        0.001939194, 0.001385864, 0.002742342, 0.00232422, 0.01297103, 0.003078456,
        -0.006793616, -0.0001504679, -0.003325912, 0.002298406, 0.001756045, 0.0007878914,
        0.0001575697, 0.0003197019, 0.0007300845, 0.0006666559, 0.0007039845, 0.0003912122,
        0.000599565, 0.0004286791, 0.0007920027, -0.0006008775, 0.003787207, 0.001704875,
        -0.001205014, 0.001134111, -0.0003777195, 0.0005270246, 0.001608677, 0.0007784674,
        -0.002942355, -0.0007291278, 0.003587857, 0.001105464, 4.802591e-05, -0.0004072255,
        -0.0002909429, -0.0008419511, 0.00154328, -0.002366426, -0.003436182, -0.0006269559,
        -0.0004371142, 0.0004406239, -0.0005382408, 0.0008115701, 0.001892055, 0.002140854,
        -0.0002869636, 0.003337769, 0.0004383744, 0.0002474007, -0.0007012619, 0.0005840549,
        0.001272017, -0.0005875764, 0.0005492533, -0.001475894, 0.0004239815, 0.00211488,
        0.0004886551, -0.0002966694, -0.0002374755, -0.0003342421, -0.001405328, 0.0002580646,
        -6.6926e-05, -8.858915e-05, -3.500125e-05, -9.707448e-05, -0.001305867, 3.493302e-05,
    ]
}

@Suite struct HibariVocoderTests {
    @Test func pulsesMatchHibarisDSP() {
        let pulses = HibariVocoder.pulses(f0: HibariVocoderFixture.spectrum.f0)
        #expect(pulses.count == HibariVocoderFixture.frames * HibariVocoder.hop)
        let sampled = stride(from: 0, to: pulses.count, by: 45).map { pulses[$0] }
        // Near a pulse the value is sin((H+½)t) / (2 sin(t/2)) with a small denominator, where a
        // float ulp of phase shows most; measured: 4e-6 from numpy's at most.
        for (value, reference) in zip(sampled, HibariVocoderFixture.pulses) {
            #expect(abs(value - reference) <= 1e-4 * max(1, abs(reference)), "\(value) vs \(reference)")
        }
    }

    @Test func waveformMatchesHibarisDSP() {
        var noise = HibariVocoderFixture.noise.makeIterator()
        let samples = HibariVocoder.waveform(of: HibariVocoderFixture.spectrum, noise: &noise)
        #expect(samples.count == HibariVocoderFixture.frames * HibariVocoder.hop)
        let sampled = stride(from: 0, to: samples.count, by: 15).map { samples[$0] }
        let reference = HibariVocoderFixture.samples
        let peak = reference.map(abs).max() ?? 0
        let worst = zip(sampled, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(sampled.count == reference.count)
        // Measured: 2e-7 of the peak (FFTW against scipy's pocketfft, glibc's libm against numpy's).
        #expect(worst <= 1e-5 * peak, "largest difference \(worst), peak \(peak)")
    }

    @Test func theFastTanhAndSinCosAgreeWithLibm() {
        var worst: (tanh: Float, sine: Float, cosine: Float) = (0, 0, 0)
        for step in -20_000...20_000 {
            let x = Float(step) / 1_000
            worst.tanh = max(worst.tanh, abs(HibariVocoder.fastTanh(x) - tanh(x)))
            let (sine, cosine) = HibariVocoder.sinCos(x)
            worst.sine = max(worst.sine, abs(sine - sin(x)))
            worst.cosine = max(worst.cosine, abs(cosine - cos(x)))
        }
        #expect(worst.tanh < 3e-7 && worst.sine < 1e-6 && worst.cosine < 1e-6, "\(worst)")
        #expect(HibariVocoder.fastTanh(.infinity) == 1 && HibariVocoder.fastTanh(-.infinity) == -1)
        #expect(HibariVocoder.fastTanh(90) == 1 && HibariVocoder.fastTanh(-90) == -1)
        #expect(HibariVocoder.fastTanh(.nan).isNaN)
    }

    @Test func reflectionMirrorsWithoutRepeatingTheEdge() {
        #expect((-3...6).map { HibariVocoder.reflected($0, count: 4) } == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0])
        #expect(HibariVocoder.reflected(-5, count: 1) == 0)
    }

    @Test func silenceInGivesSilenceOut() {
        let frames = 3
        let quiet = [Float](repeating: -100, count: HibariVocoder.bins * frames)
        let spectrum = HibariSpectrum(
            frames: frames, harmonicLogMagnitude: quiet, harmonicPhase: quiet, noiseLogMagnitude: quiet,
            residualLogMagnitude: quiet, residualPhase: quiet, f0: [0, 0, 0])
        var noise = HibariNoise(seed: 1)
        let samples = HibariVocoder.waveform(of: spectrum, noise: &noise)
        #expect(samples.count == 900 && samples.allSatisfy { abs($0) < 1e-9 })
    }

    @Test func pcmClipsAndSilencesNaN() {
        #expect(
            HibariVocoder.pcm([0, 0.5, 2, -3, .nan, .infinity, -.infinity]) == [
                0, 16383, 32767, -32767, 0, 32767, -32767,
            ])
    }

    @Test func noiseIsSeededAndStandardNormal() {
        var first = HibariNoise(seed: HibariNoise.seed(text: "Hello.", voice: "heart", speed: 1))
        var second = HibariNoise(seed: HibariNoise.seed(text: "Hello.", voice: "heart", speed: 1))
        let values = (0..<20_001).map { _ in first.next()! }
        #expect(values == (0..<20_001).map { _ in second.next()! })
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        #expect(
            HibariNoise.seed(text: "Hello.", voice: "heart", speed: 1)
                != HibariNoise.seed(text: "Hello.", voice: "heart", speed: 1.1))
    }
}

@Suite struct HibariPhonemizerTests {
    @Test func espeakIPABecomesKokorosAlphabet() {
        func kokoro(_ ipa: String, _ accent: HibariAccent = .american) -> String {
            String(String.UnicodeScalarView(HibariPhonemizer.kokoro(fromEspeak: ipa, accent: accent)))
        }
        #expect(kokoro("həlˈo^ʊ ðˈɛ^ɹ") == "həlˈO ðˈɛɹ")
        #expect(kokoro("hˌa^ʊ ɑː^ɹ juː tədˈe^ɪ") == "hˌW ɑɹ ju tədˈA")
        #expect(kokoro("bˈʌɾɚ t^ʃˈɜːt^ʃ d^ʒˈʌd^ʒ bˈɔ^ɪ hˈa^ɪ") == "bˈʌTəɹ ʧˈɜɹʧ ʤˈʌʤ bˈY hˈI")
        #expect(kokoro("bˈʌʔn̩ lˈɪɾə^l ʃˈoː^ɹ hˈɜːɹi ɐ") == "bˈʌtᵊn lˈɪTᵊl ʃˈɔɹ hˈɜɹi ə")
        #expect(kokoro("(fr)bɔ̃ʒˈuʁ(en)") == "bɔ̃ʒˈuʁ", "language switches go")
        // eSpeak NG's en-gb, in misaki's British symbols: "əʊ" is Q, "eə" is ɛː, lengths stay.
        #expect(kokoro("həlˈə^ʊ ðˈe^ə", .british) == "həlˈQ ðˈɛː")
        #expect(kokoro("nˈɪə nˈɜːs lˈɒt ɹˈe^ɪn", .british) == "nˈɪə nˈɜːs lˈɒt ɹˈAn")
    }

    @Test func longSentencesAreCutAtClausesThenWords() {
        func phonemes(_ count: Int, _ letter: Unicode.Scalar = "a") -> [Unicode.Scalar] {
            Array(repeating: letter, count: count)
        }
        let short = HibariPhonemizer.pieces(
            [(phonemes(10), false), (phonemes(10), true), (phonemes(5), false)], limit: 30)
        #expect(short.map(\.count) == [21, 5], "clauses join with a space, sentence ends cut")
        let clauses = HibariPhonemizer.pieces(
            [(phonemes(20), false), (phonemes(20), false), (phonemes(5), false)], limit: 30)
        #expect(clauses.map(\.count) == [20, 26])
        let words = HibariPhonemizer.cut(phonemes(12) + [" "] + phonemes(12) + [" "] + phonemes(12), limit: 30)
        #expect(words.map(\.count) == [25, 12])
        #expect(HibariPhonemizer.cut(phonemes(70), limit: 30).map(\.count) == [30, 30, 10], "one endless word")
    }
}

/// The installed engine, started once for the suites below.
enum HibariFixture {
    static let installation = HibariInstallation.locate()
    static let engine = Task {
        try await HibariEngine.start(
            installation: try #require(installation), espeak: try await EspeakEngine.start(), scheduler: Engines.scheduler)
    }
}

@Suite(.enabled(if: HibariFixture.installation != nil, "hibari is not installed (scripts/install-hibari)"))
struct HibariEngineTests {
    @Test func runtimeTableIsTheInstalledLibrarys() throws {
        let runtime = try OnnxRuntime(libraryPath: try #require(HibariFixture.installation).runtimeLibraryPath)
        #expect(runtime.version.hasPrefix("1."))
        let status = try #require(runtime.roundTripStatus("no such thing"))
        #expect(status.code == 2 && status.message == "no such thing")
    }

    @Test func runtimeFailuresAreEngineFailures() throws {
        #expect(throws: SpeechError.self) { try OnnxRuntime(libraryPath: "/nonexistent/libonnxruntime.so") }
        let runtime = try OnnxRuntime(libraryPath: try #require(HibariFixture.installation).runtimeLibraryPath)
        let notAModel = FileManager.default.temporaryDirectory.appendingPathComponent("hibari-\(UUID()).onnx").path
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: notAModel))
        do {
            _ = try runtime.session(modelPath: notAModel, threads: 1)
            Issue.record("a text file loaded as a model")
        } catch SpeechError.engineFailure(let message) {
            #expect(message.hasPrefix("ONNX Runtime: "))
        }
    }

    @Test func speaksPlausiblePcm() async throws {
        let engine = try await HibariFixture.engine.value
        #expect(engine.model.id == "local/hibari" && engine.model.voices.count == 14)
        let audio = try await engine.synthesize(
            "The quick brown fox jumps over the lazy dog.", voice: "heart", speed: 1)
        #expect(audio.sampleRate == 24_000)
        let seconds = Double(audio.samples.count) / 24_000
        #expect(seconds > 2 && seconds < 4.5)
        let rms = (audio.samples.map { Double($0) * Double($0) }.reduce(0, +) / Double(audio.samples.count))
            .squareRoot()
        #expect(rms > 300, "speech, not silence (RMS \(rms))")
    }

    @Test func sameRequestGivesTheSameSamples() async throws {
        let engine = try await HibariFixture.engine.value
        let text = "Every request with the same text, voice and speed sounds the same."
        let first = try await engine.synthesize(text, voice: "alloy", speed: 1.1)
        let second = try await engine.synthesize(text, voice: "alloy", speed: 1.1)
        #expect(!first.samples.isEmpty && first.samples == second.samples)
        let other = try await engine.synthesize(text, voice: "heart", speed: 1.1)
        #expect(other.samples != first.samples, "the voice name seeds the noise")
    }

    /// The G2P's work runs on the synthesis threads, which count their processor time to the
    /// caller's tally: nothing else in phonemizing words the lexicon has runs there.
    @Test func theG2PRunsOnTheSynthesisThreads() async throws {
        let phonemizer = try await HibariFixture.engine.value.phonemizer(for: "heart")
        let tally = SynthesisCPUTime()
        let pieces = try await SynthesisCPUTime.$tally.withValue(tally) {
            try await phonemizer.pieces(in: "The water was better than the butter.")
        }
        #expect(pieces.count == 1)
        #expect(tally.seconds > 0)
    }

    /// The arena-shrinking run (ONNX Runtime's run options, `AddRunConfigEntry` at its place in
    /// the function table) runs, and the voice gives the very same samples after it.
    @Test func releasingIdleMemoryChangesNoSample() async throws {
        let engine = try await HibariFixture.engine.value
        let text = "The arena gives its memory back, and the voice speaks on."
        let before = try await engine.synthesize(text, voice: "heart", speed: 1)
        await engine.releaseIdleMemory()
        let after = try await engine.synthesize(text, voice: "heart", speed: 1)
        #expect(!before.samples.isEmpty && after.samples == before.samples)
    }

    /// Durations of hibari's own CLI (hibari-tts 0.2.1, its G2P): `hibari "<text>" -o out.wav
    /// --seed 1`, frames of out.wav / 24 000.
    static let referenceDurations: [(text: String, seconds: Double)] = [
        ("The quick brown fox jumps over the lazy dog.", 3.075),
        ("Hello there, how are you today? I hope the weather is kind to you.", 4.45),
        ("She sells sea shells by the sea shore, and the shells she sells are surely sea shells.", 5.15),
        ("A lighthouse keeper climbed the spiral stairs every evening to light the lamp.", 4.75),
    ]

    @Test func durationsAreWithinTenPercentOfHibarisCLI() async throws {
        let engine = try await HibariFixture.engine.value
        for (text, reference) in Self.referenceDurations {
            let audio = try await engine.synthesize(text, voice: "heart", speed: 1)
            let seconds = Double(audio.samples.count) / 24_000
            #expect(abs(seconds - reference) <= 0.1 * reference, "\(text): \(seconds) s, the CLI \(reference) s")
        }
    }

    /// The first chunk of a stream is its first piece: a few words, so the first byte does not
    /// wait for a whole sentence (140 characters here, over 8 s of speech).
    @Test func aStreamStartsWithAFewWords() async throws {
        let engine = try await HibariFixture.engine.value
        let text =
            "The lighthouse on the northern cape was built in 1874, and for more than a century its keepers "
            + "climbed the same spiral staircase every evening. Each of them kept a logbook."
        var chunks = SpeechAudioStream(engine: engine, text: text, voice: "heart", speed: 1, format: .pcm)
            .makeAsyncIterator()
        let first = try #require(try await chunks.next())
        let second = try #require(try await chunks.next())
        let seconds = Double(first.count / 2) / Double(AudioFormat.outputSampleRate)
        #expect(seconds > 0.5 && seconds < 2.5, "the first chunk holds \(seconds) s")
        #expect(second.count > first.count, "the pieces after the first grow")
        let samples = stride(from: 0, to: first.count - 1, by: 2).map {
            Int16(bitPattern: UInt16(first[$0]) | UInt16(first[$0 + 1]) << 8)
        }
        #expect(samples.contains { abs(Int32($0)) > 3_000 }, "speech, not silence")
    }

    @Test func speedIsNative() async throws {
        let engine = try await HibariFixture.engine.value
        let text = "A lighthouse keeper climbed the spiral stairs every evening to light the lamp."
        let normal = try await engine.synthesize(text, voice: "heart", speed: 1).samples.count
        let fast = try await engine.synthesize(text, voice: "heart", speed: 1.5).samples.count
        #expect(Double(fast) < 0.8 * Double(normal))
    }

    @Test(arguments: [
        "🙂🙃🎉", "Hello\u{0}\u{7}\u{1B}[31m world\u{7F}.", "?!...,;:", "", "   \n ",
        String(repeating: "buffalo", count: 429), "Ünïcödé façade naïve café — 東京 Москва.",
        String(repeating: "q", count: 3_000), "\u{200B}\u{FEFF}\u{202E}",
        "99999999999999999999999999 and -$99999999999999999999.99 at 99:99 on 99/99/9999, 1e308 ½ ² Ⅻ.",
        "[word](/ˈwɜɹd/) {x} <y> 10am 3.2.1 -.5 $.5 No. 7 #1 $5k 12-15 555-123-4567 °C ¢",
    ])
    func oddInputGivesAudioOrAClearError(_ text: String) async throws {
        let engine = try await HibariFixture.engine.value
        do {
            let audio = try await engine.synthesize(text, voice: "heart", speed: 1)
            #expect(audio.sampleRate == 24_000)
        } catch let error as SpeechError {
            guard case .engineFailure = error else { throw error }
        }
    }
}

/// hibari's other voices in the voices folder. Their models are fetched by users (none can be
/// fetched here), so the folder holds heart's own model under emma's file name: a whole model of
/// the same shape, which is what the folder checks; what makes it emma is the registry's entry,
/// British, so it reads with the British lexicon.
@Suite(.enabled(if: HibariFixture.installation != nil, "hibari is not installed (scripts/install-hibari)"))
struct HibariVoiceFolderTests {
    static func folder() throws -> HibariVoiceFolder {
        let installation = try #require(HibariFixture.installation)
        let directory = try temporaryDirectory()
        let model = try Data(contentsOf: URL(fileURLWithPath: installation.modelPath))
        try model.write(to: URL(fileURLWithPath: directory + "/bf_emma.int8.onnx"))
        try model.prefix(model.count / 2).write(to: URL(fileURLWithPath: directory + "/af_kore.int8.onnx"))
        try Data(wholeONNX).write(to: URL(fileURLWithPath: directory + "/other.onnx"))
        return HibariVoiceFolder(directory: directory)
    }

    @Test func registryVoicesAreFoundByTheirFileAndHalfCopiedOnesSkipped() throws {
        let installation = try #require(HibariFixture.installation)
        let registry = try HibariVoiceFolder.registry(assets: installation.assetsDirectory)
        #expect(
            HibariVoiceFolder.fileNames(in: registry)
                == ["bf_emma.int8.onnx", "am_fenrir_v2.int8.onnx", "bm_fable.int8.onnx", "af_kore.int8.onnx"])
        let folder = try Self.folder()
        let scan = folder.scan(registry: registry)
        #expect(scan.voices == [.init(name: "emma", modelPath: folder.directory + "/bf_emma.int8.onnx", accent: .british)])
        #expect(scan.skipped.map(\.file) == [folder.directory + "/af_kore.int8.onnx"])
        #expect(scan.skipped.first?.reason.contains("truncated") == true, "\(scan.skipped)")
        // The Piper scan of the same folder passes over hibari's files when told them.
        var piper = PiperVoiceFolder(directory: folder.directory)
        #expect(Set(piper.scan().skipped.map(\.file)).isSuperset(of: scan.skipped.map(\.file) + scan.voices.map(\.modelPath)))
        piper.otherEnginesFiles = HibariVoiceFolder.fileNames(in: registry)
        #expect(piper.scan().skipped.map(\.file) == [folder.directory + "/other.onnx"])
    }

    @Test func aBritishVoiceInTheFolderIsServedWithTheBritishLexicon() async throws {
        let engine = try await HibariEngine.start(
            installation: try #require(HibariFixture.installation), folder: try Self.folder(),
            espeak: try await EspeakEngine.start(), scheduler: Engines.scheduler)
        #expect(Array(engine.model.voices.prefix(2)) == ["heart", "emma"])
        #expect(engine.model.voices.count == 15 && !engine.model.voices.contains("kore"))
        #expect(engine.phonemizer(for: "emma").g2p?.lexicon.accent == .british)
        #expect(engine.phonemizer(for: "alloy").g2p?.lexicon.accent == .american)

        let text = "The water was better than the butter."
        let british = try await engine.phonemizer(for: "emma").pieces(in: text)
        let american = try await engine.phonemizer(for: "heart").pieces(in: text)
        let vocabulary = engine.phonemizer.vocabulary
        let ids = { (phonemes: String) in [[0] + phonemes.unicodeScalars.compactMap { vocabulary[$0] } + [0]] }
        // hibari's G2P(british=True) and G2P() on the same sentence.
        #expect(british == ids("ðə wˈɔːtə wɒz bˈɛtə ðən ðə bˈʌtə."))
        #expect(american == ids("ðə wˈɔTəɹ wʌz bˈɛTəɹ ðən ðə bˈʌTəɹ."))
        let emma = try await engine.synthesize(text, voice: "emma", speed: 1)
        let heart = try await engine.synthesize(text, voice: "heart", speed: 1)
        #expect(emma.samples.count > 24_000 && heart.samples.count > 24_000)
        #expect(emma.samples != heart.samples)
    }

    @Test func aReloadServesTheFolderAsItIsWhileEarlierSnapshotsKeepTheirVoices() async throws {
        let folder = try Self.folder()
        let engine = try await HibariEngine.start(
            installation: try #require(HibariFixture.installation), folder: folder,
            espeak: try await EspeakEngine.start(), scheduler: Engines.scheduler)
        let identity = try #require(engine.model.roster).identity(of: "emma")
        #expect(identity.contains("bf_emma.int8.onnx") && identity.hasSuffix(" gb"))
        let playing = engine.snapshot()
        let text = "The water was better than the butter."
        let emma = try await playing.synthesize(text, voice: "emma", speed: 1)

        try FileManager.default.removeItem(atPath: folder.directory + "/bf_emma.int8.onnx")
        await engine.reload(logger: Logger(label: "test"))
        #expect(!engine.model.voices.contains("emma") && engine.model.voices.first == "heart")
        #expect(engine.phonemizer(for: "emma").g2p?.lexicon.accent == .american, "emma's name now speaks with heart")
        #expect(try await playing.synthesize(text, voice: "emma", speed: 1).samples == emma.samples)

        let model = try Data(contentsOf: URL(fileURLWithPath: try #require(HibariFixture.installation).modelPath))
        try model.write(to: URL(fileURLWithPath: folder.directory + "/bm_fable.int8.onnx"))
        await engine.reload(logger: Logger(label: "test"))
        #expect(Array(engine.model.voices.prefix(2)) == ["heart", "fable"])
        #expect(engine.model.voices.filter { $0 == "fable" }.count == 1, "OpenAI's fable is hibari's fable now")
        #expect(engine.phonemizer(for: "fable").g2p?.lexicon.accent == .british)
        #expect(try #require(engine.model.roster).identity(of: "fable").contains("bm_fable.int8.onnx"))
    }
}
