import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Hummingbird's HTTP/1.1 channel within `ConnectionLimits`: a connection over `maxOpen` is
/// answered 503 and closed as soon as it is accepted, without reading from it, so the ones
/// admitted keep their place; admitted ones get the head, idle and stalled-reader timeouts.
struct LimitedHTTP1Channel: ServerChildChannel {
    struct Connection: ServerChildChannelValue {
        let http: HTTP1Channel.Value
        let admitted: Bool
        var channel: any Channel { http.channel }
    }

    let http: HTTP1Channel
    let limits: ConnectionLimits
    let open = OpenConnections()

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits) {
        let (headTimeout, writeTimeout) = (limits.headerTimeout, limits.writeTimeout)
        http = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [
                    RequestHeadTimeout(timeout: headTimeout), StalledReaderTimeout(timeout: writeTimeout),
                    ResponseEndWatcher(),
                ],
                idleTimeout: TimeAmount(limits.idleTimeout)))
        self.limits = limits
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        let admitted = open.admit(limit: limits.maxOpen)
        if admitted {
            channel.closeFuture.whenComplete { [open] _ in open.release() }
        }
        return http.setup(channel: channel, logger: logger).map { Connection(http: $0, admitted: admitted) }
    }

    func handle(value: Connection, logger: Logger) async {
        guard value.admitted else {
            logger.debug("refused a connection over the limit", metadata: ["limit": "\(limits.maxOpen)"])
            await Self.refuse(value.http)
            return
        }
        await http.handle(value: value.http, logger: logger)
    }

    /// 503 in the API's error shape, then close.
    private static func refuse(_ connection: HTTP1Channel.Value) async {
        let error = APIError(.serviceUnavailable, "Too many open connections; retry later", type: "too_many_connections")
        let body = ByteBuffer(bytes: [UInt8]((try? JSONEncoder().encode(error.body)) ?? Data()))
        let head = HTTPResponse(
            status: error.status,
            headerFields: [.contentType: "application/json", .contentLength: "\(body.readableBytes)", .connection: "close"])
        try? await connection.executeThenClose { _, outbound in
            // One write, so the answer leaves in one segment: a client that keeps sending may get
            // a reset after the close, which discards whatever it had not read yet.
            try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
        }
    }
}

/// The number of admitted connections open now, shared by the event loops that accept them.
final class OpenConnections: Sendable {
    private let count = Mutex(0)

    /// Counts one more connection if fewer than `limit` are open.
    func admit(limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { count.withLock { $0 -= 1 } }
}
