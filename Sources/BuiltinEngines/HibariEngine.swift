import CMalloc
import Foundation
public import Logging
public import SpeechCore

/// `local/hibari`: hibari (hibari-tts 0.2.1, Apache-2.0), a 7.9 MB model distilled from
/// Kokoro-82M's af_heart voice, run by ONNX Runtime.
///
/// hibari's own G2P phonemizes (`HibariPhonemizer`: its lexicon, tagger and normalization, with
/// eSpeak NG, on its own thread, for the words the lexicon does not have); the model turns each
/// piece of at most 400 phonemes into a spectrum per 12.5 ms frame, and `HibariVocoder` turns
/// that into 24 kHz samples, on the shared `SynthesisScheduler`. The noise in the spectrum comes from a
/// generator seeded by the text, voice and speed, so a request always gives the same samples.
/// One session is shared by all threads (ONNX Runtime allows concurrent runs on it); each run
/// uses one intra-op thread and pieces run side by side, one per scheduler thread (core).
///
/// Measured on the 2-core machine under other builds' load: one model run for 7 s of speech takes
/// 62 ms of CPU, the vocoder 50 ms and the noise 16 ms (release); per sentence (3-5 s of speech,
/// debug build) one intra-op thread took 0.32-0.50 s against 0.38-0.59 s with two, and a bare C
/// run 419 ms against 518 ms. Hence one thread per run and `parallelism` the core count.
public final class HibariEngine: ScheduledEngine {
    public let model: SpeechModel
    public let parallelism: Int
    /// heart, and every voice of the voices folder by name.
    private let voices: [String: HibariVoice]
    private let native: HibariVoice
    private let scheduler: SynthesisScheduler

    /// A voice as it is served: its model, and the phonemizer of its accent (shared by the
    /// voices of that accent).
    struct HibariVoice: Sendable {
        let session: OnnxSession
        let phonemizer: HibariPhonemizer
    }

    static let nativeVoice = "heart"
    /// The pace range the model was trained for (0.5 slow … 2.0 fast, hibari's docs); requests
    /// outside it get its nearest end.
    static let speeds: ClosedRange<Double> = 0.5...2.0
    static let outputs = ["lh", "theta", "ln", "lr", "phi", "f0"]

    /// The phonemizer heart reads with.
    var phonemizer: HibariPhonemizer { native.phonemizer }

    /// The phonemizer `voice` reads with (heart's for a name it does not have).
    func phonemizer(for voice: String) -> HibariPhonemizer { (voices[voice] ?? native).phonemizer }

