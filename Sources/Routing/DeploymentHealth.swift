/// One deployment's health as a pure state machine over an injected clock's instants: recent
/// attempts (first-byte latency, errors) and a breaker. Closed, it lets every request through;
/// open, none until its time is up; then half-open, it lets exactly one probe through, whose
/// success closes it and whose failure opens it again for a longer cooldown. A `Retry-After`
/// keeps it open at least that long. Nothing here reads a clock or sleeps: callers pass `now`.
public struct DeploymentHealth<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public enum Breaker: Sendable, Equatable {
        case closed
        case open(until: Instant)
        /// The cooldown is over; `probing` once the one request let through is under way.
        case halfOpen(probing: Bool)
    }

    private struct Attempt: Sendable {
        var succeeded: Bool
        var firstByte: Duration?
    }

    public let policy: HealthPolicy
    private var breaker = Breaker.closed
    private var consecutiveFailures = 0
    /// The cooldown the breaker opens for next; doubles with each failed probe.
    private var cooldown: Duration
    /// The latest attempts, oldest first, at most `policy.window`.
    private var recent: [Attempt] = []
    /// Streams this deployment is serving now.
    public private(set) var streams = 0
    /// When each request let through and not yet settled was sent, oldest first: a hung
    /// deployment shows as slow while its requests wait, long before they time out.
    private var waiting: [Instant] = []

    public init(policy: HealthPolicy = HealthPolicy()) {
        self.policy = policy
        cooldown = policy.cooldown
    }

    /// The breaker as of `now`: an open one whose time is up is half-open.
    public func breaker(at now: Instant) -> Breaker {
        if case .open(let until) = breaker, now >= until { return .halfOpen(probing: false) }
        return breaker
    }

    /// Whether a request may be sent to it now.
    public func isAvailable(at now: Instant) -> Bool {
        switch breaker(at: now) {
        case .closed: true
        case .open: false
        case .halfOpen(let probing): !probing
        }
    }

    /// Takes the right to send one request now: always while closed; when half-open, once (the
    /// probe) until its outcome is known. The caller then reports exactly one of `succeeded`,
    /// `failed`, `answered` or `abandoned`.
    public mutating func begin(at now: Instant) -> Bool {
        switch breaker(at: now) {
        case .closed: break
        case .open: return false
        case .halfOpen(let probing):
            if probing { return false }
            breaker = .halfOpen(probing: true)
        }
        waiting.append(now)
        return true
    }

    /// Audio began after `firstByte`: the deployment is well.
    public mutating func succeeded(firstByte: Duration) {
        settled()
        remember(Attempt(succeeded: true, firstByte: firstByte))
        close()
    }

    /// It answered, but refused the request itself (a 400): alive, yet no latency to learn from.
    /// `waited`: the request was still waiting for its first answer (false for a later piece of
    /// a stream whose first audio already settled it).
    public mutating func answered(waited: Bool = true) {
        if waited { settled() }
        close()
    }

    /// It failed (5xx, 429, refused credentials, timeout, unreachable). `retryAfter` is the
    /// upstream's `Retry-After`, honoured even on a first failure.
    public mutating func failed(at now: Instant, retryAfter: Duration? = nil, waited: Bool = true) {
        if waited { settled() }
        remember(Attempt(succeeded: false, firstByte: nil))
        consecutiveFailures += 1
        var until: Instant?
        switch breaker {
        case .halfOpen:
            // The probe failed: open again, for longer while failures continue.
            cooldown = min(cooldown * 2, policy.maximumCooldown)
            until = now.advanced(by: cooldown)
        case .open(let current):
            until = current  // a request sent before it opened; it stays open as it was
        case .closed:
            if consecutiveFailures >= policy.consecutiveFailures || errorRateExceeded {
                until = now.advanced(by: cooldown)
            }
        }
        if let retryAfter {
            let honoured = now.advanced(by: min(max(retryAfter, .zero), policy.maximumRetryAfter))
            until = until.map { max($0, honoured) } ?? honoured
        }
        if let until { breaker = .open(until: until) }
    }

    /// The request let through ended before its outcome was known (the client went away): a
    /// half-open breaker lets the next request probe instead.
    public mutating func abandoned(waited: Bool = true) {
        if waited { settled() }
        if breaker == .halfOpen(probing: true) { breaker = .halfOpen(probing: false) }
    }

    /// A stream began or ended on it (for `Deployment.maxConcurrentStreams`).
    public mutating func streamBegan() { streams += 1 }
    public mutating func streamEnded() { streams = max(streams - 1, 0) }

    /// The share of the recent attempts that failed; nil before any.
    public var errorRate: Double? {
        recent.isEmpty ? nil : Double(recent.count { !$0.succeeded }) / Double(recent.count)
    }

    /// The share of the recent attempts that succeeded; nil before any.
    public var uptime: Double? { errorRate.map { 1 - $0 } }

    /// The median first-byte latency of the recent successful attempts; nil before any.
    public var latencyP50: Duration? {
        let latencies = recent.compactMap(\.firstByte).sorted()
        return latencies.isEmpty ? nil : latencies[(latencies.count - 1) / 2]
    }

    /// What routing and the endpoints listing read, as of `now`.
    public func status(at now: Instant) -> DeploymentStatus {
        let state: DeploymentStatus.State
        var reopensIn: Duration?
        switch breaker(at: now) {
        case .closed: state = .closed
        case .open(let until):
            state = .open
            reopensIn = now.duration(to: until)
        case .halfOpen: state = .halfOpen
        }
        return DeploymentStatus(
            state: state, available: isAvailable(at: now), reopensIn: reopensIn, latencyP50: latencyP50,
            uptime: uptime, streams: streams, waitingFor: waiting.first.map { $0.duration(to: now) })
    }

    private var errorRateExceeded: Bool {
        recent.count >= policy.minimumSamples && (errorRate ?? 0) > policy.errorRateThreshold
    }

    /// One request let through has its outcome; which one does not matter, only the oldest
    /// still waiting is read.
    private mutating func settled() {
        if !waiting.isEmpty { waiting.removeFirst() }
    }

    private mutating func close() {
        consecutiveFailures = 0
        breaker = .closed
        cooldown = policy.cooldown
    }

    private mutating func remember(_ attempt: Attempt) {
        recent.append(attempt)
        if recent.count > max(policy.window, 1) { recent.removeFirst(recent.count - max(policy.window, 1)) }
    }
}

/// A deployment's health as routing and the endpoints listing see it at one moment.
public struct DeploymentStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case closed, open
        case halfOpen = "half_open"
    }

    public var state: State
    /// Whether a request may be sent to it now (closed, or half-open with no probe under way).
    public var available: Bool
    /// How long an open breaker stays open.
    public var reopensIn: Duration?
    public var latencyP50: Duration?
    /// 0…1: the share of recent attempts that succeeded.
    public var uptime: Double?
    public var streams: Int
    /// How long its oldest request still waiting for an answer has waited; nil when none waits.
    public var waitingFor: Duration?

    public init(
        state: State = .closed, available: Bool = true, reopensIn: Duration? = nil, latencyP50: Duration? = nil,
        uptime: Double? = nil, streams: Int = 0, waitingFor: Duration? = nil
    ) {
        self.waitingFor = waitingFor
        self.state = state
        self.available = available
        self.reopensIn = reopensIn
        self.latencyP50 = latencyP50
        self.uptime = uptime
        self.streams = streams
    }
}
