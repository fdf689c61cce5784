import CMalloc
import Foundation
public import Logging
public import SpeechCore
import Synchronization

/// `local/hibari`: hibari (hibari-tts 0.2.1, Apache-2.0), a 7.9 MB model distilled from
/// Kokoro-82M's af_heart voice, run by ONNX Runtime: heart, and hibari's other voices found in
/// the voices folder (`HibariVoiceFolder`), loaded at start and again at each `reload()`, the
/// British ones phonemized with hibari's British data.
///
/// hibari's own G2P phonemizes (`HibariPhonemizer`: its lexicon, tagger and normalization, with
/// eSpeak NG, on its own thread, for the words the lexicon does not have); the model turns each
/// piece of at most 400 phonemes into a spectrum per 12.5 ms frame, and `HibariVocoder` turns
/// that into 24 kHz samples, on the shared `SynthesisScheduler`. The noise in the spectrum comes from a
/// generator seeded by the text, voice and speed, so a request always gives the same samples.
/// Each voice's session is shared by all threads (ONNX Runtime allows concurrent runs on it); each run
/// uses one intra-op thread and pieces run side by side, one per scheduler thread (core).
///
/// Measured on the 2-core machine under other builds' load: one model run for 7 s of speech takes
/// 62 ms of CPU, the vocoder 50 ms and the noise 16 ms (release); per sentence (3-5 s of speech,
/// debug build) one intra-op thread took 0.32-0.50 s against 0.38-0.59 s with two, and a bare C
/// run 419 ms against 518 ms. Hence one thread per run and `parallelism` the core count.
public final class HibariEngine: ScheduledEngine {
    public let model: SpeechModel
    public let parallelism: Int
    /// The voices folder, if any.
    public let folder: HibariVoiceFolder?
    private let native: HibariVoice
    /// The voices of the folder by name, as the last reload found them.
    private let installed: Mutex<[String: HibariVoice]>
    private let roster: VoiceRoster
    private let loader: HibariVoiceLoader
    private let scheduler: SynthesisScheduler

    static let nativeVoice = "heart"
    /// The pace range the model was trained for (0.5 slow … 2.0 fast, hibari's docs); requests
    /// outside it get its nearest end.
    static let speeds: ClosedRange<Double> = 0.5...2.0
    static let outputs = ["lh", "theta", "ln", "lr", "phi", "f0"]

    /// The phonemizer heart reads with.
    var phonemizer: HibariPhonemizer { native.phonemizer }

    /// The phonemizer `voice` reads with (heart's for a name it does not have).
    func phonemizer(for voice: String) -> HibariPhonemizer {
        (installed.withLock { $0[voice] } ?? native).phonemizer
    }

