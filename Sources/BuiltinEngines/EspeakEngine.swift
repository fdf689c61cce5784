import CEspeakNG
import Foundation
import NIOPosix
public import SpeechCore

/// `local/espeak-ng`: eSpeak NG, 100+ languages and their variants.
///
/// Thread safety: eSpeak NG keeps all of its state in process globals (the current voice, the
/// rate, the output callback, the phoneme tables), so every call into it, initialization
/// included, runs on one dedicated thread. Requests take turns a piece at a time, so a long
/// request does not hold the engine for its whole length, and the event loop never waits on it.
// @unchecked: the two mutable fields are touched only on `thread`, one call at a time.
public final class EspeakEngine: SpeechEngine, @unchecked Sendable {
    public let model: SpeechModel
    public var parallelism: Int { 1 }
    private let thread: NIOThreadPool
    private let sampleRate: Int
    // Touched only on `thread`.
    private var currentVoice = ""
    /// Each listed language and the name of the voice that speaks it (see `listLanguages`).
    private let voiceNames: [String: String]
    private var currentRate: Int32 = 0

    static let defaultRate = 175.0
    static let openAIVoiceMap = [
        "alloy": "en-us+f3", "ash": "en-us+m3", "ballad": "en-gb+m2", "coral": "en-us+f2",
        "echo": "en-us+m1", "fable": "en-gb+m3", "onyx": "en-us+m7", "nova": "en-us+f4",
        "sage": "en-us+f1", "shimmer": "en-us+f5", "verse": "en-us+m2", "marin": "en-us+f3",
        "cedar": "en-us+m4",
    ]

    /// The process's engine: its thread is started and eSpeak NG initialized on it on first use.
    /// eSpeak NG's state is process-global, so every caller (the eSpeak NG model, Piper's
    /// phonemizer, tests of several suites in one process) shares one engine and one thread.
    public static func start() async throws -> EspeakEngine {
        try await shared.value
    }

    private static let shared = Task { try await launch() }

