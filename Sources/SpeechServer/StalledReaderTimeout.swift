import NIOCore
import NIOHTTPTypes

/// Closes a connection whose reader stopped reading: one whose response has filled the socket
/// and NIO's buffer (the channel is unwritable) for `timeout` without draining. The response's
/// pending write then fails, so its generation ends cancelled and is charged for what was
/// delivered. A reader that is merely slow drains the buffer below its low mark now and then,
/// which makes the channel writable again and disarms the timer.
final class StalledReaderTimeout: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: Duration
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) { self.timeout = timeout }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            disarm()
        } else if deadline == nil {
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
