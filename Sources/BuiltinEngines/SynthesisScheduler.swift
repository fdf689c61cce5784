import Foundation
import SpeechCore

#if canImport(Glibc)
import Glibc
#endif

/// The threads every built-in engine's synthesis runs on, one per core, shared by all requests:
/// a free thread takes the queued piece with the earliest deadline (`SynthesisDeadline`), so a
/// stream whose listener is about to run out of audio goes before one with seconds in hand, and
/// a new stream's first piece (due now) before pieces due later. Pieces with the same deadline
/// run in the order they came. A deadline may move while its piece waits (`PieceDeadline`: a
/// stream's first audio tells when its listener really needs the pieces queued before it), so
/// each pick reads the waiting pieces' deadlines as they are then. A piece whose task is
/// cancelled (its client went away) leaves the queue at once and never runs.
///
/// While many streams start at once (`pairingThreshold` first pieces waiting), a stream's
/// second piece counts as due when its first was, so each stream's first two pieces run
/// together: otherwise every first piece, due now, runs before any second piece, and the
/// streams that started first run out of audio while the last ones get their first. Pieces go
/// in that order by `SynthesisDeadline.opening`.
///
/// The threads run at a lower priority than the rest of the process (`niceness`), so while
/// every core synthesizes, the event loops still answer `/health`, refuse a stream with 503 and
/// write audio at once: synthesis takes what CPU they leave.
///
/// Each piece's processor time goes to the tally its caller carries (`SynthesisCPUTime`).
///
/// The queue and the threads' lifetimes are guarded by one `NSCondition`; the work itself runs
/// outside it.
public final class SynthesisScheduler: @unchecked Sendable {
    /// What one request keeps queued here beyond a piece per thread (its engine's
    /// `queuedPieces`): one more, so a thread that finishes early takes the request's next piece
    /// (one Flite stream alone, 2,000 characters: 0.92 s against 1.00 s with none queued; hibari
    /// 0.88 s against 0.92 s; median of 5, release build). Pieces still run earliest deadline
    /// first, so a queued piece waits behind other requests' more urgent ones.
    public static let queuedPiecesPerRequest = 1

    private struct Job {
        let id: UInt64
        let deadline: PieceDeadline
        let opening: SynthesisOpening?
        /// Runs the work and resumes its caller: called once, by a worker, outside the lock.
        let run: () -> Void
        /// Resumes its caller with an error instead; called once, under the lock, when the job
        /// leaves the queue without running.
        let cancel: (any Error) -> Void
    }

    public let threadCount: Int
    /// How much nicer than the process its threads run (Linux's per-thread nice value, 0-19).
    public let niceness: Int32
    /// The threads' usual niceness: 5 gives a thread of the process about three times the CPU
    /// share of a busy synthesis thread when both want a core (the kernel's nice-to-weight
    /// table), while synthesis still gets every idle cycle.
    public static let workerNiceness: Int32 = 5
    /// How many first pieces must wait before a second piece counts as due with its first.
    public let pairingThreshold: Int
    /// 48 per thread: the built-in voices' first pieces take about 25 ms of a thread for about
    /// 1.4 s of audio, so 48 per thread are 1.2 s of work, more than a started stream's first
    /// piece leaves it once the deadline margin is taken. Since deadlines move to the first audio
    /// (`PieceDeadline`), 100 hibari or Flite streams started at once play without the pairing,
    /// which cost them ~0.35 s of first byte at 32 per thread; past ~100 it still helps (Flite,
    /// 120 at once: 1, 1 and 3 stalled without it, none at 48 per thread). See the README.
    public static let pairingPerThread = 48
    private let condition = NSCondition()
    /// Queued jobs, in the order they came (their deadlines may move: `takeNext` looks at each).
    private var queue: [Job] = []
    /// How many of `queue` are first pieces.
    private var queuedFirstPieces = 0
    private var nextID: UInt64 = 0
    private var running = 0
    private var stopping = false
    private var liveThreads = 0
    private var stopped: [CheckedContinuation<Void, Never>] = []

    /// Starts `threads` worker threads (at least one), `niceness` (clamped to 0-19) nicer than
    /// the process; second pieces go with their first once `pairingThreshold` (at least 1;
    /// default `pairingPerThread` per thread) first pieces wait.
    public init(threads: Int, niceness: Int32 = workerNiceness, pairingThreshold: Int? = nil) {
        threadCount = max(threads, 1)
        self.niceness = min(max(niceness, 0), 19)
        self.pairingThreshold = max(pairingThreshold ?? Self.pairingPerThread * threadCount, 1)
        liveThreads = threadCount
        for index in 0..<threadCount {
            let thread = Thread { [self] in work() }
            thread.name = "synthesis-\(index)"
            thread.start()
        }
    }

