import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import Routing
import SpeechCore
import Synchronization
import Testing

@testable import Providers
@testable import SpeechServer

/// A clock for the fleet's health that moves only when a test moves it: no test sleeps.
final class TestClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 = $0.advanced(by: duration) } }
}

/// One model, `test/fleet`, with two OpenAI-compatible deployments, `openai/a` and `openai/b`,
/// each a fake of its own on its own loopback port (as two SpeechRouters or two Kokoro boxes).
struct FleetHarness {
    let a = FakeUpstream()
    let b = FakeUpstream()
    let clock = TestClock()

    typealias Setting = GatewayConfiguration.DeploymentSetting

    /// Runs `body` against a gateway whose deployments `settings` makes from the fakes' base URLs.
    func run(
        firstByteTimeout: Duration = .seconds(5),
        settings: @Sendable @escaping (_ a: String, _ b: String) -> [Setting] = { a, b in
            [
                Setting(provider: "openai", tag: "openai/a", name: "Box A", baseURL: a, apiKeyEnv: "FLEET_KEY", model: "tts-a"),
                Setting(provider: "openai", tag: "openai/b", name: "Box B", baseURL: b, apiKeyEnv: "FLEET_KEY", model: "tts-b"),
            ]
        },
        _ body: @Sendable @escaping (any TestClientProtocol, HTTPFields) async throws -> Void
    ) async throws {
        let appA = Application(router: a.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let appB = Application(router: b.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let clock = self.clock
        try await appA.test(.live) { upstreamA in
            try await appB.test(.live) { upstreamB in
                let configuration = GatewayConfiguration(models: [
                    "test/fleet": .init(
                        pricePerCharacter: "0.000001", voices: ["alloy"],
                        deployments: settings(
                            "http://127.0.0.1:\(upstreamA.port!)/v1", "http://127.0.0.1:\(upstreamB.port!)/v1"))
                ])
                try configuration.validate()
                let client = UpstreamClient(connectTimeout: .seconds(2), firstByteTimeout: firstByteTimeout)
                let providers = try configuration.deploymentProviders(
                    environment: ["FLEET_KEY": FakeUpstream.key], client: client)
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString)").path
                let store = try await AccountStore.open(
                    databaseURL: nil, dataDirectory: directory, instance: "test", logger: Logger(label: "test"))
                let (_, secret) = try await store.createKey(KeySettings(name: "t"))
                let gateway = Gateway(
                    engines: [], store: store, configuration: configuration, deploymentProviders: providers,
                    health: FleetHealth(now: { clock.now }))
                let app = gateway.application(host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
                try await app.test(.router) { client in
                    try await body(client, [.authorization: "Bearer \(secret.value)", .contentType: "application/json"])
                }
                try await store.close()
                try await client.shutdown()
            }
        }
    }
}

/// A request to `test/fleet` with `provider` as its routing object.
func fleetRequest(_ provider: String = "{}") -> String {
    #"{"model":"test/fleet","input":"Hello there.","voice":"alloy","provider":\#(provider)}"#
}

/// Speaks `provider` `count` times, each answered with the fakes' audio.
func speakServed(
    _ client: any TestClientProtocol, _ auth: HTTPFields, _ provider: String = "{}", times count: Int = 1
) async throws {
    for _ in 0..<count {
        let response = try await speech(client, auth, fleetRequest(provider))
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        #expect(Array(response.body.readableBytesView) == FakeUpstream.pcm)
    }
}

func json(_ response: TestResponse) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? { if case .object(let fields) = self { fields[key] } else { nil } }
    var items: [JSONValue] { if case .array(let items) = self { items } else { [] } }
}

@Suite struct RoutingGatewayTests {
    @Test func twoDeploymentsBothGetTraffic() async throws {
        let harness = FleetHarness()
        try await harness.run { client, auth in
            try await speakServed(client, auth, times: 40)
        }
        let (a, b) = (harness.a.received("openai").count, harness.b.received("openai").count)
        #expect(a + b == 40)
        // Equal weights and prices: 20 each expected; fewer than 5 on one side is a 1-in-10⁶ draw.
        #expect(a >= 5 && b >= 5, "a \(a), b \(b)")
        #expect(try fields(harness.a.received("openai")[0].body)["model"] == .string("tts-a"))
    }

