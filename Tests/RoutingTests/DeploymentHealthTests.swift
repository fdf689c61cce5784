import Routing
import Testing

/// A clock's instant that only moves when a test moves it (postgres-nio's MockClock idea).
struct MockInstant: InstantProtocol {
    var offset: Duration = .zero
    func advanced(by duration: Duration) -> MockInstant { MockInstant(offset: offset + duration) }
    func duration(to other: MockInstant) -> Duration { other.offset - offset }
    static func < (lhs: MockInstant, rhs: MockInstant) -> Bool { lhs.offset < rhs.offset }
}

@Suite struct DeploymentHealthTests {
    let start = MockInstant()

    @Test func breakerOpensAfterConsecutiveFailuresAndStaysOpenForTheCooldown() {
        var health = DeploymentHealth<MockInstant>()
        for _ in 0..<2 {
            do { let admitted = health.begin(at: start); #expect(admitted == true) }
            health.failed(at: start)
        }
        #expect(health.isAvailable(at: start))
        do { let admitted = health.begin(at: start); #expect(admitted == true) }
        health.failed(at: start)
        #expect(!health.isAvailable(at: start))
        do { let admitted = health.begin(at: start.advanced(by: .milliseconds(4_999))); #expect(admitted == false) }
        #expect(health.status(at: start.advanced(by: .seconds(1))).reopensIn == .seconds(4))
        #expect(health.status(at: start).state == .open)
    }

    @Test func halfOpenLetsExactlyOneProbeThrough() {
        var health = DeploymentHealth<MockInstant>()
        for _ in 0..<3 { health.failed(at: start) }
        let later = start.advanced(by: .seconds(5))
        #expect(health.status(at: later).state == .halfOpen)
        do { let admitted = health.begin(at: later); #expect(admitted == true) }
        do { let admitted = health.begin(at: later); #expect(admitted == false) }
        #expect(!health.isAvailable(at: later.advanced(by: .seconds(100))))
        health.succeeded(firstByte: .milliseconds(80))
        #expect(health.status(at: later).state == .closed)
        let first = health.begin(at: later)
        let second = health.begin(at: later)
        #expect(first && second)
    }

    @Test func anAbandonedProbeLetsTheNextRequestProbe() {
        var health = DeploymentHealth<MockInstant>()
        for _ in 0..<3 { health.failed(at: start) }
        let later = start.advanced(by: .seconds(5))
        do { let admitted = health.begin(at: later); #expect(admitted == true) }
        health.abandoned()
        do { let admitted = health.begin(at: later); #expect(admitted == true) }
        do { let admitted = health.begin(at: later); #expect(admitted == false) }
    }

    @Test func cooldownGrowsWhileProbesKeepFailingAndResetsOnSuccess() {
        var health = DeploymentHealth<MockInstant>()
        for _ in 0..<3 { health.failed(at: start) }
        var now = start
        var cooldowns: [Duration] = []
        for _ in 0..<6 {
            now = now.advanced(by: health.status(at: now).reopensIn ?? .zero)
            do { let admitted = health.begin(at: now); #expect(admitted == true) }
            health.failed(at: now)
            cooldowns.append(health.status(at: now).reopensIn ?? .zero)
        }
        #expect(cooldowns == [.seconds(10), .seconds(20), .seconds(40), .seconds(60), .seconds(60), .seconds(60)])
        now = now.advanced(by: .seconds(60))
        do { let admitted = health.begin(at: now); #expect(admitted == true) }
        health.succeeded(firstByte: .milliseconds(10))
        for _ in 0..<3 { health.failed(at: now) }
        #expect(health.status(at: now).reopensIn == .seconds(5))
    }

    @Test func retryAfterKeepsItOpenThatLongEvenOnAFirstFailure() {
        var health = DeploymentHealth<MockInstant>()
        do { let admitted = health.begin(at: start); #expect(admitted == true) }
        health.failed(at: start, retryAfter: .seconds(2))
        #expect(!health.isAvailable(at: start.advanced(by: .milliseconds(1_999))))
        #expect(health.isAvailable(at: start.advanced(by: .seconds(2))))
        // A Retry-After longer than the cooldown wins over it; an absurd one is capped.
        for _ in 0..<3 { health.failed(at: start, retryAfter: .seconds(30)) }
        #expect(health.status(at: start).reopensIn == .seconds(30))
        health.failed(at: start, retryAfter: .seconds(86_400))
        #expect(health.status(at: start).reopensIn == health.policy.maximumRetryAfter)
    }

    @Test func errorRateOverTheThresholdOpensIt() {
        var health = DeploymentHealth<MockInstant>()
        // Alternating: never three failures in a row, but 6 of 11 failed.
        for index in 0..<11 {
            #expect(health.isAvailable(at: start), "attempt \(index)")
            if index.isMultiple(of: 2) { health.failed(at: start) } else { health.succeeded(firstByte: .milliseconds(50)) }
        }
        #expect(health.status(at: start).state == .open)
        #expect(health.errorRate == 6.0 / 11.0)
    }

    @Test func rollingLatencyAndUptime() {
        var policy = HealthPolicy()
        policy.window = 4
        var health = DeploymentHealth<MockInstant>(policy: policy)
        #expect(health.latencyP50 == nil && health.uptime == nil)
        for milliseconds in [900, 100, 300, 200, 400] { health.succeeded(firstByte: .milliseconds(milliseconds)) }
        // The window holds the last four: 100, 300, 200, 400.
        #expect(health.latencyP50 == .milliseconds(200))
        health.failed(at: start)
        #expect(health.uptime == 0.75)
        #expect(health.status(at: start).latencyP50 == .milliseconds(300))
    }

    @Test func aRequestStillWaitingShowsHowLongItHasWaited() {
        var health = DeploymentHealth<MockInstant>()
        #expect(health.status(at: start).waitingFor == nil)
        let first = health.begin(at: start), second = health.begin(at: start.advanced(by: .milliseconds(500)))
        #expect(first && second)
        // The oldest one counts: a deployment that stopped answering looks slower every moment.
        #expect(health.status(at: start.advanced(by: .seconds(2))).waitingFor == .seconds(2))
        health.succeeded(firstByte: .milliseconds(40))
        #expect(health.status(at: start.advanced(by: .seconds(2))).waitingFor == .milliseconds(1_500))
        health.failed(at: start.advanced(by: .seconds(2)))
        #expect(health.status(at: start.advanced(by: .seconds(3))).waitingFor == nil)
        // A stream that broke off after its first audio had settled it leaves the others' waits alone.
        let third = health.begin(at: start.advanced(by: .seconds(3)))
        health.failed(at: start.advanced(by: .seconds(3)), waited: false)
        #expect(third && health.status(at: start.advanced(by: .seconds(4))).waitingFor == .seconds(1))
        health.succeeded(firstByte: .milliseconds(40))
        // A request refused by an open breaker never waits.
        for _ in 0..<3 {
            _ = health.begin(at: start.advanced(by: .seconds(3)))
            health.failed(at: start.advanced(by: .seconds(3)))
        }
        let refused = !health.begin(at: start.advanced(by: .seconds(4)))
        #expect(refused)
        #expect(health.status(at: start.advanced(by: .seconds(4))).waitingFor == nil)
    }
}
