import Foundation
public import SpeechCore

/// `local/piper`: a Piper neural voice (VITS, en_US joe), run offline by sherpa-onnx.
///
/// sherpa-onnx no longer phonemizes, so the text goes through eSpeak NG first (`PiperPhonemizer`,
/// on eSpeak NG's own thread), then the phonemes through the model on the shared `SynthesisScheduler`. One
/// model is loaded and shared by all threads (see `SherpaTts` for why that is safe); each
/// synthesis runs ONNX Runtime on one thread, and pieces run side by side, one per core.
///
/// Measured for one 12-word sentence (4 s of speech) on the 2-core machine, under other load:
/// one ONNX thread 0.79-0.91 s, two threads 1.25-1.74 s; two sentences at once took 2.1-2.6 s
/// with one thread each and 2.8-3.1 s with two each (idle, one sentence: 0.60 s on one
/// thread, 0.37 s on two). One thread per piece and two pieces at a time gives the most
/// speech per second and lets two requests progress side by side, so `num_threads` is 1 and
/// `parallelism` the core count.
public final class PiperEngine: ScheduledEngine {
    public let model = SpeechModel.builtin(
        id: "local/piper", name: "Local: Piper (joe)",
        description: "Piper, built in and offline: a natural neural English voice (en_US joe, "
            + "VITS via sherpa-onnx). Every voice name speaks with the one voice, joe.",
        voices: [PiperEngine.nativeVoice], defaultVoice: PiperEngine.nativeVoice)
    public let parallelism: Int
    private let tts: SherpaTts
    private let phonemizer: PiperPhonemizer
    private let scheduler: SynthesisScheduler

    static let nativeVoice = "joe"

    /// Loads sherpa-onnx and the voice from `installation` (preparing sherpa-onnx's copy of the
    /// voice once) on `scheduler`, and speaks one word so the
    /// first request does not pay ONNX Runtime's first-run cost. Throws when any part is
    /// missing or does not load.
    public static func start(
        installation: PiperInstallation, espeak: EspeakEngine, scheduler: SynthesisScheduler
    ) async throws -> PiperEngine {
        try await start(on: scheduler, warmUpVoice: nativeVoice) {
            let voice = try PiperVoice(modelPath: installation.modelPath)
            let sherpa = try SherpaOnnxLibrary(path: installation.libraryPath)
            let (model, tokens) = try voice.prepareForSherpa(in: installation.preparedDirectory)
            return (voice, try SherpaTts(sherpa: sherpa, voice: voice, model: model, tokens: tokens, onnxThreads: 1))
        } then: { loaded in
            let (voice, tts) = loaded
            return PiperEngine(
                tts: tts, phonemizer: PiperPhonemizer(espeak: espeak, voice: voice), scheduler: scheduler)
        }
    }

    private init(tts: SherpaTts, phonemizer: PiperPhonemizer, scheduler: SynthesisScheduler) {
        self.tts = tts
        self.phonemizer = phonemizer
        self.scheduler = scheduler
        self.parallelism = scheduler.threadCount
    }

    /// Synthesis time follows the audio's length (about 0.15-0.2 s per second of speech on one
    /// thread; eSpeak NG's phonemes for all 2,000 characters of the benchmark text take 8 ms), so
    /// the first audio waits for the whole first piece. "The lighthouse on the northern cape" (35
    /// characters, 1.8 s of speech) took 0.35 s; with the comma clause after it (54 characters,
    /// 4.5 s), 0.8 s. 40 characters keeps the first byte well under 0.7 s.
    public var firstPieceLength: Int { 40 }

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let sentences = try await phonemizer.sentences(in: text)
        guard !sentences.isEmpty else { return PCMAudio(samples: [], sampleRate: tts.sampleRate) }
        let samples = try await scheduler.run { [tts] in
            try tts.generate(sentences: sentences, speed: Float(speed))
        }
        return PCMAudio(samples: samples, sampleRate: tts.sampleRate)
    }
}
