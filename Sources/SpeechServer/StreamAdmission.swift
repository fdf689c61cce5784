import Synchronization

/// Which speech streams are let in: a built-in model's streams while its engine can keep them
/// all in real time (`EngineCapacity`), and a key's streams up to the configured limit. A stream
/// holds an `AdmissionTicket` from admission until its response ends; when the last one held is
/// given back, `whenIdle` runs (the gateway returns the load's freed memory to the system), with
/// a function that tells, later, whether the server is idle still.
final class StreamAdmission: Sendable {
    private struct State {
        var engines: [String: EngineState]
        var streamsByKey: [String: Int] = [:]
    }

    private struct EngineState {
        var capacity: EngineCapacity
        var streams = 0
        /// Pieces being synthesized now, to tell a piece's own work from its wait for a thread.
        var piecesInFlight = 0
    }

    /// Why a stream was not admitted.
    enum Refusal: Error, Equatable {
        case engineFull(model: String, streams: Int)
        case keyFull(limit: Int)
    }

    /// Seconds a refused client is told to wait: a slot frees as soon as any stream ends.
    static let retryAfterSeconds = 1

    private let state: Mutex<State>
    let maxStreamsPerKey: Int?
    /// Runs, outside the lock, each time the number of streams falls to zero.
    private let whenIdle: @Sendable (_ stillIdle: @escaping @Sendable () -> Bool) -> Void

    init(
        engines: [String: EngineCapacity], maxStreamsPerKey: Int?,
        whenIdle: @escaping @Sendable (_ stillIdle: @escaping @Sendable () -> Bool) -> Void = { _ in }
    ) {
        state = Mutex(State(engines: engines.mapValues { EngineState(capacity: $0) }))
        self.maxStreamsPerKey = maxStreamsPerKey
        self.whenIdle = whenIdle
    }

    /// Admits one stream of `model` for the key with hash `key`, whose own limit is `keyLimit`
    /// (else the gateway's `maxStreamsPerKey`), or says why not. The model counts only when it is
    /// a built-in engine's.
    func admit(model: String, key: String, keyLimit: Int? = nil) throws(Refusal) -> AdmissionTicket {
        let refusal = state.withLock { state -> Refusal? in
            if let limit = keyLimit ?? maxStreamsPerKey, state.streamsByKey[key, default: 0] >= limit {
                return .keyFull(limit: limit)
            }
            if let engine = state.engines[model] {
                guard engine.streams < engine.capacity.streams else {
                    return .engineFull(model: model, streams: engine.capacity.streams)
                }
                state.engines[model]?.streams += 1
            }
            state.streamsByKey[key, default: 0] += 1
            return nil
        }
        if let refusal { throw refusal }
        return AdmissionTicket(admission: self, model: model, key: key)
    }

    fileprivate func release(model: String, key: String) {
        let idle = state.withLock { state in
            state.engines[model]?.streams -= 1
            state.streamsByKey[key, default: 1] -= 1
            if state.streamsByKey[key] == 0 { state.streamsByKey[key] = nil }
            return state.streamsByKey.isEmpty
        }
        if idle { whenIdle { [weak self] in self?.isIdle ?? true } }
    }

    /// Whether no stream holds a ticket now.
    var isIdle: Bool { state.withLock { $0.streamsByKey.isEmpty } }

    /// A piece of `model` starts: returns the pieces then in flight, this one included.
    func pieceStarts(model: String) -> Int {
        state.withLock { state in
            state.engines[model]?.piecesInFlight += 1
            return state.engines[model]?.piecesInFlight ?? 1
        }
    }

    /// A piece of `model` that started with `inFlight` pieces made `audioSeconds` of audio in
    /// `wallSeconds`, of which its synthesis took `processorSeconds` of processor time. That time
    /// is its work; an engine whose threads do not count it (0) has its share of the wall time
    /// counted instead: while more pieces than threads are in flight a piece also waits for a
    /// thread.
    func pieceEnded(
        model: String, inFlight: Int, audioSeconds: Double, wallSeconds: Double, processorSeconds: Double
    ) {
        state.withLock { state in
            guard var engine = state.engines[model] else { return }
            engine.piecesInFlight -= 1
            let share = min(Double(engine.capacity.threads) / Double(max(inFlight, 1)), 1)
            let work = processorSeconds > 0 ? processorSeconds : wallSeconds * share
            engine.capacity.record(audioSeconds: audioSeconds, workSeconds: work)
            state.engines[model] = engine
        }
    }

    /// What each engine carries now, by model: streams admitted, the most it admits (nil for no
    /// limit) and the pieces waiting for one of its threads.
    var loads: [EngineLoad] {
        state.withLock { state in
            state.engines.sorted { $0.key < $1.key }.map { model, engine -> EngineLoad in
                let capacity = engine.capacity.streams
                return (
                    model, engine.streams, capacity == .max ? nil : capacity,
                    max(engine.piecesInFlight - engine.capacity.threads, 0)
                )
            }
        }
    }

    typealias EngineLoad = (model: String, streams: Int, capacity: Int?, queuedPieces: Int)

    /// Each engine's figures now, by model: threads, speed, streams admitted and allowed.
    var figures: [(model: String, capacity: EngineCapacity, streams: Int)] {
        state.withLock { state in
            state.engines.sorted { $0.key < $1.key }.map { ($0.key, $0.value.capacity, $0.value.streams) }
        }
    }
}

/// One admitted stream's place; given back once, by `release()` or when dropped.
final class AdmissionTicket: Sendable {
    private let admission: StreamAdmission
    private let model: String
    private let key: String
    private let held = Mutex(true)

    fileprivate init(admission: StreamAdmission, model: String, key: String) {
        self.admission = admission
        self.model = model
        self.key = key
    }

    deinit { release() }

    func release() {
        let wasHeld = held.withLock { held in
            defer { held = false }
            return held
        }
        if wasHeld { admission.release(model: model, key: key) }
    }
}