    /// Pieces waiting for a thread now (for metrics and tests).
    public var queuedCount: Int { locked { queue.count } }

    /// Pieces running on a thread now.
    public var runningCount: Int { locked { running } }

    /// Runs `work` (blocking C work) on one of the threads when its turn comes: by the deadline
    /// the calling task carries in `SynthesisDeadline.current`, or now. Throws
    /// `CancellationError` if the task is cancelled before the work starts, and
    /// `SpeechError.engineFailure` once the scheduler is shutting down.
    public func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        let deadline = SynthesisDeadline.current ?? PieceDeadline(.now)
        let opening = SynthesisDeadline.opening
        let tally = SynthesisCPUTime.tally
        let id = locked { () -> UInt64 in
            nextID += 1
            return nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                let job = Job(
                    id: id, deadline: deadline, opening: opening,
                    run: {
                        continuation.resume(
                            with: Swift.Result { try SynthesisCPUTime.measuring(into: tally, work) })
                    },
                    cancel: { continuation.resume(throwing: $0) })
                condition.lock()
                defer { condition.unlock() }
                if stopping {
                    job.cancel(SpeechError.engineFailure("the speech engines are shutting down"))
                } else if Task.isCancelled {
                    job.cancel(CancellationError())
                } else {
                    enqueue(job)
                    condition.signal()
                }
            }
        } onCancel: {
            condition.lock()
            defer { condition.unlock() }
            if let index = queue.firstIndex(where: { $0.id == id }) {
                remove(at: index).cancel(CancellationError())
            }
        }
    }

    /// Fails every queued piece, lets the running ones finish, and returns once every thread
    /// has ended.
    public func shutdownGracefully() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            defer { condition.unlock() }
            stopping = true
            for job in queue { job.cancel(SpeechError.engineFailure("the speech engines are shutting down")) }
            queue.removeAll()
            queuedFirstPieces = 0
            if liveThreads == 0 {
                continuation.resume()
            } else {
                stopped.append(continuation)
                condition.broadcast()
            }
        }
    }

    private func enqueue(_ job: Job) {
        queue.append(job)
        if job.opening == .first { queuedFirstPieces += 1 }
    }

    /// The job a free thread runs next: the earliest deadline as it is now, the one that came
    /// first among equals; except that while `pairingThreshold` first pieces wait, a second
    /// piece is due when its first was (after it, having come after it). One look at each
    /// waiting job: a few hundred at the most (three per stream).
    private func takeNext() -> Job? {
        let pairing = queuedFirstPieces >= pairingThreshold
        func due(_ job: Job) -> (ContinuousClock.Instant, UInt64) {
            if pairing, case .second(let firstDue) = job.opening { return (firstDue, job.id) }
            return (job.deadline.instant, job.id)
        }
        guard var next = queue.indices.first else { return nil }
        var earliest = due(queue[next])
        for index in queue.indices.dropFirst() {
            let candidate = due(queue[index])
            if candidate < earliest { (next, earliest) = (index, candidate) }
        }
        return remove(at: next)
    }

    private func remove(at index: Int) -> Job {
        let job = queue.remove(at: index)
        if job.opening == .first { queuedFirstPieces -= 1 }
        return job
    }

    /// One worker thread: takes the earliest job, runs it outside the lock, until shutdown.
    private func work() {
        lowerPriority()
        condition.lock()
        while true {
            if let job = takeNext() {
                running += 1
                condition.unlock()
                job.run()
                condition.lock()
                running -= 1
            } else if stopping {
                break
            } else {
                condition.wait()
            }
        }
        liveThreads -= 1
        let waiting = liveThreads == 0 ? stopped : []
        if liveThreads == 0 { stopped.removeAll() }
        condition.unlock()
        for continuation in waiting { continuation.resume() }
    }

    /// Makes the calling thread `niceness` nicer than it is. On Linux the nice value belongs to
    /// a thread, and `setpriority(PRIO_PROCESS, 0, …)` sets the caller's alone. Raising it needs
    /// no privilege; should it fail, the thread simply keeps the process's priority.
    private func lowerPriority() {
        #if os(Linux)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, 0)
        guard errno == 0 else { return }
        _ = setpriority(which, 0, min(current + niceness, 19))
        #endif
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}
