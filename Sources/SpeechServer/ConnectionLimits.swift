/// What keeps slow and idle clients from holding the server: how many connections may be open at
/// once, how long a connection may take to send its request head or sit idle between requests,
/// and how long a response may wait on a reader that stopped reading.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections open at once; one more is answered 503 and closed at once.
    public var maxOpen: Int
    /// From connecting to the end of the first request head.
    public var headerTimeout: Duration
    /// From the end of a response (or from connecting) to the end of the next request head, and
    /// between two parts of a request body.
    public var idleTimeout: Duration
    /// How long a response may stay unwritable (the client's socket full, nothing read) before
    /// the connection is closed and its generation ends cancelled.
    public var writeTimeout: Duration

    public init(
        maxOpen: Int = 512, headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
        writeTimeout: Duration = .seconds(30)
    ) {
        self.maxOpen = maxOpen
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
    }

    public static let maximumOpen = 100_000
    /// The longest timeout accepted, as for the upstream timeouts.
    public static let maximumTimeoutSeconds = 3_600.0

    /// A number of seconds from outside (configuration file, command line) as a timeout, `name`
    /// naming it in the error: more than 0 and at most an hour.
    public static func timeout(seconds: Double, name: String) throws(ConfigurationError) -> Duration {
        guard seconds > 0, seconds <= maximumTimeoutSeconds else {
            throw ConfigurationError(
                "\(name) must be more than 0 and at most \(Int(maximumTimeoutSeconds)) seconds, not \(seconds)")
        }
        return .seconds(seconds)
    }

    /// A connection count from outside, checked like `timeout(seconds:name:)`.
    public static func open(_ count: Int, name: String) throws(ConfigurationError) -> Int {
        guard (1...maximumOpen).contains(count) else {
            throw ConfigurationError("\(name) must be between 1 and \(maximumOpen) connections, not \(count)")
        }
        return count
    }
}
