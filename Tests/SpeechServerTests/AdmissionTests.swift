import Accounts
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import SpeechCore
import Synchronization
import Testing

@testable import SpeechServer

/// A built-in engine for admission tests: each piece is one second of a 440 Hz tone at 24 kHz;
/// a piece whose text starts with "Wait" is held until `gate` opens, one with "Pause" until
/// `pause` does.
struct GatedEngine: SpeechEngine {
    actor Gate {
        private var isOpen = false
        private var held: [CheckedContinuation<Void, Never>] = []
        private(set) var waiting = 0

        func pass() async {
            guard !isOpen else { return }
            waiting += 1
            await withCheckedContinuation { held.append($0) }
        }

        func open() {
            isOpen = true
            waiting = 0
            held.forEach { $0.resume() }
            held = []
        }

        /// Returns once `count` pieces wait at the gate (they wait for the test, not for time).
        func awaitWaiting(_ count: Int) async throws {
            for _ in 0..<2_000 where waiting < count { try await Task.sleep(for: .milliseconds(10)) }
            #expect(waiting == count, "pieces waiting at the gate")
        }
    }

    let gate = Gate()
    let pause = Gate()
    var model = SpeechModel(
        id: "test/gated", name: "Gated", description: "test engine", created: 0, contextLength: 100_000,
        pricePerCharacter: "0", voices: ["alloy"], defaultVoice: "alloy", supportsSpeed: true)
    var parallelism: Int { 1 }

    func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        if text.hasPrefix("Wait") { await gate.pass() }
        if text.hasPrefix("Pause") { await pause.pass() }
        let samples = (0..<24_000).map { Int16(sample: 0.3 * Float(sin(2 * Double.pi * 440 * Double($0) / 24_000))) }
        return PCMAudio(samples: samples, sampleRate: 24_000)
    }
}

/// A gateway on `GatedEngine` over a real port, with one client connection per request.
struct AdmissionHarness {
    let engine = GatedEngine()
    /// A second model, `test/spare`, on an engine of its own (its gates open).
    let spare = GatedEngine(
        model: SpeechModel(
            id: "test/spare", name: "Spare", description: "test engine", created: 0, contextLength: 100_000,
            pricePerCharacter: "0", voices: ["alloy"], defaultVoice: "alloy", supportsSpeed: true))
    let store: AccountStore
    let secrets: [KeySecret]
    let configuration: GatewayConfiguration

