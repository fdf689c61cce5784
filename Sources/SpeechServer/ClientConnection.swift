import NIOCore
import NIOHTTPTypes

/// The connection a response leaves on, as far as a route needs to know it.
struct ClientConnection: Sendable {
    let channel: any Channel

    /// Starts finding the connection's `ResponseEndWatcher` now, while the request is being
    /// served and the connection surely open (NIO drops a closed channel's handlers), and notes
    /// how many response ends it has seen so far: at once when called on the connection's own
    /// loop, since a short response may be written whole before a turn of the loop scheduled
    /// now would come.
    func watchEnd() -> ResponseEnd {
        let channel = self.channel
        let find = { () -> ResponseEnd.Found? in
            guard let watcher = try? channel.pipeline.syncOperations.handler(type: ResponseEndWatcher.self) else {
                return nil
            }
            return ResponseEnd.Found(watcher: NIOLoopBound(watcher, eventLoop: channel.eventLoop), endsBefore: watcher.ends)
        }
        if channel.eventLoop.inEventLoop { return ResponseEnd(found: channel.eventLoop.makeSucceededFuture(find())) }
        return ResponseEnd(found: channel.eventLoop.submit(find))
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
            return found.watcher.value.end(after: found.endsBefore, on: self.found.eventLoop)
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
///
/// A route may ask for its end before the end has reached this handler (a task running on the
/// connection's event loop, where the body writer's `finish` hands the end over in a later turn
/// of the loop): the answer then waits for that end, or for the close.
final class ResponseEndWatcher: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var lastEnd: EventLoopFuture<Void>?
    private(set) var ends = 0
    /// Those waiting for the end that follows `after` ends, failed when the connection closes.
    private var waiting: [(after: Int, promise: EventLoopPromise<Void>)] = []
    private var closed = false

    func handlerAdded(context: ChannelHandlerContext) {
        context.channel.closeFuture.assumeIsolated().whenComplete { [self] _ in
            closed = true
            let waiting = self.waiting
            self.waiting = []
            for (_, promise) in waiting { promise.fail(ChannelError.ioOnClosedChannel) }
        }
    }

    /// The write of the first response end after `count` ends on this connection: the one
    /// written already, or the next one to come; failed if the connection closes first. Called on
    /// the connection's `eventLoop`.
    func end(after count: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if ends > count, let lastEnd { return lastEnd }
        if closed { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        let promise = eventLoop.makePromise(of: Void.self)
        waiting.append((count, promise))
        return promise.futureResult
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        lastEnd = written.futureResult
        ends += 1
        let due = waiting.filter { $0.after < ends }
        waiting.removeAll { $0.after < ends }
        for (_, waiter) in due { written.futureResult.cascade(to: waiter) }
        context.write(data, promise: written)
    }
}
