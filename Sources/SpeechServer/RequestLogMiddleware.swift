import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The outermost middleware: gives each request its id (echoed in `X-Request-Id`, and on every
/// log line of the request), and once its response has been sent, or given up, writes the one
/// info line per request and counts it in `speechrouter_http_requests_total`.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = SpeechContext
    let logger: Logger
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: SpeechContext, next: (Request, SpeechContext) async throws -> Response)
        async throws -> Response
    {
        let id = RequestID(header: request.headers[.requestID])
        var context = context
        context.logger[metadataKey: "request_id"] = "\(id)"
        let entry = RequestLogEntry(
            id: id, method: request.method.rawValue, path: request.uri.path, route: context.endpointPath ?? "unmatched",
            summary: context.summary, logger: logger, metrics: metrics)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // APIErrorMiddleware answers every error; one that still gets here is the server's.
            entry.finish(status: 500)
            throw error
        }
        response.headers[.requestID] = id.description
        let status = Int(response.status.code)
        let body = response.body
        // The line is written once the body has been sent; a response Hummingbird drops
        // unsent (the client went away first) writes it when the entry goes.
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { entry.finish(status: status) }
            try await body.write(writer)
        }
        entry.expect(status: status)
        return response
    }
}

/// One request's log line, written exactly once: by `finish`, or when dropped unfinished.
final class RequestLogEntry: Sendable {
    let id: RequestID
    let method: String
    let path: String
    let route: String
    let summary: RequestSummary
    let logger: Logger
    let metrics: GatewayMetrics
    private let started = ContinuousClock.now
    /// The status to report if the entry is dropped before `finish`; nil once written.
    private let pending = Mutex<Int?>(500)

    init(
        id: RequestID, method: String, path: String, route: String, summary: RequestSummary, logger: Logger,
        metrics: GatewayMetrics
    ) {
        self.id = id
        self.method = method
        self.path = path
        self.route = route
        self.summary = summary
        self.logger = logger
        self.metrics = metrics
    }

    deinit {
        if let status = pending.withLock({ $0 }) { write(status: status) }
    }

    /// The response's status, reported if the body is never sent.
    func expect(status: Int) {
        pending.withLock { if $0 != nil { $0 = status } }
    }

    func finish(status: Int) {
        let first = pending.withLock { pending in
            defer { pending = nil }
            return pending != nil
        }
        if first { write(status: status) }
    }

    private func write(status: Int) {
        metrics.requestAnswered(method: method, route: route, status: status)
        let elapsed = started.duration(to: .now).components
        let milliseconds = Double(elapsed.seconds) * 1_000 + Double(elapsed.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": "\(id)", "method": "\(method)", "path": "\(path)", "status": .stringConvertible(status),
            "duration_ms": .stringConvertible((milliseconds * 1_000).rounded() / 1_000),
        ]
        let fields = summary.current
        if let key = fields.keyName { metadata["key"] = "\(key)" }
        if let generation = fields.generation { metadata["generation"] = "\(generation)" }
        if let model = fields.model { metadata["model"] = "\(model)" }
        if let provider = fields.provider { metadata["provider"] = "\(provider)" }
        if let characters = fields.characters { metadata["characters"] = .stringConvertible(characters) }
        logger.info("request", metadata: metadata)
    }
}
