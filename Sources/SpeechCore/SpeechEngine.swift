import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Mono 16-bit samples at an engine's native rate.
public struct PCMAudio: Sendable {
    public var samples: [Int16]
    public var sampleRate: Int
    /// What the engine's C library printed while making this audio (eSpeak NG's `No envelope`),
    /// for the request to log once instead of the library writing it to the terminal.
    public var libraryMessages: [String]
    /// The words in this audio, in order, as the engine timed them (seconds from the start of
    /// these samples, offsets into the text it was given); nil from engines that do not time words.
    public var words: [WordTiming]?

    public init(samples: [Int16], sampleRate: Int, libraryMessages: [String] = [], words: [WordTiming]? = nil) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.libraryMessages = libraryMessages
        self.words = words
    }

    /// How long the samples play.
    public var duration: Duration {
        sampleRate > 0 ? .nanoseconds(Int64(samples.count) * 1_000_000_000 / Int64(sampleRate)) : .zero
    }
}

/// A speech engine that turns one piece of text at a time into samples.
public protocol SpeechEngine: Sendable {
    var model: SpeechModel { get }
    /// How many pieces of one request may be synthesized at the same time. Engines whose C state
    /// is process-global say 1; the pipeline still overlaps their synthesis with encoding.
    var parallelism: Int { get }
    /// How many pieces beyond `parallelism` one request keeps waiting in the engine's queue, so
    /// a worker that finishes a piece finds the next one at hand instead of idling until the
    /// piece before it has been written (engines on a shared deadline scheduler: 1; default 0).
    var queuedPieces: Int { get }
    /// How long a request's pieces are: engines that are slow per piece cut the first one
    /// shorter, so the first audio comes sooner.
    var pieceSizes: PieceSizes { get }
    /// Synthesizes one piece (a sentence or clause). Runs off the caller's executor: engines do
    /// their blocking C work on threads of their own.
    func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio
    /// The engine one request speaks with from its first piece to its last. Engines whose
    /// voices can be reloaded return one bound to the voices installed now, so a reload does
    /// not change a stream in flight; the others return themselves.
    func snapshot() -> any SpeechEngine
    /// Gives back memory the engine keeps between pieces only to be faster (ONNX Runtime's
    /// arena): the server calls it once it has been idle a while. Most engines keep none.
    func releaseIdleMemory() async
}

extension SpeechEngine {
    public var pieceSizes: PieceSizes { PieceSizes(first: 160) }
    public var queuedPieces: Int { 0 }

    public func snapshot() -> any SpeechEngine { self }
    public func releaseIdleMemory() async {}
}

extension Int16 {
    /// A sample from a floating-point one where ±1 is full scale: rounded, clamped to the
    /// 16-bit range, and 0 for NaN (a model's NaN or infinity must not trap the conversion).
    public init(sample: Float) {
        let scaled = (sample * 32_767).rounded()
        self = scaled.isNaN ? 0 : Int16(Swift.min(Swift.max(scaled, -32_768), 32_767))
    }
}

/// The processor time synthesis took for one caller: `MeasuredEngine` sets a tally around each
/// piece, and the threads that synthesize (the built-in engines' scheduler, eSpeak NG's thread)
/// add to it the time their own clock (`CLOCK_THREAD_CPUTIME_ID`) counted for the work the piece
/// asked of them. Unlike the piece's wall time it leaves out waiting for a thread, and the time
/// other threads and processes took the core from it.
public final class SynthesisCPUTime: Sendable {
    private let nanoseconds = Atomic<Int64>(0)

    public init() {}

    /// The time added so far.
    public var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// The tally of the piece the current task synthesizes, if it is measured.
    @TaskLocal public static var tally: SynthesisCPUTime?

    /// Runs `work` on the calling thread and adds the processor time it took to `tally`.
    public static func measuring<T>(into tally: SynthesisCPUTime?, _ work: () throws -> T) rethrows -> T {
        guard let tally else { return try work() }
        let start = threadNanoseconds()
        defer { tally.nanoseconds.add(max(threadNanoseconds() - start, 0), ordering: .relaxed) }
        return try work()
    }

    /// The calling thread's processor time so far, in nanoseconds (0 where there is no such clock).
    public static func threadNanoseconds() -> Int64 {
        var now = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0 else { return 0 }
        return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
    }
}

/// When a piece of synthesis is needed: the moment its listener would run out of audio without
/// it. The audio pipeline sets it around each piece it starts; the built-in engines' scheduler
/// runs the piece with the earliest deadline first. Unset means now.
public enum SynthesisDeadline {
    @TaskLocal public static var current: PieceDeadline?
    /// Which of a stream's opening pieces this is, if one: the scheduler keeps a stream's first
    /// two pieces together while many streams start at once (`SynthesisScheduler`).
    @TaskLocal public static var opening: SynthesisOpening?
}

/// The moment one piece is needed, as its stream knows it now. A piece started before its
/// stream's first audio has left is due by a guess (the audio before it at a guessed rate, from
/// the moment it started); once the audio leaves, the stream moves it to what the listener
/// really needs (from the first audio, at the stream's measured rate), and the scheduler, which
/// reads it each time it picks, orders the piece by that.
public final class PieceDeadline: Sendable {
    private let due: Mutex<ContinuousClock.Instant>

    public init(_ instant: ContinuousClock.Instant) {
        due = Mutex(instant)
    }

    public var instant: ContinuousClock.Instant { due.withLock { $0 } }

    public func move(to instant: ContinuousClock.Instant) {
        due.withLock { $0 = instant }
    }
}

/// A stream's first piece, or its second with the deadline its first had (the moment the stream
/// was started). Between them they hold the audio a listener has before the stream's later
/// pieces are due.
public enum SynthesisOpening: Sendable, Equatable {
    case first
    case second(firstDue: ContinuousClock.Instant)
}
