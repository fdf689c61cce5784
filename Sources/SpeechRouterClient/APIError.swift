/// An error response from the API: `{"error":{"code":N,"message":"…","metadata":{…}}}`.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status of the response.
    public var status: Int
    /// `error.code`, which SpeechRouter and OpenRouter keep equal to `status`.
    public var code: Int
    public var message: String
    /// Details such as `error_type`, `param`, `provider_name` or `raw`; empty when none were sent.
    public var metadata: [String: JSONValue]
    /// Seconds to wait before retrying, from `Retry-After` (sent with 429 and 503).
    public var retryAfter: Int?

    public init(status: Int, code: Int, message: String, metadata: [String: JSONValue] = [:], retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.metadata = metadata
        self.retryAfter = retryAfter
    }

    public var kind: Kind { Kind(status: status) }

    public var description: String { message }

    /// What went wrong, by status, for callers that branch on it.
    public enum Kind: Sendable, Hashable {
        case badRequest  // 400: invalid request, unknown model or voice
        case unauthorized  // 401
        case paymentRequired  // 402: key limit or credits exhausted
        case forbidden  // 403
        case notFound  // 404
        case requestTimeout  // 408
        case payloadTooLarge  // 413
        case rateLimited  // 429
        case server  // 500
        case badGateway  // 502: the upstream provider failed
        case serviceUnavailable  // 503: no provider available
        case other(Int)

        init(status: Int) {
            switch status {
            case 400: self = .badRequest
            case 401: self = .unauthorized
            case 402: self = .paymentRequired
            case 403: self = .forbidden
            case 404: self = .notFound
            case 408: self = .requestTimeout
            case 413: self = .payloadTooLarge
            case 429: self = .rateLimited
            case 500: self = .server
            case 502: self = .badGateway
            case 503: self = .serviceUnavailable
            default: self = .other(status)
            }
        }
    }
}

/// A response the client cannot use: not the API's error JSON, or not audio where audio was due.
public enum ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidBaseURL(String)
    case unexpectedResponse(status: Int, contentType: String?, body: String)

    public var description: String {
        switch self {
        case .invalidBaseURL(let url):
            "Invalid base URL '\(url)': expected http(s)://host[:port][/path]"
        case .unexpectedResponse(let status, let contentType, let body):
            "Unexpected response: HTTP \(status), Content-Type \(contentType ?? "none"): \(body.prefix(500))"
        }
    }
}
