import Accounts
import Foundation
import Providers
import Routing
import SpeechCore
import Synchronization

/// One model's deployment as the gateway serves it: the routing view and the adapter behind it.
struct RoutedEndpoint: Sendable {
    var deployment: Deployment
    var endpoint: ProviderEndpoint
    /// How the model's deployments are ordered: its `routing_strategy`, or `.ordered` for a
    /// model's `endpoints`, tried in turn.
    var strategy = RoutingStrategy.balanced
}

/// Every upstream attempt of one request, in order: OpenRouter's `provider_responses`, told to
/// the generation's lease as they happen once it has one.
final class AttemptLog: Sendable {
    private struct State {
        var attempts: [ProviderAttempt] = []
        var streaming: [String] = []
        /// Weak: the lease's end actions hold this log, and a lease records a reset client's end
        /// when it is dropped, so a strong reference here would keep it running forever.
        weak var lease: GenerationLease?
    }

    private let state = Mutex(State())

    var attempts: [ProviderAttempt] { state.withLock { $0.attempts } }
    /// The deployments that took a stream slot for this request and hold it until it ends.
    var streamingDeployments: [String] { state.withLock { $0.streaming } }

    /// From now on every attempt is recorded on `lease`'s generation too.
    func record(to lease: GenerationLease) {
        let attempts = state.withLock { state in
            state.lease = lease
            return state.attempts
        }
        lease.attempted(attempts)
    }

    func append(_ attempt: ProviderAttempt) {
        let (attempts, lease) = state.withLock { state in
            state.attempts.append(attempt)
            return (state.attempts, state.lease)
        }
        lease?.attempted(attempts)
    }

    func streaming(on id: String) { state.withLock { $0.streaming.append(id) } }
    func isStreaming(on id: String) -> Bool { state.withLock { $0.streaming.contains(id) } }

    /// `id` no longer streams for this request (it broke off): true the first time only, when
    /// its stream slot is the caller's to give back.
    func stopStreaming(on id: String) -> Bool {
        state.withLock { state in
            guard let place = state.streaming.firstIndex(of: id) else { return false }
            state.streaming.remove(at: place)
            return true
        }
    }
}

/// A deployment's adapter for one request: asks the fleet's health before each first request
/// (an open breaker refuses at once, without a network round trip), and reports how it went.
struct RoutedProvider: ProviderWrapper {
    let provider: any SpeechProvider
    let deployment: Deployment
    let health: FleetHealth
    let attempts: AttemptLog

    func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        let attempt = DeploymentAttempt(
            providerName: provider.name, deployment: deployment, model: request.model, health: health, log: attempts)
        // The later pieces of an input go to the deployment already serving it, unchecked; one
        // that fails ends its part in the stream (another deployment may go on with the rest).
        if attempts.isStreaming(on: deployment.id) {
            do {
                return try await provider.synthesize(request).watchingBreakOff { attempt.brokeOff($0) }
            } catch {
                attempt.brokeOff(error)
                throw error
            }
        }
        guard health.begin(deployment.id, maxStreams: deployment.maxConcurrentStreams) else {
            throw ProviderError(
                .unavailable, provider: provider.name,
                message: "\(provider.name) (\(deployment.tag)) is resting after failures or is at capacity")
        }
        do {
            // Settled by the first audio, not the response head: a 200 with nothing after it
            // (an empty body, a stall, a dropped connection) failed, and the next deployment serves.
            return try await provider.synthesize(request).watchingFirstAudio { attempt.settle($0) }
                .watchingBreakOff { attempt.brokeOff($0) }
        } catch {
            attempt.settle(.failed(error))
            throw error
        }
    }

    /// A `Retry-After` value as a wait: delay-seconds, or an HTTP date (RFC 9110 §10.2.3). A
    /// day at most, so no conversion can overflow; the breaker caps it lower still.
    static func delay(retryAfter: String?, now: Date = Date()) -> Duration? {
        guard let text = retryAfter?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let seconds: Double
        if let number = Double(text), number.isFinite {
            seconds = number
        } else {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            guard let date = formatter.date(from: text) else { return nil }
            seconds = date.timeIntervalSince(now)
        }
        return .milliseconds(Int((min(max(seconds, 0), 86_400) * 1_000).rounded()))
    }
}

/// One request to a deployment, from the right to send it until its outcome is known: told to
/// the fleet's health (which gave it a stream slot) and to the request's attempt log, once.
private struct DeploymentAttempt: Sendable {
    let providerName: String
    let deployment: Deployment
    let model: String
    let health: FleetHealth
    let log: AttemptLog
    let started = ContinuousClock.now

    /// `afterAudio`: the outcome of a stream whose first audio had already settled it once.
    func settle(_ outcome: FirstAudioOutcome, afterAudio: Bool = false) {
        let waited = !afterAudio
        switch outcome {
        case .audio:
            health.succeeded(deployment.id, firstByte: started.duration(to: .now))
            log.streaming(on: deployment.id)
            record(200)
        case .failed(let error as ProviderError):
            switch error.kind {
            case .invalidRequest, .moderation: health.answered(deployment.id, waited: waited)
            default:
                health.failed(
                    deployment.id, retryAfter: RoutedProvider.delay(retryAfter: error.retryAfter), waited: waited)
            }
            record(error.upstreamStatus)
        case .failed, .abandoned:
            health.abandoned(deployment.id, waited: waited)
            record(nil)
        }
    }

    /// The deployment failed after its audio began (its body broke off, or a later piece's
    /// request failed): recorded as an attempt of its own and told to its health, which gets its
    /// stream slot back; once per request, and not for a request that was cancelled.
    func brokeOff(_ error: any Error) {
        guard !Task.isCancelled, !(error is CancellationError), log.stopStreaming(on: deployment.id) else { return }
        settle(.failed(error), afterAudio: true)
    }

    private func record(_ status: Int?) {
        let milliseconds = min(started.duration(to: .now) / .milliseconds(1), 1e12)
        log.append(
            ProviderAttempt(
                providerName: providerName, tag: deployment.tag, model: model, status: status,
                latencyMilliseconds: Int(max(milliseconds, 0).rounded())))
    }
}
