import Foundation
public import Logging
public import SpeechCore
import Synchronization

/// `local/piper`: Piper neural voices (VITS), run offline by ONNX Runtime: the packaged voice
/// (en_US joe, the default) and every voice in the voices folder (`PiperVoiceFolder`), loaded at
/// start and again at each `reload()`.
///
/// The text goes through eSpeak NG first (`PiperPhonemizer`, in each voice's own eSpeak NG voice,
/// on eSpeak NG's own thread), then the phonemes through the model (`PiperModel`) on the shared
/// `SynthesisScheduler`. Each voice's model is loaded once and shared by all threads (ONNX
/// Runtime allows concurrent runs of one session); each synthesis runs ONNX Runtime on one
/// thread, and pieces run side by side, one per core.
///
/// Measured for one 12-word sentence (4 s of speech) on the 2-core machine, under other load:
/// one ONNX thread 0.79-0.91 s, two threads 1.25-1.74 s; two sentences at once took 2.1-2.6 s
/// with one thread each and 2.8-3.1 s with two each (idle, one sentence: 0.60 s on one
/// thread, 0.37 s on two). One thread per piece and two pieces at a time gives the most
/// speech per second and lets two requests progress side by side, so one intra-op thread and
/// `parallelism` the core count.
public final class PiperEngine: ScheduledEngine {
    public let model: SpeechModel
    public let parallelism: Int
    /// The voices folder, if any.
    public let folder: PiperVoiceFolder?
    private let installed: Mutex<PiperVoiceSet>
    private let roster: VoiceRoster
    private let runtime: OnnxRuntime
    private let espeak: EspeakEngine
    private let scheduler: SynthesisScheduler

    static let nativeVoice = "joe"

    /// Loads ONNX Runtime and the packaged voice from `installation` on `scheduler`, speaks one
    /// word so the first request does not pay ONNX
    /// Runtime's first-run cost, then loads the voices in `folder`. Throws when any part of the
    /// installation is missing or does not load; a folder voice that does not load is skipped
    /// with a warning on `logger`.
    public static func start(
        installation: PiperInstallation, espeak: EspeakEngine, scheduler: SynthesisScheduler,
        folder: PiperVoiceFolder? = nil, logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> PiperEngine {
        let engine = try await start(on: scheduler, warmUpVoice: nativeVoice) {
            let runtime = try OnnxRuntime(libraryPath: installation.runtimeLibraryPath)
            let voice = try PiperVoice(modelPath: installation.modelPath)
            return (runtime, try LoadedPiperVoice(voice, runtime: runtime, espeak: espeak))
        } then: { loaded in
            PiperEngine(runtime: loaded.0, packaged: loaded.1, espeak: espeak, scheduler: scheduler, folder: folder)
        }
        await engine.reload(logger: logger)
        return engine
    }

    private init(
        runtime: OnnxRuntime, packaged: LoadedPiperVoice, espeak: EspeakEngine, scheduler: SynthesisScheduler,
        folder: PiperVoiceFolder?
    ) {
        let voices = PiperVoiceSet(packaged: packaged, folder: [])
        roster = VoiceRoster(voices.roster)
        model = SpeechModel.builtin(
            id: "local/piper", name: "Local: Piper",
            description: "Piper, built in and offline: natural neural voices (VITS via ONNX Runtime): en_US joe, "
                + "and every Piper voice in the voices folder. OpenAI's voice names speak with the installed "
                + "voices in joe's language.",
            voices: [], defaultVoice: Self.nativeVoice, roster: roster)
        installed = Mutex(voices)
        self.runtime = runtime
        self.espeak = espeak
        self.scheduler = scheduler
        self.folder = folder
        self.parallelism = scheduler.threadCount
    }

    /// Reads the voices folder again and serves what it holds now: voices whose files did not
    /// change keep their loaded model, new or changed ones are loaded, removed ones go. Each
    /// file that is skipped gets one warning on `logger` naming it and saying why. Streams
    /// already running keep the voices they started with (see `snapshot()`). Call it from one
    /// task at a time.
    public func reload(logger: Logger) async {
        guard let folder else { return }
        let scan = (try? await scheduler.run { folder.scan() }) ?? PiperVoiceFolder.Scan(voices: [], skipped: [])
        let current = installed.withLock { $0 }
        var loaded: [(name: String, voice: LoadedPiperVoice)] = []
        var skipped = scan.skipped
        for (name, voice) in scan.voices {
            if name == Self.nativeVoice {
                skipped.append(.init(file: voice.modelPath, reason: "the packaged voice is named \(name)"))
                continue
            }
            let stamp = FileStamp.of(voice)
            if let kept = current.folder.first(where: { $0.name == name && $0.voice.stamp == stamp }) {
                loaded.append(kept)
                continue
            }
            do {
                let fresh = try await scheduler.run { [runtime, espeak] in
                    try LoadedPiperVoice(voice, runtime: runtime, espeak: espeak)
                }
                try await fresh.warmUp(on: scheduler)
                loaded.append((name, fresh))
            } catch {
                skipped.append(.init(file: voice.modelPath, reason: PiperVoiceFolder.reason(error)))
            }
        }
        for file in skipped {
            logger.warning("Piper voice skipped: \(file.file): \(file.reason)")
        }
        let voices = PiperVoiceSet(packaged: current.packaged, folder: loaded)
        installed.withLock { $0 = voices }
        roster.replace(with: voices.roster)
        logger.info(
            "Piper voices", metadata: ["folder": "\(folder.directory)", "voices": "\(voices.roster.map(\.name))"])
    }

    /// The voices as they are now, for one request from its first piece to its last.
    public func snapshot() -> any SpeechEngine {
        PiperVoiceSnapshot(
            model: model, parallelism: parallelism, voices: installed.withLock { $0 }, scheduler: scheduler)
    }

    /// Gives back the ONNX Runtime arena memory of every loaded voice that no run is using (see
    /// `PiperModel`), on the scheduler; a voice that fails is left as it is.
    public func releaseIdleMemory() async {
        let voices = installed.withLock { $0 }
        for loaded in [voices.packaged] + voices.folder.map(\.voice) {
            _ = try? await scheduler.run { try loaded.tts.releaseFreeMemory() }
        }
    }

    /// Synthesis time follows the audio's length (about 0.15-0.2 s per second of speech on one
    /// thread; eSpeak NG's phonemes for all 2,000 characters of the benchmark text take 8 ms), so
    /// the first audio waits for the whole first piece. "The lighthouse on the northern cape" (35
    /// characters, 1.8 s of speech) took 0.35 s; with the comma clause after it (54 characters,
    /// 4.5 s), 0.8 s. 40 characters keeps the first byte well under 0.7 s.
    public var pieceSizes: PieceSizes { PiperVoiceSnapshot.pieceSizes }
    public var queuedPieces: Int { SynthesisScheduler.queuedPiecesPerRequest }

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        try await snapshot().synthesize(text, voice: voice, speed: speed)
    }
}

