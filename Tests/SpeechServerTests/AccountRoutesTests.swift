import Accounts
import Foundation
import Hummingbird
import HummingbirdTesting
import SpeechCore
import Testing
import NIOFoundationEssentialsCompat

@testable import SpeechServer

func object(_ response: TestResponse) throws -> [String: JSONValue] {
    guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)) else {
        throw HTTPError(.internalServerError, message: "not a JSON object")
    }
    return fields
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }
}

func bearer(_ secret: KeySecret) -> HTTPFields {
    [.authorization: "Bearer \(secret.value)", .contentType: "application/json"]
}

/// Flite priced at $0.00001 per character.
let pricedFlite = GatewayConfiguration(models: ["local/flite": .init(pricePerCharacter: "0.00001")])

@Suite struct AccountRoutesTests {
    @Test func generationReportsTheCostOfARealGenerationToItsKeyOnly() async throws {
        let test = try await TestGateway.make(configuration: pricedFlite)
        let (_, other) = try await test.store.createKey(KeySettings(name: "other"))
        try await test.run { client in
            let input = "Hello there. This costs money."
            let body = ByteBuffer(string: #"{"model":"local/flite","input":"\#(input)","response_format":"mp3"}"#)
            let id = try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: body) {
                (r: TestResponse) throws in
                #expect(r.status == .ok)
                return try #require(r.headers[.generationID])
            }
            try await client.execute(uri: "/api/v1/generation?id=\(id)", method: .get, headers: test.auth) { (r: TestResponse) throws in
                #expect(r.status == .ok)
                let data = try object(r)["data"]
                #expect(data?["id"] == .string(id))
                #expect(data?["api_type"] == .string("tts"))
                #expect(data?["model"] == .string("local/flite"))
                #expect(data?["tokens_prompt"] == .number(Double(input.count)))
                #expect(data?["total_cost"] == .number(Nanodollars(Int64(input.count) * 10_000).usd))
                #expect(data?["finish_reason"] == .string("stop"))
                #expect(data?["cancelled"] == .bool(false))
                guard case .number(let latency)? = data?["latency"] else { throw Failure("no latency") }
                #expect(latency >= 0)
            }
            try await client.execute(uri: "/api/v1/generation?id=\(id)", method: .get, headers: bearer(other)) { (r: TestResponse) throws in
                #expect(r.status == .notFound)
                #expect(try decodeError(r).message == "Generation not found")
            }
            try await client.execute(uri: "/api/v1/key", method: .get, headers: test.auth) { (r: TestResponse) throws in
                let data = try object(r)["data"]
                #expect(data?["usage"] == .number(Nanodollars(Int64(input.count) * 10_000).usd))
                #expect(data?["usage_daily"] == .number(Nanodollars(Int64(input.count) * 10_000).usd))
                #expect(data?["is_management_key"] == .bool(false))
                #expect(data?["limit"] == .null)
                #expect(data?["label"] == .string(test.secret.label))
            }
        }
    }

