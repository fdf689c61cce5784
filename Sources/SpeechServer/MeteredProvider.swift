import Providers
import SpeechCore

/// A provider around another, whose properties it passes on unchanged: only `synthesize` differs.
protocol ProviderWrapper: SpeechProvider {
    var provider: any SpeechProvider { get }
}

extension ProviderWrapper {
    var slug: String { provider.slug }
    var name: String { provider.name }
    var speedRange: ClosedRange<Double>? { provider.speedRange }
    var maxInputCharacters: Int { provider.maxInputCharacters }
    var passthroughFormats: Set<AudioFormat> { provider.passthroughFormats }
    var maxReferenceAudios: Int { provider.maxReferenceAudios }
}

/// An upstream provider whose refused or unreachable requests are counted in `GatewayMetrics`.
struct MeteredProvider: ProviderWrapper {
    let provider: any SpeechProvider
    let metrics: GatewayMetrics

    func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        do {
            return try await provider.synthesize(request)
        } catch let error as ProviderError {
            metrics.upstreamFailed(provider: error.provider, kind: error.kind.metricName)
            throw error
        }
    }
}

extension ProviderError.Kind {
    /// The `kind` label of `speechrouter_upstream_errors_total`.
    var metricName: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .moderation: "moderation"
        case .credentials: "credentials"
        case .rateLimited: "rate_limited"
        case .unavailable: "unavailable"
        case .timeout: "timeout"
        case .unreachable: "unreachable"
        case .malformed: "malformed"
        }
    }
}
