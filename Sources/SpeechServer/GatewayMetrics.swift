import Accounts
import SpeechCache
import Foundation
import CoreMetrics
import Routing
public import Prometheus

/// The gateway's metrics: swift-metrics instruments made by one Prometheus factory, and the
/// registry that `/metrics` renders. Each gateway has its own registry, so tests need not touch
/// the process-wide `MetricsSystem` (which `serve` bootstraps with `factory`, once).
public struct GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    /// Names as `/metrics` shows them; docs/OPERATIONS.md lists what each one means.
    enum Name {
        static let httpRequests = "speechrouter_http_requests_total"
        static let speechRequests = "speechrouter_speech_requests_total"
        static let billedCharacters = "speechrouter_billed_characters_total"
        static let timeToFirstByte = "speechrouter_time_to_first_byte_seconds"
        static let generationDuration = "speechrouter_generation_duration_seconds"
        static let streamsInFlight = "speechrouter_streams_in_flight"
        static let engineStreams = "speechrouter_engine_streams_admitted"
        static let engineCapacity = "speechrouter_engine_stream_capacity"
        static let engineQueueDepth = "speechrouter_engine_queue_depth"
        static let upstreamErrors = "speechrouter_upstream_errors_total"
        static let cache = "speechrouter_cache_"
        static let deploymentUp = "speechrouter_deployment_up"
        static let deploymentBreakerOpen = "speechrouter_deployment_breaker_open"
        static let deploymentLatency = "speechrouter_deployment_first_byte_p50_seconds"
        static let deploymentUptime = "speechrouter_deployment_uptime_ratio"
        static let deploymentStreams = "speechrouter_deployment_streams"
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            Name.timeToFirstByte: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30].map(Duration.seconds),
            Name.generationDuration: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900].map(Duration.seconds),
        ]
        self.factory = factory
    }

    /// One HTTP request answered: `route` is the matched route's pattern, not the path asked for,
    /// so the number of series stays bounded.
    func requestAnswered(method: String, route: String, status: Int) {
        Counter(
            label: Name.httpRequests, dimensions: [("method", method), ("route", route), ("status", String(status))],
            factory: factory
        ).increment()
    }

    /// A generation's end, as its lease records it: outcome, billed characters and timings.
    func generationEnded(_ record: GenerationRecord, _ end: GenerationEnd) {
        let provider = end.provider ?? record.provider
        Counter(
            label: Name.speechRequests,
            dimensions: [("model", record.model), ("provider", provider), ("outcome", end.status.rawValue)],
            factory: factory
        ).increment()
        Counter(label: Name.billedCharacters, dimensions: [("model", record.model)], factory: factory)
            .increment(by: max(end.spokenCharacters, 0))
        let dimensions = [("model", record.model), ("provider", provider)]
        if let firstByte = end.firstByteAt {
            CoreMetrics.Timer(label: Name.timeToFirstByte, dimensions: dimensions, factory: factory)
                .record(seconds: firstByte.timeIntervalSince(record.startedAt))
        }
        CoreMetrics.Timer(label: Name.generationDuration, dimensions: dimensions, factory: factory)
            .record(seconds: end.at.timeIntervalSince(record.startedAt))
    }

    /// An upstream request that failed: `kind` is `ProviderError.Kind`'s name.
    func upstreamFailed(provider: String, kind: String) {
        Counter(label: Name.upstreamErrors, dimensions: [("provider", provider), ("kind", kind)], factory: factory)
            .increment()
    }

    /// The Prometheus text of every metric, with the gauges read now from `ledger`, `admission` and
    /// the speech cache's figures (when there is a cache).
    func render(
        ledger: GenerationLedger, admission: StreamAdmission, cache: SpeechCacheStatistics?,
        deployments: [(Deployment, DeploymentStatus)] = []
    ) -> [UInt8] {
        Gauge(label: Name.streamsInFlight, factory: factory).record(ledger.runningGenerations.count)
        for load in admission.loads {
            let dimensions = [("model", load.model)]
            Gauge(label: Name.engineStreams, dimensions: dimensions, factory: factory).record(load.streams)
            if let capacity = load.capacity {
                Gauge(label: Name.engineCapacity, dimensions: dimensions, factory: factory).record(capacity)
            }
            Gauge(label: Name.engineQueueDepth, dimensions: dimensions, factory: factory).record(load.queuedPieces)
        }
        if let cache {
            let figures = [
                ("hits", cache.hits), ("misses", cache.misses), ("coalesced", cache.coalesced),
                ("entries", cache.entries), ("bytes", cache.bytes), ("evictions", cache.evictions),
                ("limit_bytes", cache.limitBytes),
            ]
            for (name, value) in figures { Gauge(label: Name.cache + name, factory: factory).record(value) }
        }
        for (deployment, status) in deployments {
            let dimensions = [("model", deployment.model), ("deployment", deployment.tag)]
            Gauge(label: Name.deploymentUp, dimensions: dimensions, factory: factory).record(status.available ? 1 : 0)
            Gauge(label: Name.deploymentBreakerOpen, dimensions: dimensions, factory: factory)
                .record(status.state == .open ? 1 : 0)
            Gauge(label: Name.deploymentStreams, dimensions: dimensions, factory: factory).record(status.streams)
            if let latency = status.latencyP50 {
                Gauge(label: Name.deploymentLatency, dimensions: dimensions, factory: factory)
                    .record(latency / .seconds(1))
            }
            if let uptime = status.uptime {
                Gauge(label: Name.deploymentUptime, dimensions: dimensions, factory: factory).record(uptime)
            }
        }
        return registry.emitToBuffer()
    }
}

extension CoreMetrics.Timer {
    /// Records a duration given in seconds; a negative or non-finite one (a clock stepped back) as zero.
    fileprivate func record(seconds: Double) {
        let nanoseconds = seconds.isFinite ? (seconds * 1e9).rounded() : 0
        recordNanoseconds(nanoseconds > 0 && nanoseconds < Double(Int64.max) ? Int64(nanoseconds) : 0)
    }
}
