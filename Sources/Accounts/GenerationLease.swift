public import Foundation
import Synchronization

/// A running generation, owned by the request that started it. It records exactly one end:
/// the first `end(_:)` wins, and a lease dropped without one (a client that reset before the
/// response head left, a task torn down at shutdown) is recorded as cancelled by its ledger.
/// A stream that ends early is charged for the characters whose audio was delivered, or that an
/// upstream has started to speak, whichever is more.
public final class GenerationLease: Sendable {
    private let ledger: GenerationLedger
    private let state: Mutex<State>

    /// The generation as it runs: the model being tried and what it bills.
    public var record: GenerationRecord { state.withLock { $0.record } }

    private struct State {
        var record: GenerationRecord
        /// Whether `record` now names another model than the one the generation began with.
        var fellBack = false
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
        self.state = Mutex(State(record: record))
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

    /// The request's model failed before any of its audio reached the client, and `next` (the
    /// record a generation of the model it falls back to would have begun with) is tried: the
    /// generation now names that model, and its price and billed characters make the charge.
    /// Nothing the failed model spoke is charged; its upstream attempts stay listed.
    public func fallBack(to next: GenerationRecord) {
        state.withLock { state in
            guard !state.ended else { return }
            state.record.model = next.model
            state.record.provider = next.provider
            state.record.voice = next.voice
            state.record.characters = next.characters
            state.record.pricePerCharacter = next.pricePerCharacter
            state.fellBack = true
            state.deliveredCharacters = 0
            state.incurredCharacters = 0
            state.firstByteAt = nil
            state.provider = nil
            state.upstreamModel = nil
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
            state.deliveredCharacters = max(state.deliveredCharacters, min(characters, state.record.characters))
        }
    }

    /// The first `characters` of the input cost us already (an upstream has started speaking
    /// them): charged however the generation ends, delivered or not.
    public func incurred(characters: Int) {
        state.withLock { state in
            state.incurredCharacters = max(state.incurredCharacters, min(characters, state.record.characters))
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
        let record = state.record
        return GenerationEnd(
            id: record.id, status: status,
            spokenCharacters: status == .completed
                ? record.characters : max(state.deliveredCharacters, state.incurredCharacters),
            firstByteAt: state.firstByteAt, provider: state.provider, upstreamModel: state.upstreamModel,
            attempts: state.attempts, billedAs: state.fellBack ? BilledModel(record) : nil, at: date)
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
    /// The model the generation fell back to, when it is not the one it began with.
    public var billedAs: BilledModel? = nil
    public var at: Date
}

/// What a generation is recorded and charged as once it fell back to another model
/// (`GenerationLease.fallBack(to:)`): that model, its voice, its price and billed characters.
public struct BilledModel: Sendable, Equatable {
    public var model: String
    public var provider: String
    public var voice: String
    public var characters: Int
    public var pricePerCharacter: Nanodollars

    public init(_ record: GenerationRecord) {
        model = record.model
        provider = record.provider
        voice = record.voice
        characters = record.characters
        pricePerCharacter = record.pricePerCharacter
    }
}
