import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationEssentialsCompat
import SpeechCore
import Synchronization
import Testing

@testable import SpeechServer

/// The operator's middleware and settings, through the real router: request ids, the JSON
/// request log line, CORS by origin, `/metrics` and its token.
@Suite struct OperationsTests {
    /// The lines a `JSONLogHandler` wrote, kept instead of printed.
    final class LogLines: Sendable {
        let lines = Mutex<[Data]>([])

        var logger: Logger {
            Logger(label: "speechrouter") { label in
                JSONLogHandler(label: label) { line in self.lines.withLock { $0.append(line) } }
            }
        }

        func requestLines() throws -> [[String: JSONValue]] {
            try lines.withLock { $0 }.map { try JSONDecoder().decode([String: JSONValue].self, from: $0) }
                .filter { $0["message"] == .string("request") }
        }
    }

    static let flite = #"{"model": "local/flite", "input": "Logged once.", "voice": "alloy", "response_format": "pcm"}"#

    @Test func theRequestLineIsOneJSONObjectWithTheRequestsFields() async throws {
        let test = try await TestGateway.make()
        let log = LogLines()
        let app = test.gateway.application(host: "127.0.0.1", port: 0, logger: log.logger)
        try await app.test(.router) { client in
            var headers = test.auth
            headers[.requestID] = "trace-42"
            let generation = try await client.execute(
                uri: "/api/v1/audio/speech", method: .post, headers: headers, body: ByteBuffer(string: Self.flite)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.requestID] == "trace-42")
                return response.headers[.generationID]
            }
            let lines = try log.requestLines()
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line["request_id"] == .string("trace-42"))
            #expect(line["method"] == .string("POST"))
            #expect(line["path"] == .string("/api/v1/audio/speech"))
            #expect(line["status"] == .number(200))
            #expect(line["generation"] == generation.map(JSONValue.string))
            #expect(line["key"] == .string("test"))
            #expect(line["model"] == .string("local/flite"))
            #expect(line["provider"] == .string("local"))
            #expect(line["characters"] == .number(Double("Logged once.".count)))
            #expect(line["level"] == .string("info"))
            guard case .number(let milliseconds)? = line["duration_ms"] else {
                Issue.record("duration_ms is not a number: \(String(describing: line["duration_ms"]))")
                return
            }
            #expect(milliseconds > 0)
            let all = log.lines.withLock { $0 }.map { String(decoding: $0, as: UTF8.self) }.joined()
            #expect(!all.contains(test.secret.value))
        }
        try await test.store.close()
    }

    @Test func anUnsafeOrLongRequestIDIsReplacedByAGeneratedOne() async throws {
        #expect(RequestID(header: "abc-DEF_1.2:3").description == "abc-DEF_1.2:3")
        for unsafe in ["", "with space", "quote\"", String(repeating: "x", count: 129), "ünïcode", nil] {
            let id = RequestID(header: unsafe).description
            #expect(id.wholeMatch(of: /req-[0-9a-f]{32}/) != nil, "\(String(describing: unsafe)) gave \(id)")
        }
        #expect(RequestID(header: nil) != RequestID(header: nil))
        let test = try await TestGateway.make()
        try await test.run { client in
            try await client.execute(uri: "/health", method: .get, headers: [.requestID: "a b"]) { response in
                #expect(response.headers[.requestID]?.hasPrefix("req-") == true)
            }
        }
    }

    @Test func aPreflightFromAnAllowedOriginIsAnsweredAndOthersGetNoCORSHeaders() async throws {
        let allowed = "https://app.example.com"
        let test = try await TestGateway.make(configuration: .init(cors: .init(allowedOrigins: [allowed])))
        try await test.run { client in
            let preflight: HTTPFields = [
                .origin: allowed, .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization",
            ]
            try await client.execute(uri: "/api/v1/audio/speech", method: .options, headers: preflight) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == allowed)
                #expect(response.headers[.accessControlAllowHeaders] == "authorization")
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
            }
            var other = preflight
            other[.origin] = "https://elsewhere.example.org"
            try await client.execute(uri: "/api/v1/audio/speech", method: .options, headers: other) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
                #expect(response.headers[.accessControlAllowMethods] == nil)
            }
            var fromPage = test.auth
            fromPage[.origin] = allowed
            try await client.execute(uri: "/api/v1/key", method: .get, headers: fromPage) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == allowed)
                #expect(response.headers[.accessControlExposeHeaders]?.contains("X-Request-Id") == true)
            }
        }
        let sameOrigin = try await TestGateway.make()
        try await sameOrigin.run { client in
            let headers: HTTPFields = [.origin: allowed, .accessControlRequestMethod: "POST"]
            try await client.execute(uri: "/api/v1/audio/speech", method: .options, headers: headers) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    @Test func originsAndTokensAreCheckedWhenTheFileLoads() throws {
        #expect(CrossOriginPolicy.isOrigin("http://localhost:3000"))
        #expect(CrossOriginPolicy.isOrigin("https://[::1]:8443"))
        for bad in ["https://app.example.com/", "ftp://example.com", "https://", "https://a.example:0", "https://a b",
                    "null", "https://a.example:65536"] {
            #expect(!CrossOriginPolicy.isOrigin(bad), "\(bad)")
        }
        #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.parse(Data(#"{"cors": {"allowed_origins": ["https://a.example/x"]}}"#.utf8))
        }
        do {
            _ = try GatewayConfiguration.parse(Data(#"{"metrics": {"bearer_token": "secret with spaces"}}"#.utf8))
            Issue.record("a token with spaces loaded")
        } catch {
            #expect("\(error)".contains("metrics.bearer_token"))
            #expect(!"\(error)".contains("secret with spaces"))
        }
        let loaded = try GatewayConfiguration.parse(
            Data(#"{"metrics": {"bearer_token": "0123456789abcdef"}, "log_format": "json"}"#.utf8))
        #expect(loaded.logFormat == .json)
        #expect("\(loaded)".contains("0123456789abcdef") == false)
    }

    @Test func metricsCountRequestsByRouteAndGenerationsByOutcome() async throws {
        let test = try await TestGateway.make()
        try await test.run { client in
            try await client.execute(
                uri: "/api/v1/audio/speech", method: .post, headers: test.auth, body: ByteBuffer(string: Self.flite)
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/nowhere", method: .get) { #expect($0.status == .notFound) }
            let text = try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.headers[.contentType] == MetricsRoute.contentType)
                return String(buffer: response.body)
            }
            let lines = Set(text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"speechrouter_http_requests_total{method="POST",route="/api/v1/audio/speech",status="200"} 1"#))
            #expect(lines.contains(#"speechrouter_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
            #expect(lines.contains(#"speechrouter_speech_requests_total{model="local/flite",provider="local",outcome="completed"} 1"#))
            #expect(lines.contains(#"speechrouter_billed_characters_total{model="local/flite"} 12"#))
            #expect(lines.contains("speechrouter_streams_in_flight 0.0"))
        }
    }

    @Test func metricsAskForTheConfiguredToken() async throws {
        let token = try MetricsToken("0123456789abcdef-token", name: "test")
        let test = try await TestGateway.make(configuration: .init(metrics: .init(bearerToken: token)))
        try await test.run { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer 0123456789abcdef-toke"], test.auth] {
                try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                }
            }
            try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer 0123456789abcdef-token"]
            ) { #expect($0.status == .ok) }
        }
        let off = try await TestGateway.make(configuration: .init(metrics: .init(enabled: false)))
        try await off.run { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .notFound) }
        }
    }
}
