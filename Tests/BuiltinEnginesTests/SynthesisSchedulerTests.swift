import Dispatch
import SpeechCore

#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

@testable import BuiltinEngines

/// Waits (up to 10 s) until `condition` holds: for a piece to reach the queue or a thread.
func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        try #require(ContinuousClock.now < deadline, "timed out waiting")
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// What the pieces of a test did, written from the scheduler's threads.
final class Log: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

@Suite struct SynthesisSchedulerTests {
    /// A scheduler with one thread, held by a piece that blocks until `release` is signalled,
    /// so the pieces queued behind it can be looked at.
    func heldScheduler(pairingThreshold: Int? = nil) async throws -> (
        SynthesisScheduler, DispatchSemaphore, Task<Void, any Error>
    ) {
        let scheduler = SynthesisScheduler(threads: 1, pairingThreshold: pairingThreshold)
        let release = DispatchSemaphore(value: 0)
        let holder = Task { try await scheduler.run { release.wait() } }
        try await eventually { scheduler.runningCount == 1 }
        return (scheduler, release, holder)
    }

    @Test func aFreeThreadTakesTheEarliestDeadlineFirst() async throws {
        let (scheduler, release, holder) = try await heldScheduler()
        let order = Log()
        let now = ContinuousClock.now
        // Queued in this order; due in 300 s, 100 s, 200 s, 100 s (the same as the second) and now.
        let pieces: [(String, ContinuousClock.Instant?)] = [
            ("in 300 s", now + .seconds(300)), ("in 100 s", now + .seconds(100)), ("in 200 s", now + .seconds(200)),
            ("in 100 s, later", now + .seconds(100)), ("no deadline", nil),
        ]
        var tasks: [Task<Void, any Error>] = []
        for (index, (name, deadline)) in pieces.enumerated() {
            tasks.append(
                Task {
                    try await SynthesisDeadline.$current.withValue(deadline.map(PieceDeadline.init)) {
                        try await scheduler.run { order.add(name) }
                    }
                })
            try await eventually { scheduler.queuedCount == index + 1 }
        }
        release.signal()
        for task in tasks { try await task.value }
        try await holder.value
        #expect(order.all == ["no deadline", "in 100 s", "in 100 s, later", "in 200 s", "in 300 s"])
        await scheduler.shutdownGracefully()
    }

    /// A deadline that moves while its piece waits (its stream's first audio left) moves its turn.
    @Test func aPieceWhoseDeadlineMovesWhileItWaitsTakesItsNewTurn() async throws {
        let (scheduler, release, holder) = try await heldScheduler()
        let order = Log()
        let now = ContinuousClock.now
        let pieces = [("A", now + .seconds(100)), ("B", now + .seconds(200)), ("C", now + .seconds(300))].map {
            ($0.0, PieceDeadline($0.1))
        }
        var tasks: [Task<Void, any Error>] = []
        for (index, (name, deadline)) in pieces.enumerated() {
            tasks.append(
                Task {
                    try await SynthesisDeadline.$current.withValue(deadline) {
                        try await scheduler.run { order.add(name) }
                    }
                })
            try await eventually { scheduler.queuedCount == index + 1 }
        }
        pieces[0].1.move(to: now + .seconds(250))
        release.signal()
        for task in tasks { try await task.value }
        try await holder.value
        #expect(order.all == ["B", "A", "C"])
        await scheduler.shutdownGracefully()
    }

    /// Three streams started a millisecond apart, each with its first piece (due at its start)
    /// and its second (due a second later). While as many first pieces wait as the threshold, a
    /// second piece goes right after its own first, before the next stream's; below it, every
    /// first piece goes before any second.
    @Test func whileManyStreamsStartEachOnesFirstTwoPiecesGoTogether() async throws {
        func order(pairingThreshold: Int) async throws -> [String] {
            let (scheduler, release, holder) = try await heldScheduler(pairingThreshold: pairingThreshold)
            let order = Log()
            let now = ContinuousClock.now
            var tasks: [Task<Void, any Error>] = []
            for (index, stream) in ["A", "B", "C"].enumerated() {
                let start = now + .milliseconds(index)
                let pieces: [(String, ContinuousClock.Instant, SynthesisOpening)] = [
                    ("\(stream)1", start, .first), ("\(stream)2", start + .seconds(1), .second(firstDue: start)),
                ]
                for (name, deadline, opening) in pieces {
                    tasks.append(
                        Task {
                            try await SynthesisDeadline.$opening.withValue(opening) {
                                try await SynthesisDeadline.$current.withValue(PieceDeadline(deadline)) {
                                    try await scheduler.run { order.add(name) }
                                }
                            }
                        })
                    let queued = tasks.count
                    try await eventually { scheduler.queuedCount == queued }
                }
            }
            release.signal()
            for task in tasks { try await task.value }
            try await holder.value
            await scheduler.shutdownGracefully()
            return order.all
        }
        // Three first pieces wait, then two: A's pair goes together, and B's first; then with C's
        // first alone waiting, the deadlines decide.
        #expect(try await order(pairingThreshold: 2) == ["A1", "A2", "B1", "C1", "B2", "C2"])
        #expect(try await order(pairingThreshold: 4) == ["A1", "B1", "C1", "A2", "B2", "C2"])
    }

