import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Starts generations and writes their ends: the only writer of a generation's end.
///
/// `begin` reserves the cost and hands out a `GenerationLease`. Ends arrive two ways: awaited
/// by the request (`GenerationLease.end`), or queued by a lease dropped without one, which
/// cannot await; this service drains that queue. It is shut down after the HTTP server, so the
/// ends of requests torn down at shutdown are still written.
public final class GenerationLedger: Service, Sendable {
    let store: AccountStore
    private let logger: Logger
    private let queued: AsyncStream<GenerationEnd>
    private let queue: AsyncStream<GenerationEnd>.Continuation
    /// Generations of this process that have a lease and no recorded end yet.
    private let running = Mutex(Set<String>())
    /// Told of every end as its lease records it, before it is written (metrics).
    private let observer: @Sendable (GenerationRecord, GenerationEnd) -> Void

    public init(
        store: AccountStore, logger: Logger,
        observer: @escaping @Sendable (GenerationRecord, GenerationEnd) -> Void = { _, _ in }
    ) {
        self.store = store
        self.logger = logger
        self.observer = observer
        (queued, queue) = AsyncStream.makeStream(of: GenerationEnd.self)
    }

    /// Reserves the generation's full cost, or `reservation` (what the dearest model it may fall
    /// back to costs), and records it as running (`BillingError` when the key or the account
    /// cannot cover it). The caller owns the returned lease.
    public func begin(_ record: GenerationRecord, reserving reservation: Nanodollars? = nil) async throws
        -> GenerationLease
    {
        running.withLock { _ = $0.insert(record.id) }
        do {
            try await store.begin(record, reserving: reservation)
        } catch {
            running.withLock { _ = $0.remove(record.id) }
            throw error
        }
        return GenerationLease(record: record, ledger: self)
    }

    /// The ids of generations this process is running now.
    public var runningGenerations: Set<String> { running.withLock { $0 } }

    func observe(_ record: GenerationRecord, _ end: GenerationEnd) { observer(record, end) }

    func enqueue(_ end: GenerationEnd) {
        if case .terminated = queue.yield(end) {
            logger.error(
                "generation ended after the ledger stopped; the janitor closes it at the next start",
                metadata: ["generation": "\(end.id)"])
        }
    }

    func write(_ end: GenerationEnd) async {
        do {
            try await store.finish(
                id: end.id, status: end.status, spokenCharacters: end.spokenCharacters,
                firstByteAt: end.firstByteAt, provider: end.provider, upstreamModel: end.upstreamModel,
                attempts: end.attempts, billedAs: end.billedAs, at: end.at)
        } catch {
            logger.error("could not record generation end", metadata: ["generation": "\(end.id)", "error": "\(error)"])
        }
        running.withLock { _ = $0.remove(end.id) }
    }

    /// Writes queued ends until graceful shutdown, then the ones still queued.
    public func run() async {
        await withGracefulShutdownHandler {
            for await end in queued { await write(end) }
        } onGracefulShutdown: {
            self.queue.finish()
        }
    }
}
