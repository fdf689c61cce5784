import Accounts
import BuiltinEngines
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import SpeechServer

/// A real gateway listening on a free port: the built-in engines, a fresh SQLite store, one key.
struct LiveGateway {
    static let engines = Task { try await LocalEngines.start().engines }

    let store: AccountStore
    let secret: KeySecret
    let gateway: Gateway

    /// - Parameters:
    ///   - fliteCharacterPrice: USD per character for local/flite (free by default).
    ///   - keyLimit: the key's limit in USD.
    ///   - requestsPerMinute: the gateway's rate limit.
    static func make(
        fliteCharacterPrice: String? = nil, keyLimit: Double? = nil, requestsPerMinute: Int? = nil
    ) async throws -> LiveGateway {
        let configuration = GatewayConfiguration(
            models: fliteCharacterPrice.map { ["local/flite": .init(pricePerCharacter: $0)] }
                ?? [:],
            rateLimit: requestsPerMinute.map { .init(requests: $0, intervalSeconds: 60) })
        let settings = KeySettings(name: "client test", limit: keyLimit.flatMap { Nanodollars(usd: $0) })
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString)")
            .path
        let store = try await AccountStore.open(
            databaseURL: nil, dataDirectory: directory, instance: "test", logger: Logger(label: "test"))
        let (_, secret) = try await store.createKey(settings)
        return LiveGateway(
            store: store, secret: secret,
            gateway: Gateway(engines: try await engines.value, store: store, configuration: configuration))
    }

    var key: String { secret.value }

    /// Serves until `body` returns; `body` gets the API root, `http://127.0.0.1:PORT/api/v1`.
    func run(_ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        let app = gateway.application(host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        do {
            try await app.test(.live) { client in
                try await body("http://127.0.0.1:\(try #require(client.port))/api/v1")
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// Waits for the generation to leave `running`, as the server records its end just after the last byte.
    func finishedGeneration(id: String) async throws -> GenerationRecord {
        for _ in 0..<100 {
            if let record = try await store.generation(id: id), record.status != .running { return record }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("generation \(id) still running after 10 s")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
