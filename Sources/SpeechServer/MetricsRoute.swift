import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Routing
import SpeechCache

/// `GET /metrics`: every metric in Prometheus' text format, to any scraper, or with a configured
/// token only to one that sends it as `Authorization: Bearer <token>`.
struct MetricsRoute: Sendable {
    let metrics: GatewayMetrics
    let token: MetricsToken?
    let ledger: GenerationLedger
    let admission: StreamAdmission
    let cache: SpeechCacheStore?
    /// Every upstream deployment, whose health each scrape reports.
    let deployments: [Deployment]
    let health: FleetHealth

    /// Prometheus' text exposition format, version 0.0.4.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func scrape(_ request: Request, context: SpeechContext) throws -> Response {
        if let token {
            let parts = request.headers[.authorization]?.split(separator: " ", maxSplits: 1) ?? []
            guard parts.count == 2, parts[0].lowercased() == "bearer",
                token.matches(parts[1].trimmingCharacters(in: .whitespaces)[...])
            else {
                throw APIError(
                    .unauthorized, "/metrics needs the metrics bearer token", type: "authentication",
                    headers: [.wwwAuthenticate: "Bearer"])
            }
        }
        return Response(
            status: .ok, headers: [.contentType: Self.contentType],
            body: .init(
                byteBuffer: ByteBuffer(
                    bytes: metrics.render(
                        ledger: ledger, admission: admission, cache: cache?.statistics,
                        deployments: deployments.map { ($0, health.status(of: [$0.id])[$0.id] ?? DeploymentStatus()) }))))
    }
}
