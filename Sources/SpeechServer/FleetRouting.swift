import HTTPTypes
import Providers
import Routing
import SpeechCore

/// Chooses, for each request to an upstream model, which of its deployments are tried and in
/// which order, from their health now and the request's `provider` preferences.
struct FleetRouting: Sendable {
    let health: FleetHealth

    /// `endpoints` in the order to try, each reporting to the fleet's health and to `attempts`.
    func route(
        _ endpoints: [RoutedEndpoint], model: String, preferences: RoutingPreferences, attempts: AttemptLog
    ) throws(APIError) -> [RoutedEndpoint] {
        let status = health.status(of: endpoints.map(\.deployment.id))
        var generator = SystemRandomNumberGenerator()
        let ordered: [Deployment]
        do throws(NoEligibleDeployment) {
            ordered = try DeploymentSelector.route(
                endpoints.map(\.deployment), status: status, preferences: preferences,
                strategy: endpoints.first?.strategy ?? .balanced, using: &generator)
        } catch {
            throw APIError(error, model: model)
        }
        return ordered.compactMap { deployment in
            endpoints.first { $0.deployment.id == deployment.id }.map { routed in
                var routed = routed
                routed.endpoint.provider = RoutedProvider(
                    provider: routed.endpoint.provider, deployment: deployment, health: health, attempts: attempts)
                return routed
            }
        }
    }

    /// Gives back the stream slots `attempts` took, once the generation has ended.
    func release(_ attempts: AttemptLog) {
        for id in attempts.streamingDeployments { health.streamEnded(id) }
    }
}

extension APIError {
    /// OpenRouter's availability error: `error.availability` says why, and which deployment
    /// was left out for what (`metadata.excluded`).
    init(_ refusal: NoEligibleDeployment, model: String) {
        let code = refusal.code
        let reasons = refusal.excluded.map { "\($0.tag) (\($0.reason.rawValue))" }.joined(separator: ", ")
        var availability: [String: JSONValue] = [
            "code": .string(code.rawValue), "retryable": .bool(code.retryable),
            "requested_models": .array([.string(model)]),
            "affected_providers": .array(refusal.excluded.map { .string($0.tag) }),
            "excluded_by": .array(Array(Set(refusal.excluded.map(\.reason.rawValue))).sorted().map(JSONValue.string)),
            "docs_url": .string("https://openrouter.ai/docs/errors#\(code.rawValue)"),
        ]
        var headers: HTTPFields = [:]
        if code.retryable {
            // Whole seconds, rounded up: a client that waits that long finds a breaker half-open.
            let wait = refusal.retryAfter.map { max(1, Int(($0 / .seconds(1)).rounded(.up))) } ?? 1
            availability["retry_after"] = .number(Double(wait))
            headers[.retryAfter] = String(wait)
        }
        self.init(
            HTTPResponse.Status(code: code.status),
            "No endpoints found for \(model) that can serve this request: \(reasons.isEmpty ? "none configured" : reasons)",
            type: code.status == 404 ? "not_found" : code.status == 429 ? "rate_limit_exceeded" : "provider_overloaded",
            metadata: [
                "excluded": .array(
                    refusal.excluded.map { .object(["provider": .string($0.tag), "reason": .string($0.reason.rawValue)]) })
            ],
            headers: headers)
        self.availability = .object(availability)
    }
}