/// `local/piper` with the voices installed when a request started: a reload while it plays
/// changes nothing for it.
struct PiperVoiceSnapshot: SpeechEngine {
    let model: SpeechModel
    let parallelism: Int
    let voices: PiperVoiceSet
    let scheduler: SynthesisScheduler

    /// 40 characters first (see `PiperEngine.pieceSizes`), the second as long, then a quarter
    /// longer each: twofold growth cannot keep 16 streams started at once playing on 2 cores
    /// (`PieceSizes`' reckoning). 16 Piper streams at once (an ad-hoc copy of
    /// `bench_capacity.py`'s client, release builds alternating): 9, 7, 9, 10, 4 stalled with
    /// twofold growth; 1, 5, 4, 4, 2 with a quarter; 2, 8, 0, 2 with the second piece as long as
    /// the first (the reckoning's slack, not seen apart from the noise here). One stream alone is
    /// as fast (2,000 characters to pcm 4.9 s against 5.0 s).
    static let pieceSizes = PieceSizes(first: 40, growthPercent: 125, openingPieces: 2)
    var pieceSizes: PieceSizes { Self.pieceSizes }
    var queuedPieces: Int { SynthesisScheduler.queuedPiecesPerRequest }

    func synthesize(_ text: String, voice name: String, speed: Double) async throws -> PCMAudio {
        guard let (voice, speaker) = voices.resolve(name) else {
            throw SpeechError.unknownVoice(model: model.id, voice: name, available: voices.roster.map(\.name))
        }
        return try await voice.synthesize(text, speaker: speaker, speed: speed, on: scheduler)
    }
}

/// One Piper voice loaded: its config, its model, its phonemizer, and the sizes and
/// times of the files it was loaded from.
final class LoadedPiperVoice: Sendable {
    let voice: PiperVoice
    let tts: PiperModel
    let phonemizer: PiperPhonemizer
    let stamp: [FileStamp?]

    /// The model's path with its files' sizes and times: replacing either file changes it.
    var identity: String {
        ([voice.modelPath] + stamp.map { $0.map { "\($0.size)@\($0.modified.timeIntervalSince1970)" } ?? "-" })
            .joined(separator: " ")
    }

    /// Loads the model: seconds of blocking work.
    init(_ voice: PiperVoice, runtime: OnnxRuntime, espeak: EspeakEngine) throws {
        stamp = FileStamp.of(voice)
        tts = try PiperModel(voice, runtime: runtime)
        phonemizer = PiperPhonemizer(espeak: espeak, voice: voice)
        self.voice = voice
    }

    func synthesize(_ text: String, speaker: Int, speed: Double, on scheduler: SynthesisScheduler) async throws
        -> PCMAudio
    {
        let sentences = try await phonemizer.sentences(in: text)
        guard !sentences.isEmpty else { return PCMAudio(samples: [], sampleRate: tts.sampleRate) }
        let samples = try await scheduler.run { [tts] in
            try tts.generate(sentences: sentences, speaker: speaker, speed: Float(speed))
        }
        return PCMAudio(samples: samples, sampleRate: tts.sampleRate)
    }

    /// Speaks one word, so a model that loads but does not run is found now, not by a request.
    func warmUp(on scheduler: SynthesisScheduler) async throws {
        _ = try await synthesize("Hi.", speaker: 0, speed: 1, on: scheduler)
    }
}

/// A file's size and modification time: a file that kept both is taken as unchanged.
struct FileStamp: Sendable, Equatable {
    var size: Int
    var modified: Date

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date
        else { return nil }
        self.size = size
        self.modified = modified
    }

    /// The stamps of a voice's model and config.
    static func of(_ voice: PiperVoice) -> [FileStamp?] {
        [FileStamp(path: voice.modelPath), FileStamp(path: voice.modelPath + ".json")]
    }
}
