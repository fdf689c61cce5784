public import Foundation
public import Logging
public import ServiceLifecycle

/// Closes this instance's generations that are `running` with nobody to end them: at start
/// (`sweep()`, after migrating), the ones its previous process left when it died (kill -9,
/// power loss); then, every
/// `interval`, any row of this instance that no live lease holds. They are recorded as failed
/// and their reservations released; what they streamed is unknown, so they are not charged.
public struct GenerationJanitor: Service {
    let ledger: GenerationLedger
    let interval: Duration
    let logger: Logger

    public init(ledger: GenerationLedger, interval: Duration = .seconds(60), logger: Logger) {
        self.ledger = ledger
        self.interval = interval
        self.logger = logger
    }

    /// One sweep; returns how many generations it closed.
    @discardableResult
    public func sweep(at date: Date = Date()) async throws -> Int {
        let closed = try await ledger.store.failInterruptedGenerations(except: ledger.runningGenerations, at: date)
        if closed > 0 {
            logger.warning("closed generations left running with no request", metadata: ["count": "\(closed)"])
        }
        return closed
    }

    /// Sweeps every `interval`. The sweep at start is the server's to call, once the schema
    /// is migrated (`beforeServerStarts`): services start together, so one here would race it.
    public func run() async throws {
        // Sleeps end at graceful shutdown (the sequence finishes), so shutdown never waits on one.
        for try await _ in Ticks(interval: interval).cancelOnGracefulShutdown() {
            do { try await sweep() } catch { logger.error("janitor sweep failed", metadata: ["error": "\(error)"]) }
        }
    }
}

/// A tick every `interval`, for as long as it is iterated.
struct Ticks: AsyncSequence, Sendable {
    let interval: Duration

    func makeAsyncIterator() -> Iterator { Iterator(interval: interval) }

    struct Iterator: AsyncIteratorProtocol {
        let interval: Duration
        mutating func next() async throws -> Void? {
            try await Task.sleep(for: interval)
            return ()
        }
    }
}