    @Test func requestsTheKeyCannotCoverGet402BeforeSynthesis() async throws {
        // 30 characters at $0.00001 = $0.0003; the key may spend $0.0005.
        let test = try await TestGateway.make(
            configuration: pricedFlite, key: KeySettings(name: "small", limit: Nanodollars(usd: "0.0005")))
        try await test.run { client in
            let body = ByteBuffer(string: #"{"model":"local/flite","input":"Thirty characters of speech ok"}"#)
            try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: body) { (r: TestResponse) throws in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: body) { (r: TestResponse) throws in
                #expect(r.status.code == 402)
                let error = try decodeError(r)
                #expect(error.message.contains("Key limit exceeded"))
                #expect(error.metadata?["limit_remaining"] == .number(0.0002))
            }
            // Free models still work for the key.
            let free = ByteBuffer(string: #"{"model":"local/espeak-ng","input":"Free."}"#)
            try await client.execute(uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: free) { (r: TestResponse) throws in
                #expect(r.status == .ok)
            }
            let keys = try await test.store.listKeys()
            #expect(keys.first?.usage == Nanodollars(usd: "0.0003"))
        }
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        let configuration = GatewayConfiguration(rateLimit: .init(requests: 2, intervalSeconds: 3600))
        let test = try await TestGateway.make(configuration: configuration)
        try await test.run { client in
            for expected in [2, 1] {
                try await client.execute(uri: "/api/v1/key", method: .get, headers: test.auth) { (r: TestResponse) throws in
                    #expect(r.status == .ok)
                    #expect(r.headers[.rateLimitRemaining] == String(expected - 1))
                }
            }
            // The server reads its clock between these two moments (seconds apart on a loaded machine).
            let sent = Date().timeIntervalSince1970
            try await client.execute(uri: "/api/v1/key", method: .get, headers: test.auth) { (r: TestResponse) throws in
                let received = Date().timeIntervalSince1970
                #expect(r.status == .tooManyRequests)
                #expect(r.headers[.rateLimitLimit] == "2")
                #expect(r.headers[.rateLimitRemaining] == "0")
                let windowEnd = ((sent / 3600).rounded(.down) + 1) * 3600
                let retryAfter = try #require(r.headers[.retryAfter].flatMap(Double.init))
                // Whole seconds, rounded either way.
                #expect(retryAfter >= windowEnd - received - 1 && retryAfter <= windowEnd - sent + 1, "\(retryAfter)")
                #expect(r.headers[.rateLimitReset] == String(Int64(windowEnd * 1000)))
                #expect(try decodeError(r).metadata?["error_type"] == .string("rate_limit_exceeded"))
            }
        }
    }

    @Test func managementKeysManageKeysAndNormalKeysAreRefused() async throws {
        let test = try await TestGateway.make()
        let (_, manager) = try await test.store.createKey(KeySettings(name: "admin", isManagement: true))
        try await test.run { client in
            for (method, uri) in [(HTTPRequest.Method.get, "/api/v1/credits"), (.get, "/api/v1/keys"), (.post, "/api/v1/keys")] {
                try await client.execute(uri: uri, method: method, headers: test.auth, body: ByteBuffer(string: "{}")) { (r: TestResponse) throws in
                    #expect(r.status == .forbidden)
                    #expect(try decodeError(r).message == "Only management keys can perform this operation")
                }
            }
            try await client.execute(uri: "/api/v1/credits", method: .get, headers: bearer(manager)) { (r: TestResponse) throws in
                #expect(r.status == .ok)
                #expect(try object(r)["data"]?["total_usage"] == .number(0))
            }
            let created = try await client.execute(
                uri: "/api/v1/keys", method: .post, headers: bearer(manager),
                body: ByteBuffer(string: #"{"name":"made","limit":1.5,"limit_reset":"monthly"}"#)
            ) { (r: TestResponse) throws -> (String, String) in
                #expect(r.status == .created)
                let fields = try object(r)
                guard case .string(let secret)? = fields["key"], case .string(let hash)? = fields["data"]?["hash"] else {
                    throw Failure("no key in \(fields)")
                }
                #expect(fields["data"]?["limit"] == .number(1.5))
                #expect(fields["data"]?["limit_reset"] == .string("monthly"))
                return (secret, hash)
            }
            let madeKey = KeySecret(created.0)
            try await client.execute(uri: "/api/v1/key", method: .get, headers: bearer(madeKey)) { (r: TestResponse) throws in
                #expect(try object(r)["data"]?["limit_remaining"] == .number(1.5))
            }
            try await client.execute(
                uri: "/api/v1/keys/\(created.1)", method: .patch, headers: bearer(manager),
                body: ByteBuffer(string: #"{"disabled":true}"#)
            ) { (r: TestResponse) throws in
                #expect(try object(r)["data"]?["disabled"] == .bool(true))
            }
            try await client.execute(uri: "/api/v1/key", method: .get, headers: bearer(madeKey)) { (r: TestResponse) throws in
                #expect(r.status == .unauthorized)
                #expect(try decodeError(r).message == "API key is disabled")
            }
            try await client.execute(uri: "/api/v1/keys/\(created.1)", method: .delete, headers: bearer(manager)) { (r: TestResponse) throws in
                #expect(try object(r)["deleted"] == .bool(true))
            }
            try await client.execute(uri: "/api/v1/key", method: .get, headers: bearer(madeKey)) { (r: TestResponse) throws in
                #expect(r.status == .unauthorized)
                #expect(try decodeError(r).message == "Invalid API key")
            }
            try await client.execute(uri: "/api/v1/keys/\(created.1)", method: .get, headers: bearer(manager)) { (r: TestResponse) throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(
                uri: "/api/v1/keys", method: .post, headers: bearer(manager),
                body: ByteBuffer(string: #"{"name":"x","limit_reset":"hourly"}"#)
            ) { (r: TestResponse) throws in
                #expect(r.status == .badRequest)
                #expect(try decodeError(r).metadata?["param"] == .string("limit_reset"))
            }
        }
    }

    /// A limit that nanodollars cannot hold (1e10 USD, 5e307 USD) used to kill the server while
    /// converting it; it is a 400 naming `limit`, and nothing is created.
    @Test func keyLimitsBeyondABillionUSDAre400() async throws {
        let test = try await TestGateway.make()
        let (_, manager) = try await test.store.createKey(KeySettings(name: "admin", isManagement: true))
        let (created, _) = try await test.store.createKey(KeySettings(name: "made"))
        let keys = try await test.store.listKeys().count
        try await test.run { client in
            for limit in ["1000000000.5", "1e10", "5.164258853949295e+307"] {
                for (method, uri) in [(HTTPRequest.Method.post, "/api/v1/keys"), (.patch, "/api/v1/keys/\(created.hash)")] {
                    try await client.execute(
                        uri: uri, method: method, headers: bearer(manager),
                        body: ByteBuffer(string: #"{"name":"big","limit":\#(limit)}"#)
                    ) { (r: TestResponse) throws in
                        #expect(r.status == .badRequest, "\(method) \(limit)")
                        #expect(try decodeError(r).metadata?["param"] == .string("limit"))
                    }
                }
            }
            try await client.execute(
                uri: "/api/v1/keys", method: .post, headers: bearer(manager),
                body: ByteBuffer(string: #"{"name":"billion","limit":1e9}"#)
            ) { (r: TestResponse) throws in
                #expect(r.status == .created)
                #expect(try object(r)["data"]?["limit"] == .number(1e9))
            }
            #expect(try await test.store.listKeys().count == keys + 1)
            #expect(try await test.store.key(hash: created.hash)?.name == "made")
        }
    }

    /// The keys API reads at most 64 KiB of body; its 413 names that limit, not the speech route's 61 MiB.
    @Test func oversizeKeyBodiesGet413NamingTheirOwnLimit() async throws {
        let test = try await TestGateway.make()
        let (_, manager) = try await test.store.createKey(KeySettings(name: "admin", isManagement: true))
        try await test.run { client in
            let name = String(repeating: "n", count: 100_000)
            try await client.execute(
                uri: "/api/v1/keys", method: .post, headers: bearer(manager),
                body: ByteBuffer(string: #"{"name":"\#(name)"}"#)
            ) { (r: TestResponse) throws in
                #expect(r.status == .contentTooLarge)
                let message = try decodeError(r).message
                #expect(message == "Request body exceeds the limit of 65536 bytes")
            }
        }
    }

    @Test func expiredKeysAreRefused() async throws {
        let test = try await TestGateway.make(key: KeySettings(name: "old", expiresAt: Date(timeIntervalSinceNow: -60)))
        try await test.run { client in
            try await client.execute(uri: "/api/v1/key", method: .get, headers: test.auth) { (r: TestResponse) throws in
                #expect(r.status == .unauthorized)
                #expect(try decodeError(r).message == "API key has expired")
            }
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
