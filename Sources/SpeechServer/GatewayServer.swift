public import Hummingbird
public import ServiceLifecycle

/// The HTTP server as a service with a grace period. At graceful shutdown (SIGTERM, SIGINT)
/// it stops accepting connections and lets the responses in flight finish; when `grace` runs
/// out first, the rest are cancelled, and their generations are recorded as cancelled by their
/// leases. Only the server is cancelled: the ledger and the database, services after it in the
/// group, are still there to record those ends.
public struct GatewayServer<App: ApplicationProtocol>: Service {
    let application: App
    let grace: Duration

    public init(application: App, grace: Duration) {
        self.application = application
        self.grace = grace
    }

    public func run() async throws {
        let (application, grace) = (self.application, self.grace)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.run() }
            group.addTask {
                try? await gracefulShutdown()
                try await Task.sleep(for: grace)
            }
            // Whichever ends first, the server or the grace period, ends the other.
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
