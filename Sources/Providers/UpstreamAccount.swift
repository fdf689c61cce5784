import AsyncHTTPClient

/// An adapter's way in to its upstream: the base URL (kept without a trailing `/`), the API key,
/// and the shared client. Whatever is sent through it has the key scrubbed from its errors.
struct UpstreamAccount: Sendable {
    let baseURL: String
    let apiKey: String
    let client: UpstreamClient
    let secret: UpstreamSecret

    init(baseURL: String, apiKey: String, client: UpstreamClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.client = client
        self.secret = UpstreamSecret(apiKey)
    }

    /// POSTs `body` as JSON to `path` under the base URL.
    func postJSON(
        _ path: String, body: some Encodable, headers: [(String, String)], provider: String,
        decoder: @escaping @Sendable (HTTPClientResponse) -> any BodyDecoder
    ) async throws -> UpstreamStream {
        let request = try HTTPClientRequest.json(url: baseURL + path, body: body, headers: headers)
        return try await send(request, provider: provider, decoder: decoder)
    }

    func send(
        _ request: HTTPClientRequest, provider: String,
        decoder: @escaping @Sendable (HTTPClientResponse) -> any BodyDecoder
    ) async throws -> UpstreamStream {
        try await client.send(request, provider: provider, secret: secret, decoder: decoder)
    }
}

/// An adapter reached through one `UpstreamAccount`: its upstream's own API, or any server that
/// speaks it at `baseURL`.
protocol AccountProvider: SpeechProvider {
    /// The upstream's own API.
    static var defaultBaseURL: String { get }
    init(account: UpstreamAccount)
}

extension AccountProvider {
    init(baseURL: String? = nil, apiKey: String, client: UpstreamClient) {
        self.init(account: UpstreamAccount(baseURL: baseURL ?? Self.defaultBaseURL, apiKey: apiKey, client: client))
    }
}