    private static func launch() async throws -> EspeakEngine {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        let (rate, languages, variants) = try await thread.runIfActive {
            () throws -> (Int, [String: String], [String]) in
            espeak_ng_InitializePath(nil)
            let status = espeak_ng_Initialize(nil)
            guard status == ENS_OK else { throw SpeechError.engineFailure("eSpeak NG failed to initialize (\(status))") }
            let outputStatus = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nil)
            guard outputStatus == ENS_OK else {
                throw SpeechError.engineFailure("eSpeak NG output failed to initialize (\(outputStatus))")
            }
            espeak_SetSynthCallback(collectSamples)
            return (Int(espeak_ng_GetSampleRate()), listLanguages(), listVariants())
        }
        return EspeakEngine(thread: thread, sampleRate: rate, languages: languages, variants: variants)
    }

    private init(thread: NIOThreadPool, sampleRate: Int, languages: [String: String], variants: [String]) {
        self.thread = thread
        self.sampleRate = sampleRate
        self.voiceNames = languages
        let languages = languages.keys.sorted()
        self.model = .builtin(
            id: "local/espeak-ng", name: "Local: eSpeak NG",
            description: "eSpeak NG, built in and offline: formant synthesis in over 100 languages. "
                + "Voices are language codes, optionally with a variant (en-us+f3).",
            voices: languages, defaultVoice: "en-us", voiceVariants: variants)
    }

    public func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let name = Self.openAIVoiceMap[voice] ?? voice
        let rate = Int32((Self.defaultRate * speed).rounded().clamped(to: 80...450))
        let cleaned = Self.readable(text)
        let tally = SynthesisCPUTime.tally
        return try await thread.runIfActive {
            try SynthesisCPUTime.measuring(into: tally) { try self.synthesizeOnEngineThread(cleaned, voice: name, rate: rate) }
        }
    }

    /// The IPA phonemes of each of `clauses` as eSpeak NG reads them in `voice` (an eSpeak NG
    /// voice name, not an OpenAI one). eSpeak NG may cut a clause further at punctuation of its
    /// own; those parts are joined with a space. A clause with nothing to read gives "".
    /// With `tie`, the letters of a multi-letter phoneme are joined by it ("a^ɪ" for tie "^").
    public func phonemize(_ clauses: [String], voice: String, tie: Unicode.Scalar? = nil) async throws -> [String] {
        let cleaned = clauses.map(Self.cleaned)
        let mode = espeakPHONEMES_IPA | (tie.map { espeakPHONEMES_TIE | Int32($0.value << 8) } ?? 0)
        let tally = SynthesisCPUTime.tally
        return try await thread.runIfActive {
            try SynthesisCPUTime.measuring(into: tally) { try self.phonemesOnEngineThread(cleaned, voice: voice, mode: mode) }
        }
    }

    /// `phonemize`'s work, on the engine's thread.
    private func phonemesOnEngineThread(_ cleaned: [String], voice: String, mode: Int32) throws -> [String] {
        // Selected afresh, not only when it changed: synthesis leaves state in eSpeak NG's
        // translator that changed the phonemes of the same text now and then (seen as a hibari
        // request that came out 175 ms shorter while other voices were speaking).
        currentVoice = ""
        try selectVoice(voice)
        return cleaned.map { Self.phonemesOnEngineThread($0, mode: mode) }
    }

    /// The text without control characters and invisible code points, which eSpeak NG would
    /// otherwise read out or stumble on.
    static func cleaned(_ text: String) -> String { readable(text).text }

    /// `cleaned`'s text with where each of its characters came from in `text`.
    static func readable(_ text: String) -> TextOrigins {
        var result = TextOrigins()
        for (offset, scalar) in text.unicodeScalars.enumerated()
        where !scalar.properties.isDefaultIgnorableCodePoint && (scalar.value >= 0x20 || scalar == "\n") {
            result.append(String(scalar), from: offset)
        }
        return result
    }

    private static func phonemesOnEngineThread(_ text: String, mode: Int32) -> String {
        var parts: [String] = []
        text.withCString { pointer in
            // espeak_TextToPhonemes reads one clause per call and moves the pointer past it,
            // setting it to NULL at the end of the text.
            var cursor: UnsafeRawPointer? = UnsafeRawPointer(pointer)
            while cursor != nil {
                guard let phonemes = espeak_TextToPhonemes(&cursor, espeakCHARS_UTF8, mode) else { break }
                let part = String(cString: phonemes)
                if !part.isEmpty { parts.append(part) }
            }
        }
        return parts.joined(separator: " ")
    }

    /// Selects `voice`: a voice file's name, else a listed language through the name of the
    /// voice that speaks it, either with an optional `+variant`.
    private func selectVoice(_ voice: String) throws {
        guard voice != currentVoice else { return }
        var status = espeak_SetVoiceByName(voice)
        if status != EE_OK {
            let parts = voice.split(separator: "+", maxSplits: 1).map(String.init)
            if let language = parts.first, let name = voiceNames[language] {
                status = espeak_SetVoiceByName(parts.count == 2 ? name + "+" + parts[1] : name)
            }
        }
        guard status == EE_OK else { throw SpeechError.engineFailure("eSpeak NG has no voice \(voice)") }
        currentVoice = voice
    }

    private func synthesizeOnEngineThread(_ readable: TextOrigins, voice: String, rate: Int32) throws -> PCMAudio {
        let text = readable.text
        try selectVoice(voice)
        if rate != currentRate {
            espeak_SetParameter(espeakRATE, rate, 0)
            currentRate = rate
        }
        let collector = SampleCollector()
        let (status, messages) = StandardErrorCapture.capture {
            withExtendedLifetime(collector) {
                text.withCString { pointer in
                    espeak_Synth(
                        pointer, strlen(pointer) + 1, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil,
                        Unmanaged.passUnretained(collector).toOpaque())
                }
            }
        }
        guard status == EE_OK else { throw SpeechError.engineFailure("eSpeak NG synthesis failed (\(status))") }
        return PCMAudio(
            samples: collector.samples, sampleRate: sampleRate, libraryMessages: messages,
            words: collector.words(in: readable, sampleRate: sampleRate))
    }

    /// Every language eSpeak NG speaks, each with the name of the voice that speaks it best
    /// (lowest priority number). A language code such as `en-gb` or `es-mx` is not a voice
    /// file's name, so `espeak_SetVoiceByName` only finds it through that voice's name.
    private static func listLanguages() -> [String: String] {
        guard let list = espeak_ListVoices(nil) else { return [:] }
        var best: [String: (priority: UInt8, voice: String)] = [:]
        var index = 0
        while let voice = list[index] {
            index += 1
            guard let name = voice.pointee.name.map({ String(cString: $0) }) else { continue }
            // `languages` is a run of (priority byte, NUL-terminated name), ending with a 0 byte.
            guard var cursor = voice.pointee.languages else { continue }
            while cursor.pointee != 0 {
                let priority = UInt8(bitPattern: cursor.pointee)
                let language = String(cString: cursor + 1)
                if best[language].map({ priority < $0.priority }) ?? true { best[language] = (priority, name) }
                cursor += 1 + strlen(cursor + 1) + 1
            }
        }
        return best.mapValues(\.voice)
    }

    private static func listVariants() -> [String] {
        var spec = espeak_VOICE()
        return "variant".withCString { language in
            spec.languages = language
            guard let list = espeak_ListVoices(&spec) else { return [] }
            var variants: [String] = []
            var index = 0
            while let voice = list[index] {
                index += 1
                if let identifier = voice.pointee.identifier {
                    let path = String(cString: identifier)
                    variants.append(String(path.split(separator: "/").last ?? Substring(path)))
                }
            }
            return Array(Set(variants)).sorted()
        }
    }
}

