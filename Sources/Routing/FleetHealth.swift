import Synchronization

/// The health of every deployment of one gateway, behind one lock: each a `DeploymentHealth`
/// over the instants of `now`, which tests replace with a clock of their own.
public final class FleetHealth: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public let policy: HealthPolicy
    private let now: @Sendable () -> Instant
    private let deployments = Mutex<[String: DeploymentHealth<Instant>]>([:])

    public init(policy: HealthPolicy = HealthPolicy(), now: @escaping @Sendable () -> Instant = { .now }) {
        self.policy = policy
        self.now = now
    }

    /// Each deployment's status now, by id; one never tried is closed with no figures.
    public func status(of ids: [String]) -> [String: DeploymentStatus] {
        let now = now()
        return deployments.withLock { health in
            Dictionary(ids.map { ($0, health[$0]?.status(at: now) ?? DeploymentStatus()) }) { first, _ in first }
        }
    }

    /// Takes the right to send `id` one request now (see `DeploymentHealth.begin(at:)`) and a
    /// stream slot with it, unless it serves `maxStreams` already. The slot is given back by
    /// `failed`, `answered` or `abandoned`, or after `succeeded` by `streamEnded` when the stream ends.
    public func begin(_ id: String, maxStreams: Int? = nil) -> Bool {
        update(id) { health, now in
            if let maxStreams, health.streams >= maxStreams { return false }
            guard health.begin(at: now) else { return false }
            health.streamBegan()
            return true
        }
    }

    /// Audio began after `firstByte`; the stream keeps its slot until `streamEnded`.
    public func succeeded(_ id: String, firstByte: Duration) {
        update(id) { health, _ in health.succeeded(firstByte: firstByte) }
    }

    /// It refused the request itself: alive; the slot is given back. `waited`: as in
    /// `DeploymentHealth` (false once the stream's first audio had come).
    public func answered(_ id: String, waited: Bool = true) {
        update(id) { health, _ in
            health.answered(waited: waited)
            health.streamEnded()
        }
    }

    public func failed(_ id: String, retryAfter: Duration? = nil, waited: Bool = true) {
        update(id) { health, now in
            health.failed(at: now, retryAfter: retryAfter, waited: waited)
            health.streamEnded()
        }
    }

    public func abandoned(_ id: String, waited: Bool = true) {
        update(id) { health, _ in
            health.abandoned(waited: waited)
            health.streamEnded()
        }
    }

    public func streamEnded(_ id: String) { update(id) { health, _ in health.streamEnded() } }

    private func update<Result: Sendable>(
        _ id: String, _ change: (inout DeploymentHealth<Instant>, Instant) -> Result
    ) -> Result {
        let now = now()
        return deployments.withLock { health in
            change(&health[id, default: DeploymentHealth(policy: policy)], now)
        }
    }
}
