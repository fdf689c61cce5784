public import SpeechCore

/// Orders a model's deployments for one request, with OpenRouter's semantics (ROUTING.md §1.1):
/// `only`, `ignore`, `zdr`, `data_collection` and `max_price` filter; an open breaker or a full
/// deployment is skipped; `order` puts its deployments first (and, with `allow_fallbacks: false`,
/// alone); `sort` orders by price or latency; otherwise load balancing draws each place at random,
/// weighted by the inverse square of the price times the deployment's weight.
public enum DeploymentSelector {
    /// The lowest price the inverse square is taken of, USD per character: a free deployment
    /// weighs as one charging a billionth of a dollar per character (it wins nearly always).
    static let priceFloor = 1e-9

    /// The deployments to try, in order; `status` gives each one's health (by `Deployment.id`;
    /// one without is taken as healthy). `strategy` orders what the request's `order` and `sort`
    /// leave unordered (`.ordered` keeps the given order: a model's `endpoints` list). Throws
    /// when none is left, saying why each was excluded.
    public static func route(
        _ deployments: [Deployment], status: [String: DeploymentStatus], preferences: RoutingPreferences,
        strategy: RoutingStrategy = .balanced, using generator: inout some RandomNumberGenerator
    ) throws(NoEligibleDeployment) -> [Deployment] {
        var excluded: [NoEligibleDeployment.Exclusion] = []
        var eligible: [Deployment] = []
        for deployment in deployments {
            if let reason = exclusion(of: deployment, status: status[deployment.id] ?? DeploymentStatus(), preferences) {
                excluded.append(.init(tag: deployment.tag, reason: reason, reopensIn: status[deployment.id]?.reopensIn))
            } else {
                eligible.append(deployment)
            }
        }
        var ordered: [Deployment] = []
        for slug in preferences.order {
            ordered += eligible.filter { $0.matches(slug) && !ordered.contains($0) }
        }
        let rest = eligible.filter { !ordered.contains($0) }
        if preferences.order.isEmpty || preferences.allowFallbacks {
            ordered += arranged(rest, sort: preferences.sort, strategy: strategy, status: status, using: &generator)
        }
        // Without fallbacks only the first choice is tried, unless `order` named several.
        if !preferences.allowFallbacks, preferences.order.isEmpty { ordered = Array(ordered.prefix(1)) }
        guard !ordered.isEmpty else {
            if !preferences.order.isEmpty {
                for deployment in rest { excluded.append(.init(tag: deployment.tag, reason: .notInOrder, reopensIn: nil)) }
            }
            throw NoEligibleDeployment(excluded: excluded)
        }
        return ordered
    }

    private static func exclusion(
        of deployment: Deployment, status: DeploymentStatus, _ preferences: RoutingPreferences
    ) -> NoEligibleDeployment.Reason? {
        if let only = preferences.only, !only.contains(where: deployment.matches) { return .allowedProviders }
        if preferences.ignore.contains(where: deployment.matches) { return .allowedProviders }
        if preferences.zeroDataRetention, !deployment.zeroDataRetention { return .zeroDataRetention }
        if preferences.denyDataCollection, deployment.collectsData { return .dataCollection }
        if let limit = preferences.maxPromptPrice, deployment.pricePerMillionCharacters > limit { return .maxPrice }
        if !status.available { return .breakerOpen }
        if let limit = deployment.maxConcurrentStreams, status.streams >= limit { return .atCapacity }
        return nil
    }

