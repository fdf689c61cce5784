import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Accounts

@Suite struct GenerationLeaseTests {
    let logger = Logger(label: "test")

    /// A key with a limit, a ledger on a fresh store, and the ledger running as a service.
    func withLedger(
        _ backend: Backend, _ body: (AccountStore, GenerationLedger, APIKey) async throws -> Void
    ) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "leased", limit: Nanodollars(1_000_000)))
        let ledger = GenerationLedger(store: store, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await ledger.run() }
            try await body(store, ledger, key)
            group.cancelAll()
        }
        try await store.close()
    }

    func waitForEnd(_ store: AccountStore, _ id: String) async throws -> GenerationRecord {
        for _ in 0..<200 {
            if let row = try await store.generation(id: id), row.status != .running { return row }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Failure("generation \(id) is still running")
    }

    @Test(arguments: Backend.available)
    func aLeaseDroppedWithoutAnEndIsRecordedCancelledAndReleasesItsReservation(backend: Backend) async throws {
        try await withLedger(backend) { store, ledger, key in
            var lease: GenerationLease? = try await ledger.begin(record("gen-dropped", key: key, characters: 100, price: 1_000))
            #expect(try await store.key(hash: key.hash)?.reserved == Nanodollars(100_000))
            lease?.delivered(characters: 30)
            lease = nil  // as Hummingbird drops a response whose head could not be written
            let row = try await waitForEnd(store, "gen-dropped")
            #expect(row.status == .cancelled)
            #expect(row.spokenCharacters == 30)
            #expect(row.cost == Nanodollars(30_000))
            let after = try #require(try await store.key(hash: key.hash))
            #expect(after.reserved == .zero)
            #expect(after.usage == Nanodollars(30_000))
            // The ledger forgets the generation just after its end is committed: a read of the row
            // may come between the two.
            for _ in 0..<200 where !ledger.runningGenerations.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(ledger.runningGenerations.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func endActionsRunOnceWhenTheEndIsRecordedOrTheLeaseIsDropped(backend: Backend) async throws {
        try await withLedger(backend) { store, ledger, key in
            let runs = Counter()
            let ended = try await ledger.begin(record("gen-ended", key: key, characters: 10, price: 1_000))
            ended.whenEnded { runs.add("ended") }
            #expect(runs.counts.isEmpty)
            await ended.end(.completed)
            await ended.end(.failed)
            ended.whenEnded { runs.add("late") }  // after the end: at once
            var dropped: GenerationLease? = try await ledger.begin(record("gen-gone", key: key, characters: 10, price: 1_000))
            dropped?.whenEnded { runs.add("dropped") }
            dropped = nil
            #expect(runs.counts == ["ended": 1, "late": 1, "dropped": 1])
            #expect(try await waitForEnd(store, "gen-gone").status == .cancelled)
        }
    }

    @Test(arguments: Backend.available)
    func onlyTheFirstEndIsRecorded(backend: Backend) async throws {
        try await withLedger(backend) { store, ledger, key in
            let lease = try await ledger.begin(record("gen-once", key: key, characters: 10, price: 1_000))
            lease.delivered(characters: 4)
            await lease.end(.failed)
            await lease.end(.completed)
            let row = try #require(try await store.generation(id: "gen-once"))
            #expect(row.status == .failed)
            #expect(row.spokenCharacters == 4)
            #expect(try await store.key(hash: key.hash)?.usage == Nanodollars(4_000))
            #expect(lease.hasEnded)
        }
    }

    /// OpenRouter's model fallbacks: the generation reserves what its dearest model costs, and
    /// once it falls back it is recorded and charged as the model that served, at that model's
    /// price for that model's characters; the failed model's incurred characters are not charged.
    @Test(arguments: Backend.available)
    func aLeaseThatFellBackIsRecordedAndChargedAsTheModelThatServed(backend: Backend) async throws {
        try await withLedger(backend) { store, ledger, key in
            let primary = record("gen-fallback", key: key, characters: 10, price: 1_000)
            var fallback = record("gen-fallback", key: key, characters: 12, price: 3_000)
            fallback.model = "vendor/dear"
            fallback.provider = "pending"
            fallback.voice = "alloy"
            let lease = try await ledger.begin(primary, reserving: fallback.fullCost)
            #expect(try await store.key(hash: key.hash)?.reserved == Nanodollars(36_000))
            lease.incurred(characters: 5)  // the primary's upstream started, then failed
            lease.fallBack(to: fallback)
            #expect(lease.record.model == "vendor/dear")
            lease.served(by: "Box B", model: "kokoro")
            lease.delivered(characters: 12)
            await lease.end(.completed)
            let row = try #require(try await store.generation(id: "gen-fallback"))
            #expect(row.model == "vendor/dear")
            #expect(row.voice == "alloy")
            #expect(row.provider == "Box B")
            #expect(row.upstreamModel == "kokoro")
            #expect(row.characters == 12)
            #expect(row.pricePerCharacter == Nanodollars(3_000))
            #expect(row.cost == Nanodollars(36_000))
            let after = try #require(try await store.key(hash: key.hash))
            #expect(after.reserved == .zero)
            #expect(after.usage == Nanodollars(36_000))
        }
    }

    @Test(arguments: Backend.available)
    func aLeaseWhoseFallbackAlsoFailedChargesNothingAndNamesTheLastModel(backend: Backend) async throws {
        try await withLedger(backend) { store, ledger, key in
            var last = record("gen-all-failed", key: key, characters: 10, price: 2_000)
            last.model = "local/espeak-ng"
            let lease = try await ledger.begin(
                record("gen-all-failed", key: key, characters: 10, price: 1_000), reserving: last.fullCost)
            lease.incurred(characters: 4)
            lease.fallBack(to: last)
            await lease.end(.failed)
            let row = try #require(try await store.generation(id: "gen-all-failed"))
            #expect(row.status == .failed)
            #expect(row.model == "local/espeak-ng")
            #expect(row.provider == "local")
            #expect(row.cost == .zero)
            let after = try #require(try await store.key(hash: key.hash))
            #expect(after.reserved == .zero)
            #expect(after.usage == .zero)
        }
    }

    /// What metrics are counted from: every end once, however it came, with its status and charge.
    @Test func theLedgersObserverAndEndActionsHearEachEndOnce() async throws {
        let heard = Counter()
        let store = try await Backend.sqlite.open(try await Backend.sqlite.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "observed", limit: Nanodollars(1_000_000)))
        let ledger = GenerationLedger(store: store, logger: logger) { record, end in
            heard.add("\(record.id) \(end.status.rawValue) \(end.spokenCharacters) \(end.provider ?? "-")")
        }
        let completed = try await ledger.begin(record("gen-a", key: key, characters: 10, price: 1_000))
        completed.served(by: "OpenAI")
        completed.whenEnded { (end: GenerationEnd) in heard.add("action \(end.status.rawValue)") }
        await completed.end(.completed)
        await completed.end(.failed)
        var dropped: GenerationLease? = try await ledger.begin(record("gen-b", key: key, characters: 10, price: 1_000))
        dropped?.delivered(characters: 3)
        dropped = nil
        completed.whenEnded { (end: GenerationEnd) in heard.add("late \(end.status.rawValue)") }
        #expect(
            heard.counts == [
                "gen-a completed 10 OpenAI": 1, "action completed": 1, "gen-b cancelled 3 -": 1, "late completed": 1,
            ])
        try await store.close()
    }

    @Test func aCompletedGenerationIsChargedForItsWholeInput() async throws {
        try await withLedger(.sqlite) { store, ledger, key in
            let lease = try await ledger.begin(record("gen-whole", key: key, characters: 10, price: 1_000))
            lease.served(by: "OpenAI")
            await lease.end(.completed)
            let row = try #require(try await store.generation(id: "gen-whole"))
            #expect(row.status == .completed)
            #expect(row.cost == Nanodollars(10_000))
            #expect(row.provider == "OpenAI")
        }
    }

    @Test func aRefusedBeginLeavesNothingRunning() async throws {
        try await withLedger(.sqlite) { store, ledger, key in
            await #expect(throws: BillingError.self) {
                _ = try await ledger.begin(record("gen-too-big", key: key, characters: 10_000, price: 1_000))
            }
            #expect(ledger.runningGenerations.isEmpty)
            let refused = try await store.generation(id: "gen-too-big")
            #expect(refused == nil)
        }
    }

    @Test func theJanitorClosesRowsNoLeaseHoldsAndLeavesLiveOnes() async throws {
        try await withLedger(.sqlite) { store, ledger, key in
            // A row left by a process that died: running, no lease anywhere.
            try await store.begin(record("gen-orphan", key: key, characters: 10, price: 1_000))
            let live = try await ledger.begin(record("gen-live", key: key, characters: 10, price: 1_000))
            let janitor = GenerationJanitor(ledger: ledger, logger: logger)
            #expect(try await janitor.sweep() == 1)
            #expect(try await store.generation(id: "gen-orphan")?.status == .failed)
            #expect(try await store.generation(id: "gen-live")?.status == .running)
            #expect(try await store.key(hash: key.hash)?.reserved == Nanodollars(10_000))
            await live.end(.completed)
            #expect(try await janitor.sweep() == 0)
        }
    }

    @Test func rowsWithAMissingOrMistypedColumnThrowInsteadOfReadingZero() throws {
        let row = SQLRow(columns: ["cost_nanos": .text("12"), "name": .integer(3), "note": .null])
        #expect(throws: SQLRowError.missing(column: "price_nanos")) { try row.integer("price_nanos") }
        #expect(throws: SQLRowError.mistyped(column: "cost_nanos", expected: "integer")) { try row.integer("cost_nanos") }
        #expect(throws: SQLRowError.mistyped(column: "name", expected: "text")) { try row.string("name") }
        #expect(throws: SQLRowError.null(column: "note")) { try row.string("note") }
        #expect(try row.optionalString("note") == nil)
    }
}

