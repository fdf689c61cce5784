public import Foundation
import Synchronization

/// A running generation, owned by the request that started it. It records exactly one end:
/// the first `end(_:)` wins, and a lease dropped without one (a client that reset before the
/// response head left, a task torn down at shutdown) is recorded as cancelled by its ledger.
/// A stream that ends early is charged for the characters whose audio was delivered, or that an
/// upstream has started to speak, whichever is more.
public final class GenerationLease: Sendable {
    public let record: GenerationRecord
    private let ledger: GenerationLedger
    private let state = Mutex(State())

    private struct State {
        /// How the generation ended, once it has.
        var end: GenerationEnd?
        var ended: Bool { end != nil }
        var deliveredCharacters = 0
        var incurredCharacters = 0
        var firstByteAt: Date?
        var provider: String?
        var upstreamModel: String?
        var attempts: [ProviderAttempt] = []
        /// Run once when the generation ends, whichever way (`whenEnded(_:)`).
        var endActions: [@Sendable (GenerationEnd) -> Void] = []

        mutating func takeEndActions() -> [@Sendable (GenerationEnd) -> Void] {
            defer { endActions = [] }
            return endActions
        }

        /// Records the end `make` builds from this state, unless the generation has ended
        /// already; returns it with the actions to run.
        mutating func record(_ make: (State) -> GenerationEnd) -> (GenerationEnd, [@Sendable (GenerationEnd) -> Void])? {
            guard !ended else { return nil }
            let end = make(self)
            self.end = end
            return (end, takeEndActions())
        }
    }

    init(record: GenerationRecord, ledger: GenerationLedger) {
        self.record = record
        self.ledger = ledger
    }

    deinit {
        guard case let (end, actions)? = state.withLock({ $0.record { makeEnd(.cancelled, $0) } }) else { return }
        ledger.observe(record, end)
        actions.forEach { $0(end) }
        ledger.enqueue(end)
    }

    /// Runs `action` once when the generation ends, on the same paths that record its end (at
    /// once when it has ended already): what a stream holds while it runs, such as its admission
    /// slot, is given back exactly when its end is recorded.
    public func whenEnded(_ action: @escaping @Sendable () -> Void) {
        whenEnded { (_: GenerationEnd) in action() }
    }

    /// Runs `action` with the generation's end once it is recorded (at once when it has been).
    public func whenEnded(_ action: @escaping @Sendable (GenerationEnd) -> Void) {
        let end = state.withLock { state in
            if !state.ended { state.endActions.append(action) }
            return state.end
        }
        if let end { action(end) }
    }

    /// The provider that serves the stream, and the model's id there, once known (upstream
    /// models may fall back).
    public func served(by provider: String?, model upstreamModel: String? = nil) {
        guard let provider else { return }
        state.withLock { state in
            state.provider = provider
            state.upstreamModel = upstreamModel
        }
    }

    /// The upstream requests made so far, in order (recorded with the end).
    public func attempted(_ attempts: [ProviderAttempt]) {
        state.withLock { $0.attempts = attempts }
    }

    /// Audio covering the first `characters` of the input has reached the client.
    public func delivered(characters: Int, at date: Date = Date()) {
        state.withLock { state in
            if state.firstByteAt == nil { state.firstByteAt = date }
            state.deliveredCharacters = max(state.deliveredCharacters, min(characters, record.characters))
        }
    }

    /// The first `characters` of the input cost us already (an upstream has started speaking
    /// them): charged however the generation ends, delivered or not.
    public func incurred(characters: Int) {
        state.withLock { state in
            state.incurredCharacters = max(state.incurredCharacters, min(characters, record.characters))
        }
    }

    /// Records how the generation ended, once; later calls change nothing.
    public func end(_ status: GenerationStatus, at date: Date = Date()) async {
        guard case let (end, actions)? = state.withLock({ $0.record { makeEnd(status, $0, at: date) } }) else { return }
        ledger.observe(record, end)
        actions.forEach { $0(end) }
        await ledger.write(end)
    }

    public var hasEnded: Bool { state.withLock { $0.ended } }

    private func makeEnd(_ status: GenerationStatus, _ state: State, at date: Date = Date()) -> GenerationEnd {
        GenerationEnd(
            id: record.id, status: status,
            spokenCharacters: status == .completed
                ? record.characters : max(state.deliveredCharacters, state.incurredCharacters),
            firstByteAt: state.firstByteAt, provider: state.provider, upstreamModel: state.upstreamModel,
            attempts: state.attempts, at: date)
    }
}

/// How one generation ended, as the ledger writes it.
public struct GenerationEnd: Sendable, Equatable {
    public var id: String
    public var status: GenerationStatus
    public var spokenCharacters: Int
    public var firstByteAt: Date?
    public var provider: String?
    public var upstreamModel: String?
    public var attempts: [ProviderAttempt] = []
    public var at: Date
}