    @Test func aHungDeploymentIsTriedAtMostOncePerCooldown() async throws {
        let harness = FleetHarness()
        harness.a.fault("openai", .hang(.seconds(4)))
        let preferA = #"{"order":["openai/a"]}"#
        // The timeout leaves the healthy deployment room on a machine busy with other suites
        // (300 ms timed b out once in CI).
        try await harness.run(firstByteTimeout: .milliseconds(1_500)) { client, auth in
            // Three timeouts open its breaker; from then on requests go straight to b.
            try await speakServed(client, auth, preferA, times: 8)
            #expect(harness.a.received("openai").count == 3)
            #expect(harness.b.received("openai").count == 8)
            // After the 5 s cooldown one request probes it; the probe fails and it opens for 10 s.
            harness.clock.advance(by: .seconds(5))
            try await speakServed(client, auth, preferA, times: 3)
            #expect(harness.a.received("openai").count == 4)
            harness.clock.advance(by: .seconds(5))
            try await speakServed(client, auth, preferA, times: 2)
            #expect(harness.a.received("openai").count == 4)
            harness.clock.advance(by: .seconds(5))
            try await speakServed(client, auth, preferA, times: 2)
            #expect(harness.a.received("openai").count == 5)
            #expect(harness.b.received("openai").count == 15)
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        let harness = FleetHarness()
        harness.a.fault("openai", .atCapacity(retryAfter: "2"))
        let preferA = #"{"order":["openai/a"]}"#
        try await harness.run { client, auth in
            try await speakServed(client, auth, preferA, times: 3)
            #expect(harness.a.received("openai").count == 1)
            harness.clock.advance(by: .milliseconds(1_500))
            try await speakServed(client, auth, preferA)
            #expect(harness.a.received("openai").count == 1)
            harness.clock.advance(by: .milliseconds(500))
            harness.a.fault("openai", .none)
            // The probe succeeds and closes the breaker: a serves both.
            try await speakServed(client, auth, preferA, times: 2)
            #expect(harness.a.received("openai").count == 3)
            #expect(harness.b.received("openai").count == 4)
        }
    }

    @Test func eachPreferenceChangesTheChoice() async throws {
        let harness = FleetHarness()
        let settings: @Sendable (String, String) -> [FleetHarness.Setting] = { a, b in
            [
                .init(
                    provider: "openai", tag: "openai/a", baseURL: a, apiKeyEnv: "FLEET_KEY", model: "tts-a",
                    pricePerCharacter: "0.000001", zdr: true, dataCollection: false),
                .init(
                    provider: "openai", tag: "openai/b", baseURL: b, apiKeyEnv: "FLEET_KEY", model: "tts-b",
                    pricePerCharacter: "0.000003"),
            ]
        }
        @Sendable func counts() -> (Int, Int) { (harness.a.received("openai").count, harness.b.received("openai").count) }
        try await harness.run(settings: settings) { client, auth in
            try await speakServed(client, auth, #"{"ignore":["openai/a"]}"#, times: 3)
            #expect(counts() == (0, 3))
            try await speakServed(client, auth, #"{"only":["openai/b"]}"#, times: 3)
            #expect(counts() == (0, 6))
            try await speakServed(client, auth, #"{"order":["openai/b","openai/a"]}"#, times: 3)
            #expect(counts() == (0, 9))
            try await speakServed(client, auth, #"{"sort":"price","ignore":["openai/a"]}"#)
            #expect(counts() == (0, 10))
            try await speakServed(client, auth, #"{"zdr":true}"#, times: 2)
            #expect(counts() == (2, 10))
            try await speakServed(client, auth, #"{"data_collection":"deny"}"#, times: 2)
            #expect(counts() == (4, 10))
            try await speakServed(client, auth, #"{"max_price":{"prompt":2}}"#, times: 2)
            #expect(counts() == (6, 10))
            try await speakServed(client, auth, #"{"sort":"price"}"#, times: 2)
            #expect(counts() == (8, 10))

            // Nothing left: OpenRouter's availability error, naming why each was excluded.
            let refused = try await speech(client, auth, fleetRequest(#"{"zdr":true,"ignore":["openai/a"]}"#))
            #expect(refused.status == .notFound)
            let error = try json(refused)["error"]
            #expect(error?["availability"]?["code"] == .string("privacy_restricted"))
            #expect(error?["availability"]?["excluded_by"]?.items == [.string("allowed_providers"), .string("data_policy:zdr")])
            #expect(
                error?["metadata"]?["excluded"]?.items == [
                    .object(["provider": .string("openai/a"), "reason": .string("allowed_providers")]),
                    .object(["provider": .string("openai/b"), "reason": .string("data_policy:zdr")]),
                ])
            let tooCheap = try await speech(client, auth, fleetRequest(#"{"max_price":{"prompt":0.5}}"#))
            #expect(try json(tooCheap)["error"]?["availability"]?["code"] == .string("constraint_filtered"))
            let badPreference = try await speech(client, auth, fleetRequest(#"{"sort":"fastest"}"#))
            #expect(badPreference.status == .badRequest)
            #expect(counts() == (8, 10), "a refused request reaches no upstream")

            // Without fallbacks, a failing first choice is the answer; the other is not tried.
            harness.b.fault("openai", .status(500))
            let failed = try await speech(client, auth, fleetRequest(#"{"order":["openai/b"],"allow_fallbacks":false}"#))
            #expect(failed.status == .badGateway)
            #expect(counts() == (8, 11))
        }
    }

    @Test func whenEveryBreakerIsOpenTheAnswerIsTemporarilyUnavailableWithRetryAfter() async throws {
        let harness = FleetHarness()
        harness.a.fault("openai", .atCapacity(retryAfter: "30"))
        harness.b.fault("openai", .atCapacity(retryAfter: "20"))
        try await harness.run { client, auth in
            let first = try await speech(client, auth, fleetRequest())
            #expect(first.status == .badGateway, "the last upstream's 503, as today")
            harness.clock.advance(by: .seconds(5))
            let second = try await speech(client, auth, fleetRequest())
            #expect(second.status == .serviceUnavailable)
            #expect(second.headers[.retryAfter] == "15")
            let availability = try json(second)["error"]?["availability"]
            #expect(availability?["code"] == .string("temporarily_unavailable"))
            #expect(availability?["retryable"] == .bool(true))
            #expect(availability?["retry_after"] == .number(15))
            #expect(harness.a.received("openai").count == 1 && harness.b.received("openai").count == 1)
        }
    }

    @Test func everyAttemptIsRecordedAndHealthIsListed() async throws {
        let harness = FleetHarness()
        harness.a.fault("openai", .status(500))
        try await harness.run { client, auth in
            let response = try await speech(client, auth, fleetRequest(#"{"order":["openai/a"]}"#))
            #expect(response.status == .ok)
            let id = try #require(response.headers[.generationID])
            let generation = try await client.execute(uri: "/api/v1/generation?id=\(id)", method: .get, headers: auth)
            let data = try json(generation)["data"]
            #expect(data?["provider_name"] == .string("Box B"))
            #expect(data?["upstream_model"] == .string("tts-b"))
            let attempts = data?["provider_responses"]?.items ?? []
            #expect(attempts.map { $0["endpoint_id"] } == [.string("openai/a"), .string("openai/b")])
            #expect(attempts.map { $0["provider_name"] } == [.string("Box A"), .string("Box B")])
            #expect(attempts.map { $0["status"] } == [.number(500), .number(200)])
            #expect(attempts.map { $0["model_permaslug"] } == [.string("tts-a"), .string("tts-b")])
            #expect(attempts.allSatisfy { if case .number(let ms)? = $0["latency"] { ms >= 0 } else { false } })

            let listing = try await client.execute(uri: "/api/v1/models/test/fleet/endpoints", method: .get, headers: [:])
            let endpoints = try json(listing)["data"]?["endpoints"]?.items ?? []
            #expect(endpoints.map { $0["tag"] } == [.string("openai/a"), .string("openai/b")])
            #expect(endpoints.map { $0["breaker"] } == [.string("closed"), .string("closed")])
            #expect(endpoints.map { $0["status"] } == [.number(0), .number(0)])
            #expect(endpoints.map { $0["uptime_last_30m"] } == [.number(0), .number(100)])
            #expect(endpoints[0]["latency_last_30m"] == .null)
            guard case .number(let latency)? = endpoints[1]["latency_last_30m"] else {
                Issue.record("no latency for openai/b")
                return
            }
            #expect(latency >= 0)

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: [:]).body)
            #expect(metrics.contains(#"speechrouter_deployment_up{model="test/fleet",deployment="openai/b"} 1.0"#))
            #expect(metrics.contains(#"speechrouter_deployment_uptime_ratio{model="test/fleet",deployment="openai/a"} 0.0"#))
            #expect(metrics.contains("speechrouter_deployment_first_byte_p50_seconds"))
        }
    }

    @Test func aResponseHeadWithoutAudioIsAFailedAttempt() async throws {
        let harness = FleetHarness()
        harness.a.fault("openai", .noAudio)
        try await harness.run { client, auth in
            let response = try await speech(client, auth, fleetRequest(#"{"order":["openai/a"]}"#))
            #expect(response.status == .ok)
            #expect(Array(response.body.readableBytesView) == FakeUpstream.pcm)
            let id = try #require(response.headers[.generationID])
            let generation = try await client.execute(uri: "/api/v1/generation?id=\(id)", method: .get, headers: auth)
            let data = try json(generation)["data"]
            #expect(data?["provider_name"] == .string("Box B"))
            let attempts = data?["provider_responses"]?.items ?? []
            #expect(attempts.map { $0["endpoint_id"] } == [.string("openai/a"), .string("openai/b")])
            #expect(attempts.map { $0["status"] } == [.null, .number(200)])

            // A's 200s without audio count as failures: after three its breaker opens, and B serves alone.
            try await speakServed(client, auth, #"{"order":["openai/a"]}"#, times: 4)
            #expect(harness.a.received("openai").count == 3)
            #expect(harness.b.received("openai").count == 5)
            let listing = try await client.execute(uri: "/api/v1/models/test/fleet/endpoints", method: .get, headers: [:])
            let endpoints = try json(listing)["data"]?["endpoints"]?.items ?? []
            #expect(endpoints.map { $0["breaker"] } == [.string("open"), .string("closed")])
            #expect(endpoints.map { $0["uptime_last_30m"] } == [.number(0), .number(100)])
        }
    }

    @Test func aFullDeploymentIsRoutedAround() async throws {
        let harness = FleetHarness()
        // a holds its one stream slot while its first byte is slow; requests meanwhile go to b.
        harness.a.fault("openai", .slowFirstByte(.seconds(1)))
        let settings: @Sendable (String, String) -> [FleetHarness.Setting] = { a, b in
            [
                .init(provider: "openai", tag: "openai/a", baseURL: a, apiKeyEnv: "FLEET_KEY", model: "tts-a", maxConcurrentStreams: 1),
                .init(provider: "openai", tag: "openai/b", baseURL: b, apiKeyEnv: "FLEET_KEY", model: "tts-b"),
            ]
        }
        try await harness.run(settings: settings) { client, auth in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await speakServed(client, auth, #"{"order":["openai/a"]}"#) }
                }
                try await group.waitForAll()
            }
            #expect(harness.a.received("openai").count == 1)
            #expect(harness.b.received("openai").count == 3)
        }
    }
}
