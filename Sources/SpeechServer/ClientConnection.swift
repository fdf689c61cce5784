import NIOCore
import NIOHTTPTypes

/// The connection a response leaves on, as far as a route needs to know it.
struct ClientConnection: Sendable {
    let channel: any Channel

    /// Starts finding the connection's `ResponseEndWatcher` now, while the request is being
    /// served and the connection surely open (NIO drops a closed channel's handlers), and notes
    /// how many response ends it has seen so far.
    func watchEnd() -> ResponseEnd {
        let channel = self.channel
        let found = channel.eventLoop.submit { () -> ResponseEnd.Found? in
            guard let watcher = try? channel.pipeline.syncOperations.handler(type: ResponseEndWatcher.self) else {
                return nil
            }
            return ResponseEnd.Found(watcher: NIOLoopBound(watcher, eventLoop: channel.eventLoop), endsBefore: watcher.ends)
        }
        return ResponseEnd(found: found)
    }
}

/// Whether one response's end reached the socket. A body writer's `write` and `finish` return
/// when their bytes are queued for the connection's event loop, not when they are written: a
/// client that has reset fails those writes only later, and a stream whose tail it never took
/// must not be recorded as completed.
struct ResponseEnd: Sendable {
    struct Found: Sendable {
        let watcher: NIOLoopBound<ResponseEndWatcher>
        let endsBefore: Int
    }

    /// The watcher, nil on a connection without one (one a test framework makes in memory).
    let found: EventLoopFuture<Found?>

    /// After the body writer's `finish`: waits for the write of this response's end and tells
    /// whether it reached the socket. False when the end never got to the connection (it closed
    /// first) or its write failed; true on a connection without a watcher.
    func kept() async -> Bool {
        let written = found.flatMap { found -> EventLoopFuture<Void> in
            guard let found else { return self.found.eventLoop.makeSucceededVoidFuture() }
            let watcher = found.watcher.value
            guard watcher.ends > found.endsBefore, let lastEnd = watcher.lastEnd else {
                return self.found.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
            return lastEnd
        }
        do {
            try await written.get()
            return true
        } catch {
            return false
        }
    }
}

/// Remembers how the write of the latest response end went (it succeeds once the end's bytes
/// are in the socket and fails when the connection closes before that: a reset, a stalled
/// reader's timeout) and how many ends have been written on the connection.
final class ResponseEndWatcher: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private(set) var lastEnd: EventLoopFuture<Void>?
    private(set) var ends = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        lastEnd = written.futureResult
        ends += 1
        context.write(data, promise: written)
    }
}