    /// `deployments` in `sort`'s order, or else in the model's strategy's; ties keep the order
    /// they had (the configuration's, or the load-balanced draw's for `leastBusy`).
    private static func arranged(
        _ deployments: [Deployment], sort: RoutingPreferences.Sort?, strategy: RoutingStrategy,
        status: [String: DeploymentStatus], using generator: inout some RandomNumberGenerator
    ) -> [Deployment] {
        func sorted(_ deployments: [Deployment], by key: (Deployment) -> some Comparable) -> [Deployment] {
            deployments.enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }
                .map(\.element)
        }
        // Speech has no token throughput: the fastest first byte is the fastest stream. A
        // request waiting longer than the median counts as the figure: a deployment that stopped
        // answering falls behind at once, not when its requests time out.
        func latency(_ deployment: Deployment, unmeasured: Duration) -> Duration {
            max(status[deployment.id]?.latencyP50 ?? unmeasured, status[deployment.id]?.waitingFor ?? .zero)
        }
        switch (sort, strategy) {
        case (.price?, _): return sorted(deployments, by: \.pricePerCharacter)
        // Never measured goes last, as OpenRouter ranks endpoints without statistics…
        case (.latency?, _), (.throughput?, _): return sorted(deployments) { latency($0, unmeasured: .seconds(1 << 40)) }
        // …while the model's strategy tries it first, once, to learn its figure (as LiteLLM's
        // latency-based routing does).
        case (nil, .latency): return sorted(deployments) { latency($0, unmeasured: .zero) }
        case (nil, .leastBusy):
            return sorted(balanced(deployments, using: &generator)) { status[$0.id]?.streams ?? 0 }
        case (nil, .balanced): return balanced(deployments, using: &generator)
        case (nil, .ordered): return deployments
        }
    }

    /// Each place drawn at random from the deployments not yet placed, weighted by
    /// `weight / price²`: OpenRouter's default load balancing, with LiteLLM's weights on top.
    static func balanced(_ deployments: [Deployment], using generator: inout some RandomNumberGenerator) -> [Deployment] {
        var remaining = deployments
        var ordered: [Deployment] = []
        while !remaining.isEmpty {
            let weights = remaining.map { $0.weight / pow2(max($0.pricePerCharacter, priceFloor)) }
            let total = weights.reduce(0, +)
            var draw = Double.random(in: 0..<1, using: &generator) * total
            var chosen = remaining.count - 1
            for (index, weight) in weights.enumerated() {
                if draw < weight {
                    chosen = index
                    break
                }
                draw -= weight
            }
            ordered.append(remaining.remove(at: chosen))
        }
        return ordered
    }

    private static func pow2(_ value: Double) -> Double { value * value }
}

/// No deployment of the model may serve the request: OpenRouter's availability error, with
/// the reason each deployment was left out.
public struct NoEligibleDeployment: Error, Sendable, Equatable {
    /// Why a deployment was left out: OpenRouter's `excluded_by` words, and ours for health.
    public enum Reason: String, Sendable {
        case allowedProviders = "allowed_providers"
        case zeroDataRetention = "data_policy:zdr"
        case dataCollection = "data_policy:training"
        case maxPrice = "max_price"
        /// Its breaker is open: it failed recently, or asked to be left alone (`Retry-After`).
        case breakerOpen = "breaker_open"
        /// It serves its `max_concurrent_streams` already.
        case atCapacity = "capacity"
        /// `order` did not name it and `allow_fallbacks` is false.
        case notInOrder = "allow_fallbacks"
    }

    public struct Exclusion: Sendable, Equatable {
        public var tag: String
        public var reason: Reason
        public var reopensIn: Duration?

        public init(tag: String, reason: Reason, reopensIn: Duration? = nil) {
            self.tag = tag
            self.reason = reason
            self.reopensIn = reopensIn
        }
    }

    /// OpenRouter's `availability.code`, and the HTTP status it comes with.
    public enum Code: String, Sendable {
        case noEndpoints = "no_endpoints"
        case privacyRestricted = "privacy_restricted"
        case constraintFiltered = "constraint_filtered"
        case capacityExhausted = "capacity_exhausted"
        case temporarilyUnavailable = "temporarily_unavailable"

        public var status: Int {
            switch self {
            case .noEndpoints, .privacyRestricted, .constraintFiltered: 404
            case .capacityExhausted: 429
            case .temporarilyUnavailable: 503
            }
        }

        public var retryable: Bool { self == .capacityExhausted || self == .temporarilyUnavailable }
    }

    public var excluded: [Exclusion]

    public init(excluded: [Exclusion]) { self.excluded = excluded }

    /// The code for this set of exclusions: what a retry could change comes first (a breaker
    /// that reopens, a deployment that frees up), then what the request itself asked for.
    public var code: Code {
        let reasons = Set(excluded.map(\.reason))
        if reasons.contains(.breakerOpen) { return .temporarilyUnavailable }
        if reasons.contains(.atCapacity) { return .capacityExhausted }
        if reasons.contains(.zeroDataRetention) || reasons.contains(.dataCollection) { return .privacyRestricted }
        if reasons.contains(.maxPrice) { return .constraintFiltered }
        return .noEndpoints
    }

    /// When the first open breaker among the excluded closes again.
    public var retryAfter: Duration? { excluded.compactMap(\.reopensIn).min() }
}

/// How a model's deployments are ordered when the request's `provider.sort` does not say.
public enum RoutingStrategy: String, Sendable, CaseIterable {
    /// OpenRouter's default: drawn at random, weighted by `weight / price²`.
    case balanced
    /// Fewest streams in flight first (ties drawn as `balanced`): LiteLLM's `least-busy`.
    case leastBusy = "least-busy"
    /// Lowest median first-byte latency first, never measured last: `provider.sort: "latency"`
    /// for every request.
    case latency
    /// As listed: a model's plain `endpoints`, tried in turn.
    case ordered
}