    /// Loads the model and hibari's G2P data from `installation` on `scheduler`, checks the model
    /// has the inputs and outputs hibari's have, and speaks one word so the first request does
    /// not pay ONNX Runtime's first-run cost. hibari's other voices in `folder` are loaded too,
    /// with the British G2P data for British voices; one that does not load is skipped with a
    /// warning. When the G2P data does not load, eSpeak NG phonemizes everything, with a warning
    /// on `logger`.
    public static func start(
        installation: HibariInstallation, folder: HibariVoiceFolder? = nil, espeak: EspeakEngine,
        scheduler: SynthesisScheduler, onnxThreads: Int = 1, logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> HibariEngine {
        var found: [HibariVoiceFolder.Voice] = []
        if let folder {
            do {
                let scan = folder.scan(registry: try HibariVoiceFolder.registry(assets: installation.assetsDirectory))
                found = scan.voices
                for skipped in scan.skipped { logger.warning("local/hibari does not serve \(skipped)") }
            } catch {
                logger.warning("local/hibari serves heart alone: its voices.json did not load: \(error)")
            }
        }
        var accents: [HibariAccent] = [.american]
        if found.contains(where: { $0.accent == .british }) { accents.append(.british) }
        var g2ps: [HibariAccent: HibariG2P] = [:]
        for accent in accents {
            g2ps[accent] = await loadG2P(installation: installation, accent: accent, scheduler: scheduler, logger: logger)
        }
        return try await start(on: scheduler, warmUpVoice: nativeVoice) { [found, accents, g2ps] in
            let runtime = try OnnxRuntime(libraryPath: installation.runtimeLibraryPath)
            let vocabulary = try HibariPhonemizer.vocabulary(contentsOf: installation.vocabularyPath)
            var problems: [String] = []
            func phonemizer(_ accent: HibariAccent) -> HibariPhonemizer {
                var phonemizer = HibariPhonemizer(espeak: espeak, vocabulary: vocabulary, g2p: g2ps[accent] ?? nil)
                guard phonemizer.g2p != nil else { return phonemizer }
                do {
                    phonemizer.oov = try HibariOOV(runtime: runtime, model: installation.oovModelPath(for: accent))
                } catch {
                    problems.append(
                        "local/hibari reads unknown words with eSpeak NG (\(accent.rawValue)): its OOV model did not load: \(error)")
                }
                return phonemizer
            }
            let american = phonemizer(.american)
            let british = accents.contains(.british) ? phonemizer(.british) : american
            func voice(_ path: String, _ accent: HibariAccent) throws -> HibariVoice {
                let session = try runtime.session(modelPath: path, threads: onnxThreads)
                guard try session.inputCount == 2, try session.outputCount == outputs.count else {
                    throw SpeechError.engineFailure("\(path) does not have hibari's 2 inputs and 6 outputs")
                }
                return HibariVoice(session: session, phonemizer: accent == .british ? british : american)
            }
            let native = try voice(installation.modelPath, .american)
            var voices: [String: HibariVoice] = [:]
            for other in found {
                do {
                    voices[other.name] = try voice(other.modelPath, other.accent)
                } catch {
                    problems.append("local/hibari does not serve \(other.modelPath): \(error)")
                }
            }
            return (native, voices, problems)
        } then: { loaded in
            let (native, voices, problems) = loaded
            for problem in problems { logger.warning("\(problem)") }
            return HibariEngine(native: native, voices: voices, scheduler: scheduler)
        }
    }

    /// hibari's G2P data for `accent`, read once for the process on `scheduler`; nil, with a
    /// warning, when it does not load.
    static func loadG2P(
        installation: HibariInstallation, accent: HibariAccent, scheduler: SynthesisScheduler, logger: Logger
    ) async -> HibariG2P? {
        do {
            return try await scheduler.run {
                let g2p = try HibariG2P(assets: installation.assetsDirectory, accent: accent)
                // Decoding the JSON leaves its freed memory in malloc's arenas; given back, the
                // data costs the server 38 MB of RSS (debug build: 248 MB at start, 210 without).
                _ = malloc_trim(0)
                return g2p
            }
        } catch {
            logger.warning(
                "local/hibari phonemizes with eSpeak NG alone (\(accent.rawValue)): hibari's G2P data in \(installation.assetsDirectory) did not load: \(error)")
            return nil
        }
    }

    private init(native: HibariVoice, voices: [String: HibariVoice], scheduler: SynthesisScheduler) {
        var voices = voices
        voices[Self.nativeVoice] = native
        let names = [Self.nativeVoice] + voices.keys.filter { $0 != Self.nativeVoice }.sorted()
        model = .builtin(
            id: "local/hibari", name: "Local: hibari (heart)",
            description: "hibari, built in and offline: a 7.9 MB neural English voice distilled from "
                + "Kokoro-82M's af_heart, run by ONNX Runtime. hibari's other voices placed in the voices "
                + "folder are served by name; every other voice name speaks with heart.",
            voices: names, defaultVoice: Self.nativeVoice)
        self.native = native
        self.voices = voices
        self.scheduler = scheduler
        self.parallelism = scheduler.threadCount
    }

    /// A stream's first piece is the first few words (cut at a clause or word boundary, where
    /// hibari cuts long sentences): about 1.5 s of speech, some 25 ms of CPU in a release build,
    /// where a whole first sentence cost 0.62 s to the first byte under load. The pieces after grow
    /// twofold each, so the listener's buffer grows faster than the pieces it waits for.
    public var pieceSizes: PieceSizes { PieceSizes(first: 24) }

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let chosen = voices[voice] ?? native
        let pieces = try await chosen.phonemizer.pieces(in: text)
        guard !pieces.isEmpty else { return PCMAudio(samples: [], sampleRate: HibariVocoder.sampleRate) }
        let speed = speed.clamped(to: Self.speeds)
        let seed = HibariNoise.seed(text: text, voice: voice, speed: speed)
        let samples = try await scheduler.run { [session = chosen.session] in
            var noise = HibariNoise(seed: seed)
            var samples: [Int16] = []
            for ids in pieces {
                let spectrum = try Self.spectrum(of: ids, speed: Float(speed), session: session)
                let waveform = HibariVocoder.waveform(of: spectrum, noise: &noise)
                samples += HibariVocoder.pcm(waveform)
            }
            return samples
        }
        return PCMAudio(samples: samples, sampleRate: HibariVocoder.sampleRate)
    }

    /// Runs the model on one piece's ids and checks the shapes of what it returns.
    static func spectrum(of ids: [Int64], speed: Float, session: OnnxSession) throws -> HibariSpectrum {
        let results = try session.run(
            [("ids", .int64(ids, shape: [1, ids.count])), ("speed", .float([speed], shape: [1]))], outputs: outputs)
        let f0 = results[5]
        guard f0.shape.count == 2, f0.shape[0] == 1 else {
            throw SpeechError.engineFailure("hibari returned f0 of shape \(f0.shape)")
        }
        let frames = f0.shape[1]
        for part in results[0..<5] where part.shape != [1, HibariVocoder.bins, frames] {
            throw SpeechError.engineFailure("hibari returned a spectrum of shape \(part.shape) for \(frames) frames")
        }
        return HibariSpectrum(
            frames: frames, harmonicLogMagnitude: results[0].values, harmonicPhase: results[1].values,
            noiseLogMagnitude: results[2].values, residualLogMagnitude: results[3].values,
            residualPhase: results[4].values, f0: f0.values)
    }
}
