/// When a deployment's breaker opens and for how long. The defaults follow LiteLLM's proxy
/// (ROUTING.md §2): a 5 s cooldown, a failure rate over 50% opens it; three failures in a row
/// open it too, and the cooldown doubles while probes keep failing, up to a minute.
public struct HealthPolicy: Sendable, Equatable {
    /// Failures in a row that open the breaker.
    public var consecutiveFailures = 3
    /// A share of failed attempts among the recent ones that opens the breaker…
    public var errorRateThreshold = 0.5
    /// …once at least this many recent attempts are known (one failure is not a rate).
    public var minimumSamples = 10
    /// How many recent attempts the rates and latencies are taken over.
    public var window = 50
    /// The first cooldown, and the longest one it grows to.
    public var cooldown: Duration = .seconds(5)
    public var maximumCooldown: Duration = .seconds(60)
    /// The longest `Retry-After` honoured: a larger one is read as this.
    public var maximumRetryAfter: Duration = .seconds(600)

    public init() {}
}