    /// Loads the model and hibari's G2P data from `installation` on `scheduler`, checks the model
    /// has the inputs and outputs hibari's have, and speaks one word so the first request does
    /// not pay ONNX Runtime's first-run cost; then loads hibari's other voices in `folder` (see
    /// `reload`). When the G2P data does not load, eSpeak NG phonemizes everything, with a
    /// warning on `logger`.
    public static func start(
        installation: HibariInstallation, folder: HibariVoiceFolder? = nil, espeak: EspeakEngine,
        scheduler: SynthesisScheduler, onnxThreads: Int = 1, logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> HibariEngine {
        let loader = try await scheduler.run {
            try HibariVoiceLoader(installation: installation, espeak: espeak, onnxThreads: onnxThreads)
        }
        if folder != nil, let problem = loader.registryProblem {
            logger.warning("local/hibari serves heart alone: its voices.json did not load: \(problem)")
        }
        let american = await loader.phonemizer(for: .american, on: scheduler, logger: logger)
        let engine = try await start(on: scheduler, warmUpVoice: nativeVoice) {
            try loader.voice(at: installation.modelPath, accent: .american, phonemizer: american, stamped: false)
        } then: { native in
            HibariEngine(native: native, folder: folder, loader: loader, scheduler: scheduler)
        }
        await engine.reload(logger: logger)
        return engine
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

    private init(native: HibariVoice, folder: HibariVoiceFolder?, loader: HibariVoiceLoader, scheduler: SynthesisScheduler) {
        roster = VoiceRoster([native.rosterEntry(name: Self.nativeVoice)])
        model = .builtin(
            id: "local/hibari", name: "Local: hibari (heart)",
            description: "hibari, built in and offline: a 7.9 MB neural English voice distilled from "
                + "Kokoro-82M's af_heart, run by ONNX Runtime. hibari's other voices placed in the voices "
                + "folder are served by name; every other voice name speaks with heart.",
            voices: [], defaultVoice: Self.nativeVoice, roster: roster)
        self.native = native
        self.folder = folder
        self.loader = loader
        self.scheduler = scheduler
        self.installed = Mutex([:])
        self.parallelism = scheduler.threadCount
    }

    /// Reads the voices folder again and serves the hibari voices it holds now: voices whose
    /// file did not change stay loaded, new or changed ones are loaded (a British one with the
    /// British G2P data, read the first time one comes) and speak one word, removed ones go. Each
    /// file skipped gets one warning on `logger`. Streams already running keep the voices they
    /// started with (see `snapshot()`). Call it from one task at a time.
    public func reload(logger: Logger) async {
        guard let folder, !loader.registry.isEmpty else { return }
        let registry = loader.registry
        let scan = (try? await scheduler.run { folder.scan(registry: registry) })
            ?? HibariVoiceFolder.Scan(voices: [], skipped: [])
        let current = installed.withLock { $0 }
        var loaded: [String: HibariVoice] = [:]
        var skipped = scan.skipped
        for found in scan.voices {
            let stamp = FileStamp(path: found.modelPath)
            if let kept = current[found.name], kept.modelPath == found.modelPath, kept.stamp == stamp {
                loaded[found.name] = kept
                continue
            }
            let phonemizer = await loader.phonemizer(for: found.accent, on: scheduler, logger: logger)
            do {
                let voice = try await scheduler.run { [loader] in
                    try loader.voice(at: found.modelPath, accent: found.accent, phonemizer: phonemizer, stamped: true)
                }
                _ = try await Self.synthesize("Hi.", voice: voice, named: found.name, speed: 1, on: scheduler)
                loaded[found.name] = voice
            } catch {
                skipped.append(.init(file: found.modelPath, reason: PiperVoiceFolder.reason(error)))
            }
        }
        for file in skipped {
            logger.warning("hibari voice skipped: \(file.file): \(file.reason)")
        }
        installed.withLock { $0 = loaded }
        roster.replace(
            with: [native.rosterEntry(name: Self.nativeVoice)]
                + loaded.sorted { $0.key < $1.key }.map { $0.value.rosterEntry(name: $0.key) })
        logger.info("hibari voices", metadata: ["folder": "\(folder.directory)", "voices": "\(roster.voices.map(\.name))"])
    }

    /// The voices as they are now, for one request from its first piece to its last.
    public func snapshot() -> any SpeechEngine {
        HibariVoiceSnapshot(
            model: model, parallelism: parallelism, native: native, voices: installed.withLock { $0 },
            scheduler: scheduler)
    }

    /// A stream's first piece is the first few words (cut at a clause or word boundary, where
    /// hibari cuts long sentences): about 1.5 s of speech, some 25 ms of CPU in a release build,
    /// where a whole first sentence cost 0.62 s to the first byte under load. The pieces after grow by
    /// a quarter each, so the listener's buffer grows while the work due soon after a start stays
    /// small: when 100 streams start at once, every stream's second piece is due about when the
    /// last first pieces are done, and second pieces twice as long as the first left a fifth of
    /// the streams stalling (19 and 23 of 100) where a quarter longer left 0-3 (4 runs; +15%: 22
    /// and 27, too many small runs; +40%: 7 and 12). One stream alone is as fast either way.
    /// The second piece is as long as the first (`PieceSizes`' reckoning: a quarter longer is
    /// just too much for 100 streams started at once): with 120 at once 9 and 8 streams stalled
    /// against 17 and 10, first bytes as before, one stream alone as fast (0.63 s for 2,000
    /// characters to pcm both).
    public var pieceSizes: PieceSizes { Self.pieceSizes }
    public var queuedPieces: Int { SynthesisScheduler.queuedPiecesPerRequest }
    static let pieceSizes = PieceSizes(first: 24, growthPercent: 125, openingPieces: 2)

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        try await snapshot().synthesize(text, voice: voice, speed: speed)
    }

    /// `text` in `voice`, which a request named `name` (the noise is seeded by the name).
    static func synthesize(
        _ text: String, voice: HibariVoice, named name: String, speed: Double, on scheduler: SynthesisScheduler
    ) async throws -> PCMAudio {
        let pieces = try await voice.phonemizer.pieces(in: text)
        guard !pieces.isEmpty else { return PCMAudio(samples: [], sampleRate: HibariVocoder.sampleRate) }
        let speed = speed.clamped(to: Self.speeds)
        let seed = HibariNoise.seed(text: text, voice: name, speed: speed)
        let samples = try await scheduler.run { [session = voice.session] in
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

    /// Gives back the ONNX Runtime arena memory of every loaded voice that no run is using: for
    /// each, one model run of a word's phonemes that ends by shrinking the arena, on the
    /// scheduler; a voice that fails is left as it is.
    public func releaseIdleMemory() async {
        for voice in [native] + installed.withLock({ Array($0.values) }) {
            guard let ids = try? await voice.phonemizer.pieces(in: "Hi.").first else { continue }
            _ = try? await scheduler.run { [session = voice.session] in
                try Self.spectrum(of: ids, speed: 1, session: session, releasingArenaMemory: true)
            }
        }
    }

    /// Runs the model on one piece's ids and checks the shapes of what it returns.
    static func spectrum(
        of ids: [Int64], speed: Float, session: OnnxSession, releasingArenaMemory: Bool = false
    ) throws -> HibariSpectrum {
        let results = try session.run(
            [("ids", .int64(ids, shape: [1, ids.count])), ("speed", .float([speed], shape: [1]))], outputs: outputs,
            releasingArenaMemory: releasingArenaMemory)
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

/// `local/hibari` with the voices installed when a request started: a reload while it plays
/// changes nothing for it.
struct HibariVoiceSnapshot: SpeechEngine {
    let model: SpeechModel
    let parallelism: Int
    let native: HibariVoice
    let voices: [String: HibariVoice]
    let scheduler: SynthesisScheduler

    var pieceSizes: PieceSizes { HibariEngine.pieceSizes }
    var queuedPieces: Int { SynthesisScheduler.queuedPiecesPerRequest }

    func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        try await HibariEngine.synthesize(text, voice: voices[voice] ?? native, named: voice, speed: speed, on: scheduler)
    }
}

/// One hibari voice as it is served: its model's session, the phonemizer of its accent (shared
/// by the voices of that accent), and its file's size and time (nil for the packaged heart).
struct HibariVoice: Sendable {
    let session: OnnxSession
    let phonemizer: HibariPhonemizer
    let accent: HibariAccent
    let modelPath: String
    let stamp: FileStamp?

    /// The voice in `/models` and in the speech cache's key: replacing its file changes its
    /// identity.
    func rosterEntry(name: String) -> VoiceRoster.Voice {
        let identity = stamp.map { "\(modelPath) \($0.size)@\($0.modified.timeIntervalSince1970) \(accent.rawValue)" } ?? ""
        return VoiceRoster.Voice(name: name, language: accent == .british ? "en-gb" : "en-us", identity: identity)
    }
}

/// What hibari's voices are loaded with: ONNX Runtime, the model's vocabulary, hibari's
/// registry of voices, and one phonemizer per accent, each made the first time a voice needs it.
final class HibariVoiceLoader: Sendable {
    let installation: HibariInstallation
    let runtime: OnnxRuntime
    let espeak: EspeakEngine
    let vocabulary: [Unicode.Scalar: Int64]
    let onnxThreads: Int
    /// hibari's voices by name (empty when voices.json did not load, with the reason in
    /// `registryProblem`).
    let registry: [String: HibariVoiceFolder.Entry]
    let registryProblem: String?
    private let phonemizers = Mutex<[HibariAccent: HibariPhonemizer]>([:])

    /// Opens ONNX Runtime and reads the vocabulary and registry: blocking work.
    init(installation: HibariInstallation, espeak: EspeakEngine, onnxThreads: Int) throws {
        self.installation = installation
        self.espeak = espeak
        self.onnxThreads = onnxThreads
        runtime = try OnnxRuntime(libraryPath: installation.runtimeLibraryPath)
        vocabulary = try HibariPhonemizer.vocabulary(contentsOf: installation.vocabularyPath)
        do {
            registry = try HibariVoiceFolder.registry(assets: installation.assetsDirectory)
            registryProblem = nil
        } catch {
            registry = [:]
            registryProblem = "\(error)"
        }
    }

    /// The phonemizer of `accent`: hibari's G2P data and OOV model for it, read on `scheduler`
    /// the first time (eSpeak NG alone, with a warning on `logger`, when they do not load).
    func phonemizer(for accent: HibariAccent, on scheduler: SynthesisScheduler, logger: Logger) async
        -> HibariPhonemizer
    {
        if let made = phonemizers.withLock({ $0[accent] }) { return made }
        let g2p = await HibariEngine.loadG2P(
            installation: installation, accent: accent, scheduler: scheduler, logger: logger)
        var phonemizer = HibariPhonemizer(
            espeak: espeak, vocabulary: vocabulary, accent: accent, g2p: g2p, scheduler: scheduler)
        if g2p != nil {
            let model = installation.oovModelPath(for: accent)
            do {
                phonemizer.oov = try await scheduler.run { [runtime] in try HibariOOV(runtime: runtime, model: model) }
            } catch {
                logger.warning(
                    "local/hibari reads unknown words with eSpeak NG (\(accent.rawValue)): its OOV model did not load: \(error)")
            }
        }
        return phonemizers.withLock { made in
            if let earlier = made[accent] { return earlier }
            made[accent] = phonemizer
            return phonemizer
        }
    }

    /// Loads the model at `path` and checks it has hibari's inputs and outputs: blocking work.
    func voice(at path: String, accent: HibariAccent, phonemizer: HibariPhonemizer, stamped: Bool) throws
        -> HibariVoice
    {
        let session = try runtime.session(modelPath: path, threads: onnxThreads)
        guard try session.inputCount == 2, try session.outputCount == HibariEngine.outputs.count else {
            throw SpeechError.engineFailure("\(path) does not have hibari's 2 inputs and 6 outputs")
        }
        return HibariVoice(
            session: session, phonemizer: phonemizer, accent: accent, modelPath: path,
            stamp: stamped ? FileStamp(path: path) : nil)
    }
}