    /// A piece's processor time goes to the tally its caller carries; time it spends asleep does not.
    @Test func eachPiecesProcessorTimeGoesToItsCallersTally() async throws {
        let scheduler = SynthesisScheduler(threads: 2)
        let (busy, sleeping) = (SynthesisCPUTime(), SynthesisCPUTime())
        async let spun: Void = SynthesisCPUTime.$tally.withValue(busy) {
            try await scheduler.run {
                let start = SynthesisCPUTime.threadNanoseconds()
                while SynthesisCPUTime.threadNanoseconds() - start < 30_000_000 {}
            }
        }
        async let slept: Void = SynthesisCPUTime.$tally.withValue(sleeping) {
            try await scheduler.run { _ = usleep(100_000) }
        }
        _ = try await (spun, slept)
        try await scheduler.run {}  // a piece with no tally counts nowhere
        #expect(busy.seconds >= 0.03 && busy.seconds < 0.5, "\(busy.seconds) s")
        #expect(sleeping.seconds < 0.02, "\(sleeping.seconds) s")
        await scheduler.shutdownGracefully()
    }

    @Test func aCancelledPieceLeavesTheQueueAtOnceAndNeverRuns() async throws {
        let (scheduler, release, holder) = try await heldScheduler()
        let ran = Log()
        let piece = Task { try await scheduler.run { ran.add("ran") } }
        try await eventually { scheduler.queuedCount == 1 }
        piece.cancel()
        // The thread is still held: the cancelled piece fails without waiting for it.
        await #expect(throws: CancellationError.self) { try await piece.value }
        #expect(scheduler.queuedCount == 0)
        release.signal()
        try await holder.value
        #expect(try await scheduler.run { 42 } == 42)
        #expect(ran.all.isEmpty)
        await scheduler.shutdownGracefully()
    }

    @Test func aTaskCancelledBeforeItsPieceIsQueuedNeverQueuesIt() async throws {
        let scheduler = SynthesisScheduler(threads: 1)
        let ran = Log()
        let piece = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await scheduler.run { ran.add("ran") }
        }
        await #expect(throws: CancellationError.self) { try await piece.value }
        #expect(scheduler.queuedCount == 0 && ran.all.isEmpty)
        await scheduler.shutdownGracefully()
    }

    @Test func shutdownFailsQueuedPiecesLetsRunningOnesFinishAndRefusesNewOnes() async throws {
        let (scheduler, release, holder) = try await heldScheduler()
        let queued = Task { try await scheduler.run { 1 } }
        try await eventually { scheduler.queuedCount == 1 }
        let shutdown = Task { await scheduler.shutdownGracefully() }
        await #expect(throws: SpeechError.self) { try await queued.value }
        release.signal()
        try await holder.value  // the running piece finished normally
        await shutdown.value
        await #expect(throws: SpeechError.self) { try await scheduler.run { 2 } }
    }

    @Test func piecesRunSideBySideOnEveryThread() async throws {
        let scheduler = SynthesisScheduler(threads: 3)
        let release = DispatchSemaphore(value: 0)
        let pieces = (0..<3).map { _ in Task { try await scheduler.run { release.wait() } } }
        try await eventually { scheduler.runningCount == 3 }
        for _ in pieces { release.signal() }
        for piece in pieces { try await piece.value }
        await scheduler.shutdownGracefully()
    }

    #if os(Linux)
    @Test func piecesRunAtALowerPriorityThanTheRestOfTheProcess() async throws {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let scheduler = SynthesisScheduler(threads: 2)
        let process = getpriority(which, 0)
        let pieces = try await (scheduler.run { getpriority(which, 0) }, scheduler.run { getpriority(which, 0) })
        let expected = min(process + SynthesisScheduler.workerNiceness, 19)
        #expect(pieces.0 == expected && pieces.1 == expected)
        // The caller's own thread is left as it was.
        #expect(getpriority(which, 0) == process)
        await scheduler.shutdownGracefully()
    }
    #endif
}
