import CFlite
import Foundation
public import SpeechCore
import Synchronization

/// `local/flite`: CMU Flite's English voices.
///
/// Thread safety: `flite_init` and the `register_*` calls write globals, so they run once,
/// under `registration`. Synthesis builds a fresh utterance per call and only reads the shared
/// voice; 400 concurrent syntheses on one voice from 4 threads gave the same lengths as serial
/// runs, so pieces run in parallel on the shared `SynthesisScheduler`. Per-request settings (speed)
/// go on the utterance's features, never on the shared voice.
public final class FliteEngine: SpeechEngine {
    public let model: SpeechModel
    public let parallelism: Int
    private let voices: [String: FliteVoice]
    private let scheduler: SynthesisScheduler

    /// OpenAI's voice names mapped to the closest Flite voice (slt is the only female one).
    static let openAIVoiceMap = [
        "alloy": "slt", "ash": "rms", "ballad": "awb", "coral": "slt", "echo": "rms", "fable": "awb",
        "onyx": "rms", "nova": "slt", "sage": "kal16", "shimmer": "slt", "verse": "kal16",
        "marin": "slt", "cedar": "awb",
    ]

    /// Flite's pieces run on `scheduler`, as many side by side as it has threads.
    public init(scheduler: SynthesisScheduler) {
        self.scheduler = scheduler
        self.parallelism = scheduler.threadCount
        self.voices = FliteVoice.registerAll()
        self.model = .builtin(
            id: "local/flite", name: "Local: CMU Flite",
            description: "CMU Flite, built in and offline: small, fast, robotic English voices.",
            voices: voices.keys.sorted(), defaultVoice: "slt")
    }

    /// A stream's first piece is the first few words (cut at a clause or word boundary): slt
    /// costs about 20 ms of CPU per second of speech, so a whole first sentence of the benchmark
    /// text held the first byte back 0.2 s alone and 0.4 s with the machine loaded; 24
    /// characters bring it to 94 ms under that load. Later pieces grow by a quarter each, as
    /// hibari's (see `HibariEngine.pieceSizes`): with 48 streams started at once, twofold growth
    /// left 1-4 of them stalling in their first seconds, by half none; with 80 at once, growth by
    /// half left 1, 18 and 2 stalling, by a quarter 1, 4 and 1, and one stream alone was as fast
    /// (`Benchmarks/bench_capacity.py --engines flite --ladder 80`, `bench_speech.py`). The
    /// second piece is as long as the first, as hibari's: with 100 at once 1 and 2 stalled
    /// against 4 and 4 (80: none either way).
    public var pieceSizes: PieceSizes { PieceSizes(first: 24, growthPercent: 125, openingPieces: 2) }
    public var queuedPieces: Int { SynthesisScheduler.queuedPiecesPerRequest }

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let name = Self.openAIVoiceMap[voice] ?? voice
        guard let fliteVoice = voices[name] else {
            throw SpeechError.unknownVoice(model: model.id, voice: voice, available: model.voices)
        }
        // The text is folded on the synthesis thread too: with many streams starting at once,
        // folding their first pieces on the threads that answer requests held a `/health` back.
        return try await scheduler.run {
            let speakable = Self.readable(text)
            if speakable.text.isEmpty { return PCMAudio(samples: [], sampleRate: fliteVoice.sampleRate) }
            return fliteVoice.synthesize(speakable, speed: speed)
        }
    }

    /// Flite reads English from ASCII; its letter-to-sound rules have no entries for other bytes
    /// and `cst_error` exits the process on some malformed input. Accents are folded and
    /// anything else outside printable ASCII is dropped before the text reaches C.
    static func speakable(_ text: String) -> String { readable(text).text }

    /// `speakable`'s text with where each of its characters came from in `text`.
    static func readable(_ text: String) -> TextOrigins {
        var result = TextOrigins()
        for (offset, original) in text.unicodeScalars.enumerated() {
            // Folded one code point at a time, so each result character knows its origin.
            for scalar in String(original).decomposedStringWithCompatibilityMapping.unicodeScalars {
                switch scalar.value {
                case 0x20...0x7E: result.append(String(scalar), from: offset)
                case 0x09, 0x0A, 0x0D: result.append(" ", from: offset)
                case 0x2018, 0x2019: result.append("'", from: offset)
                case 0x201C, 0x201D: result.append("\"", from: offset)
                case 0x2013, 0x2014: result.append(", ", from: offset)
                case 0x2026: result.append("...", from: offset)
                default: continue
                }
            }
        }
        return result.text.contains(where: { $0.isLetter || $0.isNumber }) ? result : TextOrigins()
    }
}