    /// A harness with `keys` keys; the first may have a stream limit of its own.
    static func make(
        configuration: GatewayConfiguration, keys: Int = 1, firstKeyMaxStreams: Int? = nil
    ) async throws -> AdmissionHarness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("admission-\(UUID().uuidString)").path
        let store = try await AccountStore.open(
            databaseURL: nil, dataDirectory: directory, instance: "test", logger: Logger(label: "test"))
        var secrets: [KeySecret] = []
        for index in 0..<keys {
            let settings = KeySettings(name: "key \(index)", maxStreams: index == 0 ? firstKeyMaxStreams : nil)
            secrets.append(try await store.createKey(settings).1)
        }
        return AdmissionHarness(store: store, secrets: secrets, configuration: configuration)
    }

    func run(_ body: @Sendable (_ port: Int) async throws -> Void) async throws {
        let gateway = Gateway(engines: [engine, spare], store: store, configuration: configuration)
        let app = gateway.application(host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        try await app.test(.live) { client in try await body(try #require(client.port)) }
        try await store.close()
    }

    /// `fields` are more of the body's (`"models":[…]`), after a comma.
    func request(_ input: String, key: Int = 0, fields: String = "") -> TestClient.Request {
        let more = fields.isEmpty ? "" : "," + fields
        return TestClient.Request(
            "/api/v1/audio/speech", method: .post, authority: "localhost",
            headers: [.authorization: "Bearer \(secrets[key].value)", .contentType: "application/json"],
            body: ByteBuffer(
                string: #"{"model":"test/gated","input":"\#(input)","voice":"alloy","response_format":"pcm"\#(more)}"#))
    }

    /// Sends `input` on a connection of its own and returns the whole response.
    func speak(_ input: String, key: Int = 0, fields: String = "", port: Int) async throws -> TestClient.Response {
        let client = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(60)))
        client.connect()
        defer { Task { try? await client.shutdown() } }
        return try await client.execute(request(input, key: key, fields: fields))
    }
}

/// The seconds of 24 kHz 16-bit pcm in `response`, which must be a 200 with whole samples.
func pcmSeconds(_ response: TestClient.Response) throws -> Double {
    #expect(response.status == .ok)
    let bytes = try #require(response.body).readableBytes
    #expect(bytes % 2 == 0)
    return Double(bytes) / 48_000
}

/// The error of a refused request: its status, OpenRouter's shape, and `Retry-After` ≥ 1.
func refusal(_ response: TestClient.Response, _ status: HTTPResponse.Status) throws -> ErrorBody.Inner {
    #expect(response.status == status)
    let retryAfter = try #require(response.headers[.retryAfter].flatMap(Int.init))
    #expect(retryAfter >= 1)
    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: try #require(response.body)))
    #expect(body.error.code == Int(status.code))
    return body.error
}

@Suite struct AdmissionTests {
    @Test func aStreamPastTheEnginesCapacityIs503AndSlotsComeBackWhenStreamsEnd() async throws {
        let harness = try await AdmissionHarness.make(
            configuration: GatewayConfiguration(
                models: ["test/gated": .init(maxConcurrentStreams: 2)], admission: .init(measured: false)))
        try await harness.run { port in
            async let first = harness.speak("Wait. One.", port: port)
            async let second = harness.speak("Wait. Two.", port: port)
            try await harness.engine.gate.awaitWaiting(2)

            let third = try await harness.speak("Three.", port: port)
            let error = try refusal(third, .serviceUnavailable)
            #expect(error.metadata?["error_type"] == .string("server_overloaded"))
            #expect(error.metadata?["max_streams"] == .number(2))

            await harness.engine.gate.open()
            #expect(try pcmSeconds(try await first) >= 1)
            #expect(try pcmSeconds(try await second) >= 1)
            // Both streams ended: their slots are free again.
            #expect(try pcmSeconds(try await harness.speak("Four.", port: port)) >= 1)
            #expect(try pcmSeconds(try await harness.speak("Five.", port: port)) >= 1)
        }
    }

    /// OpenRouter's model fallbacks: a model whose engine is full hands the request to the next
    /// model at once, and the refused model's slot is not kept.
    @Test func aModelWhoseEngineIsFullFallsBackToTheNextModel() async throws {
        let harness = try await AdmissionHarness.make(
            configuration: GatewayConfiguration(
                models: ["test/gated": .init(maxConcurrentStreams: 1), "test/spare": .init(maxConcurrentStreams: 1)],
                admission: .init(measured: false)))
        try await harness.run { port in
            async let held = harness.speak("Wait. Held.", port: port)
            try await harness.engine.gate.awaitWaiting(1)

            let fallback = try await harness.speak("Spare.", fields: #""models":["test/spare"]"#, port: port)
            #expect(try pcmSeconds(fallback) >= 1)
            let id = try #require(fallback.headers[.generationID])
            let record = try #require(try await harness.store.generation(id: id))
            #expect(record.model == "test/spare")
            // Both full: the last model's refusal.
            async let spareHeld = harness.speak("Wait. Spare held.", fields: #""models":["test/spare"]"#, port: port)
            try await harness.spare.gate.awaitWaiting(1)
            let error = try refusal(
                try await harness.speak("Neither.", fields: #""models":["test/spare"]"#, port: port), .serviceUnavailable)
            #expect(error.metadata?["model"] == .string("test/spare"))

            await harness.engine.gate.open()
            await harness.spare.gate.open()
            #expect(try pcmSeconds(try await held) >= 1)
            #expect(try pcmSeconds(try await spareHeld) >= 1)
        }
    }

    /// A response's end is checked to have reached the socket before its generation counts as
    /// completed; short responses following each other on one kept-alive connection must each
    /// find their own end (they were recorded cancelled while routes ran on the connection's
    /// event loop, since reverted).
    @Test func shortStreamsOnOneConnectionAreAllRecordedCompleted() async throws {
        let harness = try await AdmissionHarness.make(configuration: GatewayConfiguration(admission: .init(measured: false)))
        await harness.engine.gate.open()
        try await harness.run { port in
            let client = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(60)))
            client.connect()
            var ids: [String] = []
            for index in 0..<20 {
                let response = try await client.execute(harness.request("Short \(index)."))
                #expect(try pcmSeconds(response) >= 1)
                ids.append(try #require(response.headers[.generationID]))
            }
            try await client.shutdown()
            for id in ids {
                let record = try #require(try await harness.store.generation(id: id))
                #expect(record.status == .completed, "\(id)")
            }
        }
    }

    @Test func aClientThatDisconnectsGivesItsSlotBack() async throws {
        let harness = try await AdmissionHarness.make(
            configuration: GatewayConfiguration(
                models: ["test/gated": .init(maxConcurrentStreams: 2)], admission: .init(measured: false)))
        try await harness.run { port in
            async let held = harness.speak("Wait. Held.", port: port)
            try await harness.engine.gate.awaitWaiting(1)
            // A long stream, admitted (its first piece waits), whose client hangs up unread.
            let leaving = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(60)))
            leaving.connect()
            try await leaving.executeAndDontWaitForResponse(
                harness.request("Pause. " + String(repeating: "Go on. ", count: 2_000)))
            try await harness.engine.pause.awaitWaiting(1)
            _ = try refusal(try await harness.speak("Full.", port: port), .serviceUnavailable)
            try? await leaving.shutdown()
            await harness.engine.pause.open()
            // The held stream keeps one slot; a new stream gets the other once the server has
            // seen the hang-up.
            var admitted: TestClient.Response?
            for _ in 0..<500 {
                let response = try await harness.speak("Again.", port: port)
                if response.status == .ok {
                    admitted = response
                    break
                }
                _ = try refusal(response, .serviceUnavailable)
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try pcmSeconds(try #require(admitted)) >= 1)
            await harness.engine.gate.open()
            #expect(try pcmSeconds(try await held) >= 1)
        }
    }

    @Test(arguments: [
        // The gateway's default for every key, or one key's own limit (over a looser default).
        (GatewayConfiguration.AdmissionSetting(measured: false, maxStreamsPerKey: 1), nil),
        (GatewayConfiguration.AdmissionSetting(measured: false, maxStreamsPerKey: 5), 1),
    ])
    func aKeyPastItsConcurrentStreamLimitIs429(admission: GatewayConfiguration.AdmissionSetting, keyLimit: Int?)
        async throws
    {
        let harness = try await AdmissionHarness.make(
            configuration: GatewayConfiguration(admission: admission), keys: 2, firstKeyMaxStreams: keyLimit)
        try await harness.run { port in
            async let held = harness.speak("Wait. Held.", port: port)
            try await harness.engine.gate.awaitWaiting(1)

            let second = try await harness.speak("Second.", port: port)
            let error = try refusal(second, .tooManyRequests)
            #expect(error.metadata?["error_type"] == .string("rate_limit_exceeded"))
            #expect(error.metadata?["max_streams_per_key"] == .number(1))
            // Another key is not held back.
            #expect(try pcmSeconds(try await harness.speak("Other key.", key: 1, port: port)) >= 1)

            await harness.engine.gate.open()
            #expect(try pcmSeconds(try await held) >= 1)
            #expect(try pcmSeconds(try await harness.speak("Again.", port: port)) >= 1)
        }
    }

    @Test func measuredSpeedSetsHowManyStreamsAreAdmitted() {
        var capacity = EngineCapacity(threads: 2, defaultSpeed: 4, measured: true, cap: nil)
        #expect(capacity.streams == 2)  // 4 s/s × 2 threads × 0.35
        for _ in 0..<200 { capacity.record(audioSeconds: 10, workSeconds: 1) }
        #expect(capacity.streams == 6)  // about 10 s/s × 2 × 0.35, just under 7
        for _ in 0..<200 { capacity.record(audioSeconds: 1, workSeconds: 4) }
        #expect(capacity.streams == 1)  // slower than real time still serves one
        capacity.record(audioSeconds: 1, workSeconds: 0)  // no time measured: ignored
        capacity.record(audioSeconds: .nan, workSeconds: 1)
        #expect(capacity.speed.isFinite)
        let capped = EngineCapacity(threads: 2, defaultSpeed: 100, measured: true, cap: 3)
        #expect(capped.streams == 3)
        let unmeasured = EngineCapacity(threads: 1, defaultSpeed: 0.1, measured: false, cap: nil)
        #expect(unmeasured.streams == Int.max)
    }

    @Test func aPiecesProcessorTimeIsItsWorkNotItsWallTime() {
        let admission = StreamAdmission(
            engines: ["test/gated": EngineCapacity(threads: 2, defaultSpeed: 4, measured: true, cap: nil)],
            maxStreamsPerKey: nil)
        func streams() -> Int { admission.figures.first { $0.model == "test/gated" }?.capacity.streams ?? 0 }
        // 10 s of audio from 1 s of processor time, over 10 s of wall time spent mostly waiting.
        for _ in 0..<200 {
            let inFlight = admission.pieceStarts(model: "test/gated")
            admission.pieceEnded(
                model: "test/gated", inFlight: inFlight, audioSeconds: 10, wallSeconds: 10, processorSeconds: 1)
        }
        #expect(streams() == 6)  // about 10 s/s × 2 × 0.35, just under 7
        // An engine that counts no processor time: its share of the wall time is its work.
        for _ in 0..<200 {
            admission.pieceEnded(model: "test/gated", inFlight: 4, audioSeconds: 4.5, wallSeconds: 2, processorSeconds: 0)
        }
        #expect(streams() == 3)  // 4.5 s of audio in half of 2 s: 4.5 s/s × 2 × 0.35 = 3.15
    }

    /// Through the gateway's `MeasuredEngine`: a piece that takes 20 ms of processor time and
    /// waits 100 ms more counts at the speed of its processor time.
    @Test func aBuiltInEnginesPiecesAreMeasuredByTheProcessorTimeTheyTake() async throws {
        struct Spinning: SpeechEngine {
            let model = SpeechModel(
                id: "test/spinning", name: "Spinning", description: "test engine", created: 0, contextLength: 1_000,
                pricePerCharacter: "0", voices: ["alloy"], defaultVoice: "alloy", supportsSpeed: true)
            var parallelism: Int { 1 }
            func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
                SynthesisCPUTime.measuring(into: SynthesisCPUTime.tally) {
                    let start = SynthesisCPUTime.threadNanoseconds()
                    while SynthesisCPUTime.threadNanoseconds() - start < 20_000_000 {}
                }
                try await Task.sleep(for: .milliseconds(100))
                return PCMAudio(samples: [Int16](repeating: 0, count: 24_000), sampleRate: 24_000)
            }
        }
        let admission = StreamAdmission(
            engines: ["test/spinning": EngineCapacity(threads: 1, defaultSpeed: 4, measured: true, cap: nil)],
            maxStreamsPerKey: nil)
        let engine = MeasuredEngine(engine: Spinning(), admission: admission)
        for _ in 0..<3 { _ = try await engine.synthesize("Hello.", voice: "alloy", speed: 1) }
        let speed = try #require(admission.figures.first { $0.model == "test/spinning" }).capacity.speed
        // 1 s of audio per 20 ms of processor time is 50 s/s; by wall time (over 120 ms) 8 s/s.
        // Three pieces move the average from 4 s/s a tenth of the way each: past 15 only by the former.
        #expect(speed > 15, "speed \(speed)")
    }

    @Test func theLastStreamToEndLetsTheServerGoIdleOnce() throws {
        let idle = Mutex(0)
        let admission = StreamAdmission(
            engines: ["test/gated": EngineCapacity(threads: 1, defaultSpeed: 1, measured: false, cap: nil)],
            maxStreamsPerKey: nil, whenIdle: { stillIdle in idle.withLock { $0 += stillIdle() ? 1 : 100 } })
        let first = try admission.admit(model: "test/gated", key: "a")
        let second = try admission.admit(model: "upstream/model", key: "b")
        first.release()
        #expect(idle.withLock { $0 } == 0, "a stream is still running")
        second.release()
        second.release()  // a ticket is given back once
        #expect(idle.withLock { $0 } == 1)
        #expect(admission.isIdle)
        let third = try admission.admit(model: "test/gated", key: "c")
        #expect(!admission.isIdle, "a stream that began after the server went idle ends its idleness")
        third.release()
        #expect(idle.withLock { $0 } == 2)
        // A refusal holds no ticket, so it never makes the server idle.
        let capped = StreamAdmission(
            engines: ["test/gated": EngineCapacity(threads: 1, defaultSpeed: 1, measured: false, cap: 1)],
            maxStreamsPerKey: nil, whenIdle: { _ in idle.withLock { $0 += 1 } })
        let held = try capped.admit(model: "test/gated", key: "a")
        #expect(throws: StreamAdmission.Refusal.engineFull(model: "test/gated", streams: 1)) {
            try capped.admit(model: "test/gated", key: "b")
        }
        #expect(idle.withLock { $0 } == 2)
        held.release()
        #expect(idle.withLock { $0 } == 3)
    }
}

@Suite struct IdleHeapTrimTests {
    /// An engine that counts the times it was asked to give back its idle memory.
    struct ReleasingEngine: SpeechEngine {
        let releases = Counter()
        var model: SpeechModel {
            SpeechModel(
                id: "test/releasing", name: "Releasing", description: "test engine", created: 0, contextLength: 100,
                pricePerCharacter: "0", voices: ["alloy"], defaultVoice: "alloy", supportsSpeed: true)
        }
        var parallelism: Int { 1 }
        func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
            PCMAudio(samples: [], sampleRate: 24_000)
        }
        func releaseIdleMemory() async { releases.add() }
    }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    /// Waits until `condition` holds (up to 10 s): the trim runs on a task of its own.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<1_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func enginesGiveBackMemoryOnlyWhenTheServerIsStillIdle() async throws {
        let engine = ReleasingEngine()
        let trim = IdleHeapTrim(delay: .milliseconds(20))
        trim.serverWentIdle(engines: [engine], stillIdle: { false })
        try await Task.sleep(for: .milliseconds(300))
        #expect(engine.releases.count == 0, "a load began meanwhile: nothing is given back under it")
        trim.serverWentIdle(engines: [engine], stillIdle: { true })
        try await eventually { engine.releases.count == 1 }
        #expect(engine.releases.count == 1)
    }
}
