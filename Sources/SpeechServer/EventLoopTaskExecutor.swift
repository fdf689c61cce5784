import NIOCore

/// Runs a connection's tasks on the event loop its channel lives on. A request's work then stays
/// on one thread: reading the request, the upstream client's channel (created on the same loop,
/// `UpstreamClient` shares the server's event loop group), the body's writes; without it every
/// step hops between the event loop and Swift's cooperative pool, a thread wake-up each way, and
/// on two cores those hops were most of what the gateway added to an upstream's latency.
///
/// Only what never blocks runs here: engines synthesize on their own threads
/// (`SynthesisScheduler`), SQLite on its own (`SQLiteThread`).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
