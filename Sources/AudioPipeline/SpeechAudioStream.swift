public import SpeechCore
import Synchronization

/// The audio of one response as an asynchronous sequence of encoded chunks.
///
/// Text is cut into pieces (`SentenceSplitter`); each piece is synthesized by the engine,
/// resampled to 24 kHz and pushed through one encoder, so the pieces join into one continuous
/// stream. Work is pulled: nothing is synthesized until the consumer asks, and at most
/// `engine.parallelism + engine.queuedPieces` pieces are in flight, so memory stays bounded
/// however long the input.
/// Pieces start small, so the first audio comes soon, and grow as the stream gets ahead; each
/// carries the moment its listener will need it (`SynthesisDeadline`), so a piece queued ahead
/// waits behind other streams' more urgent ones.
public struct SpeechAudioStream: AsyncSequence {
    public typealias Element = [UInt8]

    let engine: any SpeechEngine
    let text: String
    let voice: String
    let speed: Double
    let format: AudioFormat
    let progress: SpeechProgress?

    public init(
        engine: any SpeechEngine, text: String, voice: String, speed: Double, format: AudioFormat,
        progress: SpeechProgress? = nil
    ) {
        // Every piece from the voices as they are now, so a reload does not change a stream in flight.
        self.engine = engine.snapshot()
        self.text = text
        self.voice = voice
        self.speed = speed
        self.format = format
        self.progress = progress
    }

    /// The audio of a resolved request, from the engine that serves its model.
    public init(engine: any SpeechEngine, speech: ResolvedSpeech, progress: SpeechProgress?) {
        self.init(
            engine: engine, text: speech.request.input, voice: speech.voice, speed: speech.request.speed,
            format: speech.request.responseFormat, progress: progress)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(state: PipelineState(stream: self))
    }

    /// @unchecked: the iterator owns C encoder and resampler state. It may be handed from one
    /// task to another (the request handler starts it, the response writer finishes it), but
    /// like any async iterator it is only ever advanced by one task at a time.
    public struct Iterator: AsyncIteratorProtocol, @unchecked Sendable {
        let state: PipelineState

        public mutating func next() async throws -> [UInt8]? {
            try await state.next()
        }
    }
}

/// The state behind an audio stream's iterator: `produce` makes the next chunk; once it has
/// returned nil or thrown (`finished`), `next` returns nil, as an async iterator must.
public protocol AudioProducer: AnyObject {
    var finished: Bool { get set }
    func produce() async throws -> [UInt8]?
}

extension AudioProducer {
    public func next() async throws -> [UInt8]? {
        if finished { return nil }
        do {
            return try await produce()
        } catch {
            finished = true
            throw error
        }
    }
}

/// Counts what a stream has spoken so far, for billing a stream that ends early.
public final class SpeechProgress: Sendable {
    private let characters = Mutex((spoken: 0, incurred: 0))
    /// What engines' C libraries printed, each distinct line once with how often.
    private let messages = Mutex([String: Int]())
    /// Distinct library lines kept per stream: the rest are counted, not stored.
    static let distinctMessageLimit = 20
    /// Whether the stream times its words (`return_timestamps`).
    public let timesWords: Bool
    /// The words timed and not yet taken, and how much audio has left the resampler (seconds).
    private let words = Mutex((pending: [WordTiming](), written: 0.0))

    public init(timesWords: Bool = false) {
        self.timesWords = timesWords
    }

    /// Keeps the timings of words whose audio has been made.
    public func noteWords(_ timings: [WordTiming]) {
        guard timesWords, !timings.isEmpty else { return }
        words.withLock { $0.pending += timings }
    }

    /// `seconds` of the response's audio have gone to its encoder. The resampler holds back the
    /// last few milliseconds of what it is given until more comes or the stream ends.
    public func noteAudio(written seconds: Double) {
        guard timesWords else { return }
        words.withLock { $0.written = seconds }
    }

    /// The words timed since the last call, in order, whose audio has gone to the encoder: all
    /// of them once the stream has ended (`all`).
    public func takeWords(all: Bool = false) -> [WordTiming] {
        words.withLock { words in
            let ready = all ? words.pending.count : words.pending.prefix { $0.endTime <= words.written }.count
            defer { words.pending.removeFirst(ready) }
            return Array(words.pending.prefix(ready))
        }
    }

    /// Characters whose audio has been made: charged once it reaches the client.
    public var spokenCharacters: Int { characters.withLock { $0.spoken } }

    /// Characters an upstream has started to speak, and so bills us for whether or not the
    /// client takes the audio: charged however the stream ends.
    public var incurredCharacters: Int { characters.withLock { $0.incurred } }

    public func add(_ count: Int) { characters.withLock { $0.spoken += count } }

    public func incur(_ count: Int) { characters.withLock { $0.incurred += count } }

    /// Keeps what an engine's C library printed while speaking a piece.
    public func noteLibraryMessages(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        messages.withLock { messages in
            for line in lines {
                let key = messages[line] != nil || messages.count < Self.distinctMessageLimit ? line : "(other lines)"
                messages[key, default: 0] += 1
            }
        }
    }