/// One registered Flite voice. The pointer is owned by Flite's global voice list for the life
/// of the process and only read after registration, so sharing it across threads is safe.
struct FliteVoice: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<cst_voice>
    let sampleRate: Int

    private static let registration = Mutex(false)

    static func registerAll() -> [String: FliteVoice] {
        registration.withLock { initialized in
            if !initialized {
                flite_init()
                initialized = true
            }
            var voices: [String: FliteVoice] = [:]
            let registrations: [(String, (UnsafePointer<CChar>?) -> UnsafeMutablePointer<cst_voice>?)] = [
                ("slt", register_cmu_us_slt), ("rms", register_cmu_us_rms), ("awb", register_cmu_us_awb),
                ("kal16", register_cmu_us_kal16), ("kal", register_cmu_us_kal),
            ]
            for (name, register) in registrations {
                guard let pointer = register(nil) else { continue }
                voices[name] = FliteVoice(pointer: pointer, sampleRate: probeRate(pointer))
            }
            return voices
        }
    }

    /// The voice's output rate, read from a one-word synthesis (Flite voices do not expose it).
    private static func probeRate(_ voice: UnsafeMutablePointer<cst_voice>) -> Int {
        guard let wave = flite_text_to_wave("a", voice) else { return 16_000 }
        defer { delete_wave(wave) }
        return Int(wave.pointee.sample_rate)
    }

    func synthesize(_ text: TextOrigins, speed: Double) -> PCMAudio {
        guard let utterance = new_utterance() else { return PCMAudio(samples: [], sampleRate: sampleRate) }
        defer { delete_utterance(utterance) }
        utt_set_input_text(utterance, text.text)
        utt_init(utterance, pointer)
        // Flite keeps feature names by pointer, so the name must outlive the utterance:
        // feat_own_string copies it into the utterance's own features.
        let features = utterance.pointee.features
        feat_set_float(features, feat_own_string(features, "duration_stretch"), Float(1 / speed))
        ThreadRandom.seed(0)  // the excitation's noise: the same for the same text, every time
        guard utt_synth(utterance) != nil, let wave = utt_wave(utterance), wave.pointee.num_samples > 0 else {
            return PCMAudio(samples: [], sampleRate: sampleRate)
        }
        let samples = Array(UnsafeBufferPointer(start: wave.pointee.samples, count: Int(wave.pointee.num_samples)))
        let duration = Double(samples.count) / Double(wave.pointee.sample_rate)
        return PCMAudio(
            samples: samples, sampleRate: Int(wave.pointee.sample_rate),
            words: Self.words(of: utterance, in: text, duration: duration))
    }

    /// Each token of the text (a run between spaces, its punctuation aside) that Flite spoke, from
    /// the start of its first word's first segment to the end of its last word's last segment.
    /// A segment's `end` feature is where it ends in the wave, in seconds, with the utterance's
    /// duration stretch applied; a segment starts where the one before it ends.
    private static func words(of utterance: UnsafeMutablePointer<cst_utterance>, in text: TextOrigins, duration: Double)
        -> [WordTiming]
    {
        let scalars = Array(text.text.unicodeScalars)
        var cursor = 0
        var words: [WordTiming] = []
        var token = relation_head(utt_relation(utterance, "Token"))
        while let current = token {
            token = item_next(current)
            guard let name = item_feat_string(current, "name").map({ Array(String(cString: $0).unicodeScalars) }),
                !name.isEmpty, let found = firstRange(of: name, in: scalars, from: cursor)
            else { continue }
            cursor = found.upperBound
            // The token's words (several for "42" or "Dr."), down to their segments.
            guard let first = path_to_item(current, "daughter1.R:SylStructure.daughter1.daughter1.R:Segment"),
                let last = path_to_item(current, "daughtern.R:SylStructure.daughtern.daughtern.R:Segment"),
                let range = text.original(found)
            else { continue }
            let start = item_prev(first).map { Double(item_feat_float($0, "end")) } ?? 0
            let end = min(Double(item_feat_float(last, "end")), duration)
            guard end > start else { continue }
            words.append(
                WordTiming(
                    word: String(String.UnicodeScalarView(name)), startTime: start, endTime: end,
                    charStart: range.lowerBound, charEnd: range.upperBound))
        }
        return words
    }

    private static func firstRange(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int)
        -> Range<Int>?
    {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index..<(index + needle.count) }
            index += 1
        }
        return nil
    }
}
