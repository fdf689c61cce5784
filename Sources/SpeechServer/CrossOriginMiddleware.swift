import HTTPTypes
import Hummingbird

/// CORS for browser apps on the origins the operator allows (`cors.allowed_origins`); with none
/// (the default) no response carries CORS headers, so only same-origin pages can read the API.
/// Hummingbird's `CORSMiddleware` allows one origin or all of them, not a list, hence this one.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = SpeechContext
    let policy: CrossOriginPolicy

    /// What a browser may send and read: the headers OpenRouter's and OpenAI's clients send,
    /// and the ones our responses carry that a page wants.
    static let allowedMethods = "GET, POST, PATCH, DELETE"
    static let defaultAllowedHeaders = "Authorization, Content-Type, X-Request-Id, HTTP-Referer, X-Title"
    static let exposedHeaders =
        "X-Generation-Id, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
    /// Seconds a browser may keep a preflight's answer.
    static let maxAgeSeconds = 600

    func handle(_ request: Request, context: SpeechContext, next: (Request, SpeechContext) async throws -> Response)
        async throws -> Response
    {
        guard let origin = request.headers[.origin], let allowed = policy.allowedOrigin(for: origin) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil,
            Self.isAPIRoute(context.endpointPath)
        {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: allowed, .vary: "Origin",
                    .accessControlAllowMethods: Self.allowedMethods,
                    .accessControlAllowHeaders: Self.allowedHeaders(asked: request.headers[.accessControlRequestHeaders]),
                    .accessControlMaxAge: String(Self.maxAgeSeconds),
                ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = allowed
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        return response
    }

    static func isAPIRoute(_ route: String?) -> Bool {
        guard let route else { return false }
        let path = route.hasPrefix("/") ? route.dropFirst() : route[...]
        return path.hasPrefix("api/v1/") || path.hasPrefix("v1/")
    }

    /// The headers a preflight asked for when they are a sane list of header names (browsers
    /// ask for what a client library adds, such as the OpenAI SDK's `x-stainless-*`), else our list.
    static func allowedHeaders(asked: String?) -> String {
        guard let asked, (1...1_024).contains(asked.utf8.count), asked.isASCIIAlphanumeric(orAnyOf: "-_, ") else {
            return defaultAllowedHeaders
        }
        return asked
    }
}

/// The origins allowed to call the API from a browser.
public struct CrossOriginPolicy: Sendable, Equatable {
    /// Lower-cased `scheme://host[:port]` origins, or `*` for any.
    public let allowedOrigins: Set<String>

    /// No origin but the API's own: no CORS headers at all.
    public static let sameOrigin = CrossOriginPolicy(origins: [])

    public static let maximumOrigins = 64

    private init(origins: Set<String>) { allowedOrigins = origins }
    static let maximumOriginLength = 253

    public init(allowedOrigins: [String], name: String = "cors.allowed_origins") throws(ConfigurationError) {
        guard allowedOrigins.count <= Self.maximumOrigins else {
            throw ConfigurationError("\(name) may list at most \(Self.maximumOrigins) origins, not \(allowedOrigins.count)")
        }
        self.allowedOrigins = Set(
            try allowedOrigins.map { origin throws(ConfigurationError) in
                guard origin == "*" || Self.isOrigin(origin) else {
                    throw ConfigurationError(
                        "\(name): \"\(origin.prefix(80))\" is not an origin like https://app.example.com or http://localhost:3000 (scheme, host and optional port, no path), or *")
                }
                return origin.lowercased()
            })
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil when it is not allowed.
    func allowedOrigin(for origin: String) -> String? {
        if allowedOrigins.contains("*") { return "*" }
        return allowedOrigins.contains(origin.lowercased()) ? origin : nil
    }

    /// `http` or `https`, `://`, a host of letters, digits, `-` and `.` (or a bracketed IPv6
    /// address), and an optional port from 1 to 65535.
    static func isOrigin(_ origin: String) -> Bool {
        guard origin.utf8.count <= maximumOriginLength else { return false }
        let lowered = origin.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            rest = lowered.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            rest = lowered.dropFirst(7)
        } else {
            return false
        }
        var host = rest
        var port: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return false }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), !host.isEmpty else { return false }
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
        } else {
            if let colon = rest.firstIndex(of: ":") {
                host = rest[..<colon]
                port = rest[rest.index(after: colon)...]
            }
            guard !host.isEmpty, !host.hasPrefix("."), !host.hasPrefix("-"),
                host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." })
            else { return false }
        }
        if let port {
            guard (1...5).contains(port.count), port.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(port), (1...65_535).contains(number)
            else { return false }
        }
        return true
    }
}