    /// One line for all the library's messages of this stream (`espeak: No envelope (×2076)`),
    /// nil when there were none: for a log line, once per request.
    public var libraryMessages: String? {
        let counted = messages.withLock { $0 }
        guard !counted.isEmpty else { return nil }
        return counted.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { $0.value == 1 ? $0.key : "\($0.key) (×\($0.value))" }.joined(separator: "; ")
    }
}

final class PipelineState: AudioProducer {
    private struct Piece {
        let text: String
        /// Where the piece starts in the input, in code points.
        let offset: Int
        let characters: Int
        /// The input's code points from the end of the piece before to the end of this one: what
        /// its audio counts as spoken, so the spaces and punctuation between pieces count too.
        let billed: Int
        let endsSentence: Bool
        /// When the piece is needed, moved as the stream learns more (`moveDeadlines`).
        let deadline: PieceDeadline
        let task: Task<PCMAudio, any Error>
    }

    private let stream: SpeechAudioStream
    private var splitter: SentenceSplitter.Iterator
    private var inFlight: [Piece] = []
    private var sink: AudioSink?
    var finished = false
    /// Whether any piece has given samples yet: pieces may come back empty (nothing in them the
    /// engine could speak), and a request whose pieces all do is unspeakable.
    private var spokeSamples = false
    /// When the first audio left, and how much audio has been made since the start: together
    /// they say when the listener will run out (`deadline`).
    private var firstAudioAt: ContinuousClock.Instant?
    private var audioMade = Duration.zero
    /// The characters and audio of the pieces that gave samples: the stream's own speaking rate,
    /// for guessing how much audio the pieces still in flight will make.
    private var spoken = (characters: 0, audio: Duration.zero)
    /// Pieces started so far: each may be longer than the one before (`pieceLength`).
    private var piecesStarted = 0
    /// The deadline the stream's first piece was given: its second piece's, too, while many
    /// streams start at once (`SynthesisOpening`).
    private var firstPieceDue: ContinuousClock.Instant?
    /// When the piece before the next one ended inside a sentence, the pause kept there.
    private var followsCut: Duration?
    /// The input up to the last piece started, for the offsets of the words in the next one.
    private var consumed: (index: String.Index, characters: Int)
    /// Where the last piece started ends in the input, for what the next one bills.
    private var billedUpTo: String.Index

    init(stream: SpeechAudioStream) {
        self.stream = stream
        self.splitter = SentenceSplitter(stream.text).makeIterator()
        self.consumed = (stream.text.startIndex, 0)
        self.billedUpTo = stream.text.startIndex
    }

    deinit {
        for piece in inFlight { piece.task.cancel() }
    }

    func produce() async throws -> [UInt8]? {
        var output: [UInt8] = []
        let sink: AudioSink
        if let existing = self.sink {
            sink = existing
        } else {
            fill()
            guard !inFlight.isEmpty else { throw SpeechError.unspeakableInput(model: stream.engine.model.id) }
            sink = AudioSink(format: stream.format, progress: stream.progress)
            self.sink = sink
            output = try sink.begin()
        }
        var spokeAPiece = false
        while !spokeAPiece || output.isEmpty {
            guard !inFlight.isEmpty else {
                finished = true
                guard spokeSamples else { throw SpeechError.unspeakableInput(model: stream.engine.model.id) }
                // What follows the last piece (spaces, closing punctuation) is spoken with it.
                sink.spoke(characters: stream.text.unicodeScalars[billedUpTo...].count)
                output += try sink.finish()
                return output.isEmpty ? nil : output
            }
            let piece = inFlight.removeFirst()
            let joinPause = Self.joinPause(after: piece.text)
            // Engines leave a pause at both ends of what they speak; where a sentence was cut
            // into pieces (the small first pieces), the halves join as one utterance.
            let audio = try await withTaskCancellationHandler {
                try await piece.task.value
            } onCancel: {
                piece.task.cancel()
            }.trimmingSilence(
                leading: followsCut != nil, trailing: !piece.endsSentence,
                keeping: max(followsCut ?? .zero, joinPause))
            followsCut = piece.endsSentence ? nil : joinPause
            try Task.checkCancellation()
            audioMade += audio.duration
            if !audio.samples.isEmpty {
                spoken.characters += piece.characters
                spoken.audio += audio.duration
            }
            // Start the next piece before encoding this one, so synthesis and encoding overlap.
            fill()
            output += try sink.write(audio)
            if let progress = stream.progress, progress.timesWords {
                // The piece just made starts where the audio before it ended.
                let start = (audioMade - audio.duration).components
                let seconds = Double(start.seconds) + Double(start.attoseconds) * 1e-18
                progress.noteWords(
                    (audio.words ?? audio.placedWords(for: piece.text)).map {
                        $0.shifted(by: seconds, characters: piece.offset)
                    })
            }
            stream.progress?.noteLibraryMessages(audio.libraryMessages)
            // Pieces are synthesized apart, and engines trim the silence after a last sentence:
            // between sentences the listener gets a pause of at least `sentencePause`.
            if piece.endsSentence && !inFlight.isEmpty && !audio.samples.isEmpty {
                let pause = audio.silencePadding(toLast: PipelineState.sentencePause)
                output += try sink.write(pause)
                audioMade += pause.duration
            }
            sink.spoke(characters: piece.billed)
            spokeSamples = spokeSamples || !audio.samples.isEmpty
            spokeAPiece = spokeSamples
        }
        if firstAudioAt == nil { firstAudioAt = .now }
        moveDeadlines()
        return output
    }

