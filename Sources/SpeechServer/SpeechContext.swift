public import Accounts
public import Hummingbird

/// The request context: Hummingbird's core plus the key that authenticated the request.
public struct SpeechContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var key: APIKey?
    let connection: ClientConnection
    /// What this request's log line reports, filled in as it is handled.
    public let summary = RequestSummary()

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.connection = ClientConnection(channel: source.channel)
    }

    public var maxUploadSize: Int { SpeechRoutes.maxBodyBytes }

    public var responseEncoder: JSONResponseEncoder { JSONResponseEncoder() }
}
