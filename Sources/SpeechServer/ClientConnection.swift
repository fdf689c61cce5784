import NIOCore
import NIOHTTPTypes

/// The connection a response leaves on, as far as a route needs to know it.
struct ClientConnection: Sendable {
    let channel: any Channel

    /// Whether the response's last bytes reached the socket. A body writer's `write` and
    /// `finish` return when their bytes are queued for the connection's event loop, not when
    /// they are written: a client that has reset fails those writes only later, and a stream
    /// whose tail it never took must not be recorded as completed. This waits for the write of
    /// the response's end (see `ResponseEndWatcher`) and tells how it went; a connection
    /// without the watcher (one a test framework makes in memory) counts as kept.
    func kept() async -> Bool {
        let channel = self.channel
        let written = channel.eventLoop.flatSubmit {
            let watcher = try? channel.pipeline.syncOperations.handler(type: ResponseEndWatcher.self)
            return watcher?.lastEnd ?? channel.eventLoop.makeSucceededVoidFuture()
        }
        do {
            try await written.get()
            return true
        } catch {
            return false
        }
    }
}

/// Remembers how the write of the latest response end went: it succeeds once the end's bytes
/// are in the socket and fails when the connection closes before that (a reset, a stalled
/// reader's timeout).
final class ResponseEndWatcher: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private(set) var lastEnd: EventLoopFuture<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        lastEnd = written.futureResult
        context.write(data, promise: written)
    }
}