@Suite struct SQLiteLockTests {
    /// Another process's writer (here another connection) holds SQLite's write lock until a
    /// probe task has run. Transactions that need the lock wait on their databases' own
    /// threads, so even more of them than the cooperative pool has threads leave the pool free:
    /// the probe runs, the holder commits, and every waiter commits after it. Were they to wait
    /// on the pool's threads, the probe could not run and they would fail after their timeout.
    @Test func writersWaitingForAnotherConnectionsLockLeaveTheCooperativePoolFree() async throws {
        let location = try await Backend.sqlite.makeLocation()
        let path = (location as NSString).appendingPathComponent("speechrouter.sqlite")
        let holder = try await SQLiteDatabase.open(path: path, logger: Logger(label: "test"))
        try await holder.query("CREATE TABLE counter (n INTEGER)", [])
        let waiters = ProcessInfo.processInfo.activeProcessorCount + 2
        var databases: [SQLiteDatabase] = []
        // A generous wait for the lock, so a machine busy with other tests cannot time the waiters
        // out; were they parked on the pool's threads, they would still never get the lock.
        for _ in 0..<waiters {
            databases.append(
                try await SQLiteDatabase.open(path: path, logger: Logger(label: "test"), waitingTimeout: 120_000))
        }

        let locked = AsyncStream.makeStream(of: Void.self)
        let probed = AsyncStream.makeStream(of: Void.self)
        async let held: Void = holder.transaction { connection in
            _ = try await connection.query("INSERT INTO counter (n) VALUES (0)", [])
            locked.continuation.yield()
            for await _ in probed.stream { break }
        }
        for await _ in locked.stream { break }
        let databasesToWait = databases
        async let waited: Void = withThrowingTaskGroup(of: Void.self) { group in
            for (index, database) in databasesToWait.enumerated() {
                group.addTask { () async throws -> Void in
                    _ = try await database.transaction { connection in
                        try await connection.query("INSERT INTO counter (n) VALUES ($1)", [.integer(Int64(index + 1))])
                    }
                }
            }
            try await group.waitForAll()
        }
        // The probe: the waiters are blocked in SQLite by now; this needs a free pool thread.
        for _ in 0..<30 { try await Task.sleep(for: .milliseconds(10)) }
        probed.continuation.yield()
        try await held
        try await waited
        let rows = try await holder.query("SELECT COUNT(*) AS n FROM counter", [])
        #expect(try rows.first?.integer("n") == Int64(waiters + 1))
        for database in databases + [holder] { try await database.close() }
    }
}

/// Counts calls by name, from any thread.
final class Counter: Sendable {
    private let state = Mutex([String: Int]())
    func add(_ name: String) { state.withLock { $0[name, default: 0] += 1 } }
    var counts: [String: Int] { state.withLock { $0 } }
}
