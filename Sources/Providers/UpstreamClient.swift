import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import ServiceLifecycle

/// The one HTTP client every adapter shares: pooled keep-alive connections, a connect timeout,
/// and a read timeout that bounds both the wait for the first byte and any stall after it.
public final class UpstreamClient: Service, Sendable {
    let http: HTTPClient
    let deadline: TimeAmount

    public init(connectTimeout: Duration = .seconds(5), firstByteTimeout: Duration = .seconds(30)) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: TimeAmount(connectTimeout), read: TimeAmount(firstByteTimeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.httpVersion = .automatic
        // A redirect would carry our key header and the body to wherever it points: an
        // upstream that answers 3xx gets the answer it asked for, an upstream error (502).
        configuration.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.deadline = .minutes(15)
    }

    public func shutdown() async throws { try await http.shutdown() }

    /// Lives until graceful shutdown, then closes its connections. It is shut down after the
    /// server (it comes before it in the group), so streams finishing in the grace period keep it.
    public func run() async throws {
        try? await gracefulShutdown()
        try await http.shutdown()
    }

    /// Sends `request`; a non-2xx answer becomes a `ProviderError` (body read, truncated and,
    /// like every error of the exchange, scrubbed of `secret`), a 2xx the decoded audio stream.
    func send(
        _ request: HTTPClientRequest, provider: String, secret: UpstreamSecret,
        decoder: @escaping @Sendable (HTTPClientResponse) -> any BodyDecoder
    ) async throws -> UpstreamStream {
        let response = try await accepted(request, provider: provider, secret: secret)
        return UpstreamStream(body: response.body, decoder: decoder(response), provider: provider, secret: secret)
    }

    /// Sends `request` and returns its whole 2xx body, at most `limit` bytes: a small JSON answer.
    func collect(
        _ request: HTTPClientRequest, provider: String, secret: UpstreamSecret, limit: Int = 64 * 1024
    ) async throws -> ByteBuffer {
        let response = try await accepted(request, provider: provider, secret: secret)
        do {
            return try await response.body.collect(upTo: limit)
        } catch {
            throw ProviderError.from(transport: error, provider: provider).redacting(secret)
        }
    }

    /// The response to `request` when it is a 2xx; any other answer is thrown as a `ProviderError`.
    private func accepted(
        _ request: HTTPClientRequest, provider: String, secret: UpstreamSecret
    ) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: deadline)
        } catch {
            throw ProviderError.from(transport: error, provider: provider).redacting(secret)
        }
        guard (200..<300).contains(response.status.code) else {
            let body = secret.redacted(
                (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? "")
            let detail =
                (300..<400).contains(response.status.code)
                ? "a redirect, which is not followed" : upstreamMessage(body) ?? response.status.reasonPhrase
            throw ProviderError.from(
                status: Int(response.status.code), body: body, headers: response.headers, provider: provider,
                message: "\(provider) answered \(response.status.code): \(detail)"
            ).redacting(secret)
        }
        return response
    }
}

extension HTTPClientRequest {
    /// Sorted keys, `/` escaped: the bytes JSONSerialization wrote before the bodies were typed.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func json(url: String, body: some Encodable, headers: [(String, String)]) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "SpeechRouter/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: try encoder.encode(body)))
        return request
    }
}