/// Receives samples and events from eSpeak NG's callback during one synchronous `espeak_Synth` call.
final class SampleCollector {
    var samples: [Int16] = []
    /// `espeakEVENT_WORD`s: where the word starts in the audio (ms) and in the text (its
    /// 1-based `text_position`, in code points of the text eSpeak NG read).
    var wordEvents: [(milliseconds: Int, position: Int)] = []
    /// Where clauses and sentences end in the audio (ms): no word runs past one.
    var boundaries: [Int] = []
    /// Below this a sample counts as silence (about -36 dBFS, as the pipeline's sentence pauses).
    static let silence: Int32 = 500

    /// The words eSpeak NG announced, each from its event to the next word's event or the end of
    /// its clause, whichever is first, less the silence before that (eSpeak NG reports where a
    /// word starts, not where it ends). Offsets go back to the caller's text through `readable`.
    ///
    /// An event's `text_position` is where eSpeak NG began reading the word, but its `length`
    /// is not the word's: 0 for a word after a typographic quote (“naïve”), 2 for "It's", 1 for
    /// "e-mail", 4 three times for "1995" (spoken as three words). So each event names the word
    /// of the text (`TextOrigins.words`) that holds its position or starts right after it past
    /// punctuation only; events of one word (a number's) time it together, and an event of no
    /// word (eSpeak NG saying "&") times nothing.
    func words(in readable: TextOrigins, sampleRate: Int) -> [WordTiming] {
        let rate = Double(sampleRate)
        let duration = Double(samples.count) / rate
        let scalars = Array(readable.text.unicodeScalars)
        let spans = TextOrigins.words(of: readable.text)
        var words: [WordTiming] = []
        // The span of the last word timed, and the first span not yet timed.
        var (timed, untimed): (Int?, Int) = (nil, 0)
        for (index, event) in wordEvents.enumerated() {
            let start = Double(event.milliseconds) / 1000
            var end = duration
            if index + 1 < wordEvents.count { end = Double(wordEvents[index + 1].milliseconds) / 1000 }
            if let boundary = boundaries.first(where: { $0 > event.milliseconds }) {
                end = min(end, Double(boundary) / 1000)
            }
            end = min(end, duration)
            // Back off the silence that ends the interval.
            var last = min(Int(end * rate), samples.count)
            let first = Int(start * rate)
            while last > first + 1, abs(Int32(samples[last - 1])) < Self.silence { last -= 1 }
            end = Double(last) / rate
            let position = event.position - 1
            guard end > start, position >= 0 else { continue }
            if let timed, spans[timed].range.contains(position) {
                words[words.count - 1].endTime = max(words[words.count - 1].endTime, end)
                continue
            }
            guard let found = spans[untimed...].firstIndex(where: { $0.range.upperBound > position }),
                spans[found].range.lowerBound <= position
                    || scalars[position..<spans[found].range.lowerBound].allSatisfy(Self.isPunctuation),
                let range = readable.original(spans[found].range)
            else { continue }
            (timed, untimed) = (found, found + 1)
            words.append(
                WordTiming(
                    word: spans[found].word, startTime: start, endTime: end, charStart: range.lowerBound,
                    charEnd: range.upperBound))
        }
        return words
    }

    /// Neither space nor part of a word: a quote or bracket eSpeak NG may start a word's event on.
    private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        !scalar.properties.isWhitespace && !scalar.properties.isAlphabetic && scalar.properties.numericType == nil
    }
}

/// eSpeak NG's synthesis callback; `user_data` carries the `SampleCollector` of the call.
private func collectSamples(
    _ wave: UnsafeMutablePointer<Int16>?, _ count: Int32, _ events: UnsafeMutablePointer<espeak_EVENT>?
) -> Int32 {
    guard let events, let sink = events.pointee.user_data else { return 0 }
    let collector = Unmanaged<SampleCollector>.fromOpaque(sink).takeUnretainedValue()
    if let wave, count > 0 {
        collector.samples.append(contentsOf: UnsafeBufferPointer(start: wave, count: Int(count)))
    }
    var event = events
    while event.pointee.type != espeakEVENT_LIST_TERMINATED {
        let item = event.pointee
        switch item.type {
        case espeakEVENT_WORD:
            collector.wordEvents.append((Int(item.audio_position), Int(item.text_position)))
        case espeakEVENT_END, espeakEVENT_SENTENCE, espeakEVENT_MSG_TERMINATED:
            collector.boundaries.append(Int(item.audio_position))
        default: break
        }
        event += 1
    }
    return 0
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
