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
    public let model = SpeechModel.builtin(
        id: "local/hibari", name: "Local: hibari (heart)",
        description: "hibari, built in and offline: a 7.9 MB neural English voice distilled from "
            + "Kokoro-82M's af_heart, run by ONNX Runtime. Every voice name speaks with the one voice, heart.",
        voices: [HibariEngine.nativeVoice], defaultVoice: HibariEngine.nativeVoice)
    public let parallelism: Int
    private let session: OnnxSession
    let phonemizer: HibariPhonemizer
    private let scheduler: SynthesisScheduler

    static let nativeVoice = "heart"
    /// The pace range the model was trained for (0.5 slow … 2.0 fast, hibari's docs); requests
    /// outside it get its nearest end.
    static let speeds: ClosedRange<Double> = 0.5...2.0
    static let outputs = ["lh", "theta", "ln", "lr", "phi", "f0"]

    /// Loads the model and hibari's G2P data from `installation` on `scheduler`, checks the model
    /// has the inputs and outputs hibari's have, and speaks one word so the first request does
    /// not pay ONNX Runtime's first-run cost. When the G2P data does not load, eSpeak NG
    /// phonemizes everything, with a warning on `logger`.
    public static func start(
        installation: HibariInstallation, espeak: EspeakEngine, scheduler: SynthesisScheduler, onnxThreads: Int = 1,
        logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> HibariEngine {
        let g2p = await loadG2P(installation: installation, scheduler: scheduler, logger: logger)
        return try await start(on: scheduler, warmUpVoice: nativeVoice) {
            let runtime = try OnnxRuntime(libraryPath: installation.runtimeLibraryPath)
            let session = try runtime.session(modelPath: installation.modelPath, threads: onnxThreads)
            guard try session.inputCount == 2, try session.outputCount == outputs.count else {
                throw SpeechError.engineFailure(
                    "\(installation.modelPath) does not have hibari's 2 inputs and 6 outputs")
            }
            let oov = Result { try HibariOOV(runtime: runtime, model: installation.oovModelPath) }
            return (session, try HibariPhonemizer.vocabulary(contentsOf: installation.vocabularyPath), oov)
        } then: { loaded in
            let (session, vocabulary, oov) = loaded
            var phonemizer = HibariPhonemizer(espeak: espeak, vocabulary: vocabulary, g2p: g2p)
            switch oov {
            case .success(let model) where g2p != nil:
                phonemizer.oov = model
            case .success:
                break
            case .failure(let error):
                logger.warning("local/hibari reads unknown words with eSpeak NG: its OOV model did not load: \(error)")
            }
            return HibariEngine(session: session, phonemizer: phonemizer, scheduler: scheduler)
        }
    }

    /// hibari's G2P data, read once for the process on `scheduler`; nil, with a warning, when it
    /// does not load.
    static func loadG2P(installation: HibariInstallation, scheduler: SynthesisScheduler, logger: Logger) async
        -> HibariG2P?
    {
        do {
            return try await scheduler.run {
                let g2p = try HibariG2P(assets: installation.assetsDirectory)
                // Decoding the JSON leaves its freed memory in malloc's arenas; given back, the
                // data costs the server 38 MB of RSS (debug build: 248 MB at start, 210 without).
                _ = malloc_trim(0)
                return g2p
            }
        } catch {
            logger.warning(
                "local/hibari phonemizes with eSpeak NG alone: hibari's G2P data in \(installation.assetsDirectory) did not load: \(error)")
            return nil
        }
    }

    private init(session: OnnxSession, phonemizer: HibariPhonemizer, scheduler: SynthesisScheduler) {
        self.session = session
        self.phonemizer = phonemizer
        self.scheduler = scheduler
        self.parallelism = scheduler.threadCount
    }

    /// A stream's first piece is the first few words (cut at a clause or word boundary, where
    /// hibari cuts long sentences): about 1.5 s of speech, some 25 ms of CPU in a release build,
    /// where a whole first sentence cost 0.62 s to the first byte under load. The pieces after grow
    /// twofold each, so the listener's buffer grows faster than the pieces it waits for.
    public var pieceSizes: PieceSizes { PieceSizes(first: 24) }

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let pieces = try await phonemizer.pieces(in: text)
        guard !pieces.isEmpty else { return PCMAudio(samples: [], sampleRate: HibariVocoder.sampleRate) }
        let speed = speed.clamped(to: Self.speeds)
        let seed = HibariNoise.seed(text: text, voice: voice, speed: speed)
        let samples = try await scheduler.run { [session] in
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
