public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A client for SpeechRouter's API, which is OpenRouter's speech API: it works against either.
///
///     let client = try SpeechRouter()
///     let audio = try await client.tts.createSpeech(.init(model: "local/flite", input: "Hello", responseFormat: .mp3))
///     for try await chunk in audio { … }
public struct SpeechRouter: Sendable {
    public static let openRouterBaseURL = "https://openrouter.ai/api/v1"
    /// Where `speechrouter serve` listens by default.
    public static let defaultBaseURL = "http://127.0.0.1:8080/api/v1"

    /// The API root, such as `http://127.0.0.1:8080/api/v1`; paths like `/audio/speech` follow it.
    public let baseURL: String
    public let apiKey: String?
    let httpClient: HTTPClient
    let headers: HTTPHeaders
    let responseTimeout: TimeAmount

    /// Speech: `tts.createSpeech`.
    public var tts: TTS { TTS(client: self) }
    /// The model list: `models.list`.
    public var models: Models { Models(client: self) }

    /// Arguments win over the environment. Without a base URL argument, `SPEECHROUTER_BASE_URL`
    /// names the server, else the key decides: `SPEECHROUTER_API_KEY` means a local server
    /// (`defaultBaseURL`), and `OPENROUTER_API_KEY` alone means OpenRouter. An OpenRouter key is
    /// only ever sent to OpenRouter.
    ///
    /// - Parameters:
    ///   - baseURL: the API root; a bare `http://host:port` gets `/api/v1` added.
    ///   - appTitle, httpReferer: OpenRouter's app attribution (`X-OpenRouter-Title`, `HTTP-Referer`).
    ///   - responseTimeout: how long to wait for a response to start; audio then streams for as long as it takes.
    ///   - httpClient: the client to send with; the caller keeps ownership and shuts it down.
    public init(
        apiKey: String? = nil, baseURL: String? = nil, appTitle: String? = nil, httpReferer: String? = nil,
        responseTimeout: Duration = .seconds(120), httpClient: HTTPClient = .shared,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        let environment = environment.filter { !$0.value.isEmpty }
        var key = apiKey ?? environment["SPEECHROUTER_API_KEY"]
        let url: String
        if let configured = baseURL ?? environment["SPEECHROUTER_BASE_URL"] {
            url = try Self.normalize(baseURL: configured)
            if key == nil, url.hasPrefix(Self.openRouterBaseURL) { key = environment["OPENROUTER_API_KEY"] }
        } else if key != nil {
            url = Self.defaultBaseURL
        } else if let openRouterKey = environment["OPENROUTER_API_KEY"] {
            url = Self.openRouterBaseURL
            key = openRouterKey
        } else {
            url = Self.defaultBaseURL
        }
        self.baseURL = url
        self.apiKey = key
        self.httpClient = httpClient
        self.responseTimeout = .nanoseconds(
            responseTimeout.components.seconds * 1_000_000_000 + responseTimeout.components.attoseconds / 1_000_000_000)

        var headers = HTTPHeaders([("User-Agent", "SpeechRouterClient")])
        if let key { headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let appTitle { headers.add(name: "X-OpenRouter-Title", value: appTitle) }
        if let httpReferer { headers.add(name: "HTTP-Referer", value: httpReferer) }
        self.headers = headers
    }

    /// A generation's statistics and cost (`GET /generation?id=`). The record may lag the audio
    /// by a moment on OpenRouter; a 404 then is worth a retry.
    public func generation(id: String) async throws -> Generation {
        try await get("/generation", query: ["id": id])
    }

    /// The calling key's limit and usage (`GET /key`).
    public func key() async throws -> CurrentKey {
        try await get("/key")
    }

    // MARK: Transport

    func get<Payload: Decodable>(_ path: String, query: [String: String] = [:]) async throws -> Payload {
        var request = HTTPClientRequest(url: url(path, query: query))
        request.headers = headers
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await httpClient.execute(request, timeout: responseTimeout)
        guard response.status == .ok, Self.isJSON(response) else { throw await Self.error(from: response) }
        // Responses are small JSON documents; 16 MiB is far beyond any of them.
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONDecoder().decode(Envelope<Payload>.self, from: body).data
    }

    func post(_ path: String, json body: some Encodable, accept: String) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url(path))
        request.method = .POST
        request.headers = headers
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: accept)
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        return try await httpClient.execute(request, timeout: responseTimeout)
    }

    func url(_ path: String, query: [String: String] = [:]) -> String {
        guard !query.isEmpty else { return baseURL + path }
        var components = URLComponents()
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        // URLComponents leaves `+` alone, which servers read as a space.
        let encoded = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        return baseURL + path + "?" + encoded
    }

    /// The error a non-success response stands for: the API's JSON error when the body is one.
    static func error(from response: HTTPClientResponse) async -> any Error {
        let status = Int(response.status.code)
        let contentType = response.headers.first(name: "Content-Type")
        // An error body is a small JSON object; more than 1 MiB is not one.
        let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
        if status >= 400, let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: body) {
            return APIError(
                status: status, code: envelope.error.code ?? status, message: envelope.error.message,
                metadata: envelope.error.metadata ?? [:],
                retryAfter: response.headers.first(name: "Retry-After").flatMap { Int($0) })
        }
        return ClientError.unexpectedResponse(status: status, contentType: contentType, body: String(buffer: body))
    }

    static func isJSON(_ response: HTTPClientResponse) -> Bool {
        response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("application/json") ?? false
    }

    static func normalize(baseURL: String) throws -> String {
        var text = baseURL.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host != nil, url.query == nil
        else { throw ClientError.invalidBaseURL(baseURL) }
        return url.path.isEmpty ? text + "/api/v1" : text
    }
}

/// OpenRouter wraps every JSON response in `{"data": …}`.
struct Envelope<Payload: Decodable>: Decodable {
    var data: Payload
}

struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        var code: Int?
        var message: String
        var metadata: [String: JSONValue]?
    }
    var error: Body
}