    /// How long before its listener needs a piece the scheduler should aim to have it: covers
    /// the piece's own synthesis and the hop to the client.
    static let deadlineMargin = Duration.milliseconds(500)

    /// When a piece started now, behind the pieces in flight, is needed (`deadline(after:)`).
    private var deadline: ContinuousClock.Instant {
        deadline(after: audioMade + inFlight.reduce(Duration.zero) { $0 + estimatedAudio(characters: $1.characters) })
    }

    /// When a piece with `ahead` of audio before it is needed: at once when no audio comes
    /// before it; otherwise when a listener who starts at the first audio (now, if none has left
    /// yet) will have heard `ahead`, less `deadlineMargin`. The pauses the pieces before it may
    /// end with are not counted, which errs early.
    private func deadline(after ahead: Duration) -> ContinuousClock.Instant {
        guard ahead > .zero else { return .now }
        return (firstAudioAt ?? .now) + ahead - Self.deadlineMargin
    }

    /// Gives each piece in flight the deadline the stream now knows for it: from the first audio
    /// (not from when the piece started, as for pieces started before it), after the audio
    /// really made and the rest at the stream's measured rate. When many streams start at once,
    /// a stream whose first audio left early and was short needs its second piece before one
    /// that started later, whatever their first pieces' lengths guessed.
    private func moveDeadlines() {
        var ahead = audioMade
        for piece in inFlight {
            piece.deadline.move(to: deadline(after: ahead))
            ahead += estimatedAudio(characters: piece.characters)
        }
    }

    /// Seconds of audio a character makes before the stream has measured its own rate: less than
    /// the built-in voices make (Piper's joe speaks 1,000 characters in 57 s), so a guess errs early.
    static let assumedSecondsPerCharacter = 0.04

    /// The audio `characters` characters should make, at the stream's own rate so far.
    private func estimatedAudio(characters: Int) -> Duration {
        let perCharacter =
            spoken.characters > 0
            ? spoken.audio / .seconds(1) / Double(spoken.characters)
            : Self.assumedSecondsPerCharacter / max(stream.speed, 0.25)
        let seconds = perCharacter * Double(characters)
        // A piece holds at most `SentenceSplitter`'s 400 characters: minutes at the very most.
        return seconds.isFinite ? .seconds(min(max(seconds, 0), 3_600)) : .zero
    }

    /// The most characters piece `index` (from 0) may hold: the engine's `pieceSizes`, up to
    /// `SentenceSplitter`'s usual limit.
    func pieceLength(_ index: Int) -> Int {
        stream.engine.pieceSizes.length(ofPiece: index, longest: SentenceSplitter.defaultMaxLength)
    }

    /// The most silence left on each side where a sentence was cut into two pieces: a breath
    /// between words, a short pause after a comma or colon. Flite left 0.38 s, hibari 0.73 s,
    /// after a first piece ending "on the".
    static func joinPause(after piece: String) -> Duration {
        let last = piece.last { !$0.isWhitespace }
        return last.map { ",;:—–)".contains($0) } == true ? .milliseconds(100) : .milliseconds(40)
    }

    /// The pause between two sentences: eSpeak NG's own CLI leaves 0.31-0.34 s at 175 wpm.
    static let sentencePause = Duration.milliseconds(250)

    private func fill() {
        while inFlight.count < max(stream.engine.parallelism, 1) + min(max(stream.engine.queuedPieces, 0), 8),
            let text = splitter.next(maxLength: pieceLength(piecesStarted))
        {
            let (piece, voice, speed, due) = (String(text), stream.voice, stream.speed, deadline)
            let deadline = PieceDeadline(due)
            let opening: SynthesisOpening? =
                switch piecesStarted {
                case 0: .first
                case 1: firstPieceDue.map { .second(firstDue: $0) }
                default: nil
                }
            if piecesStarted == 0 { firstPieceDue = due }
            piecesStarted += 1
            let engine = stream.engine
            consumed.characters += stream.text.unicodeScalars[consumed.index..<text.startIndex].count
            consumed.index = text.startIndex
            let billed = stream.text.unicodeScalars[billedUpTo..<text.endIndex].count
            billedUpTo = text.endIndex
            let task = Task {
                try await SynthesisDeadline.$opening.withValue(opening) {
                    try await SynthesisDeadline.$current.withValue(deadline) {
                        try await engine.synthesize(piece, voice: voice, speed: speed)
                    }
                }
            }
            inFlight.append(
                Piece(
                    text: piece, offset: consumed.characters, characters: piece.unicodeScalars.count, billed: billed,
                    endsSentence: SentenceSplitter.endsSentence(piece), deadline: deadline,
                    task: task))
        }
    }
}
