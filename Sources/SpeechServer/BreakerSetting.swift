import Routing

/// `breaker` in the configuration file: when an upstream deployment's breaker opens and how long
/// it rests (`HealthPolicy`); an absent field keeps its default. Every value is range-checked
/// and named in an error by its path in the file.
///
///     "breaker": {"consecutive_failures": 3, "error_rate": 0.5, "minimum_samples": 10,
///                 "window": 50, "cooldown_seconds": 5, "maximum_cooldown_seconds": 60}
public struct BreakerSetting: Sendable, Decodable, Equatable {
    public var consecutiveFailures: Int?
    public var errorRate: Double?
    public var minimumSamples: Int?
    public var window: Int?
    public var cooldownSeconds: Double?
    public var maximumCooldownSeconds: Double?

    private enum CodingKeys: String, CodingKey {
        case window
        case consecutiveFailures = "consecutive_failures"
        case errorRate = "error_rate"
        case minimumSamples = "minimum_samples"
        case cooldownSeconds = "cooldown_seconds"
        case maximumCooldownSeconds = "maximum_cooldown_seconds"
    }

    /// The most attempts a count or a window may span.
    static let maximumCount = 10_000
    /// The longest rest: a day.
    static let maximumCooldownSeconds = 86_400.0

    /// `policy` with these settings.
    func applied(to policy: HealthPolicy) throws(ConfigurationError) -> HealthPolicy {
        var policy = policy
        if let consecutiveFailures {
            policy.consecutiveFailures = try Self.count(consecutiveFailures, "consecutive_failures")
        }
        if let window { policy.window = try Self.count(window, "window") }
        if let minimumSamples { policy.minimumSamples = try Self.count(minimumSamples, "minimum_samples") }
        guard policy.minimumSamples <= policy.window else {
            throw ConfigurationError(
                "breaker.minimum_samples (\(policy.minimumSamples)) must not exceed breaker.window (\(policy.window)): "
                    + "the error rate would never be judged")
        }
        if let errorRate {
            guard errorRate > 0, errorRate <= 1 else {
                throw ConfigurationError("breaker.error_rate must be more than 0 and at most 1, not \(errorRate)")
            }
            policy.errorRateThreshold = errorRate
        }
        if let cooldownSeconds { policy.cooldown = try Self.duration(cooldownSeconds, "cooldown_seconds") }
        if let maximumCooldownSeconds {
            policy.maximumCooldown = try Self.duration(maximumCooldownSeconds, "maximum_cooldown_seconds")
        }
        guard policy.cooldown <= policy.maximumCooldown else {
            throw ConfigurationError("breaker.cooldown_seconds must not exceed breaker.maximum_cooldown_seconds")
        }
        return policy
    }

    private static func count(_ value: Int, _ name: String) throws(ConfigurationError) -> Int {
        try ConfigurationError.check(value, in: 1...maximumCount, "breaker.\(name)")
        return value
    }

    private static func duration(_ seconds: Double, _ name: String) throws(ConfigurationError) -> Duration {
        guard seconds >= 0.001, seconds <= maximumCooldownSeconds else {
            throw ConfigurationError(
                "breaker.\(name) must be from 0.001 to \(Int(maximumCooldownSeconds)) seconds, not \(seconds)")
        }
        return .milliseconds(Int((seconds * 1_000).rounded()))
    }
}
