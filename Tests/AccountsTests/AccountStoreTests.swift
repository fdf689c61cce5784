import Foundation
import Logging
import Synchronization
import Testing

@testable import Accounts

@Suite struct AccountStoreTests {
    @Test(arguments: Backend.available)
    func keysAuthenticateUntilDisabledExpiredOrDeleted(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, secret) = try await store.createKey(KeySettings(name: "ci"))
        #expect(secret.value.wholeMatch(of: /sk-sr-v1-[0-9a-f]{64}/) != nil)
        #expect(key.label == String(secret.value.prefix(13)) + "..." + String(secret.value.suffix(4)))
        #expect(try await store.authenticate(secret) == .valid(key))
        let tampered = secret.value.dropLast() + (secret.value.hasSuffix("0") ? "1" : "0")
        #expect(try await store.authenticate(KeySecret(String(tampered))) == .unknown)

        _ = try await store.updateKey(hash: key.hash, disabled: true)
        #expect(try await store.authenticate(secret) == .disabled)
        _ = try await store.updateKey(hash: key.hash, disabled: false)
        guard case .valid = try await store.authenticate(secret) else { throw Failure("re-enabled key rejected") }
        #expect(try await store.deleteKey(hash: key.hash))
        #expect(try await store.authenticate(secret) == .unknown)
        #expect(try await store.deleteKey(hash: key.hash) == false)

        let (_, expiring) = try await store.createKey(KeySettings(name: "old", expiresAt: Date(timeIntervalSinceNow: -1)))
        #expect(try await store.authenticate(expiring) == .expired)
        try await store.close()
    }

    @Test func sqliteFileHoldsTheHashNeverTheSecret() async throws {
        let location = try await Backend.sqlite.makeLocation()
        let store = try await Backend.sqlite.open(location)
        let (_, secret) = try await store.createKey(KeySettings(name: "x"))
        try await store.close()
        let path = (location as NSString).appendingPathComponent("speechrouter.sqlite")
        var contents = try Data(contentsOf: URL(fileURLWithPath: path))
        if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { contents += wal }
        #expect(contents.range(of: Data(secret.value.dropFirst(KeySecret.prefix.count).utf8)) == nil)
        #expect(contents.range(of: Data(secret.hash.utf8)) != nil)
    }

    /// A lone read runs on SQLite's read-only connection: it sees what was committed the moment
    /// before, and it is not queued behind a transaction that holds the writing connection (here
    /// one that waits until the read has returned; through the lock it would wait forever).
    @Test(.timeLimit(.minutes(1))) func sqliteReadsBesideAnOpenTransaction() async throws {
        let path = try await Backend.sqlite.makeLocation() + ".sqlite"
        let database = try await SQLiteDatabase.open(path: path, logger: Logger(label: "test"))
        try await database.query("CREATE TABLE t (v INTEGER)", [])
        try await database.query("INSERT INTO t (v) VALUES (1)", [])
        #expect(try await database.read("SELECT v FROM t", []).map { try $0.integer("v") } == [1])
        let (readDone, finishRead) = AsyncStream<Void>.makeStream()
        let (inTransaction, entered) = AsyncStream<Void>.makeStream()
        let writer = Task {
            try await database.transaction { connection in
                try await connection.query("INSERT INTO t (v) VALUES (2)", [])
                entered.yield()
                for await _ in readDone { break }
            }
        }
        for await _ in inTransaction { break }
        #expect(try await database.read("SELECT v FROM t", []).map { try $0.integer("v") } == [1], "not yet committed")
        finishRead.yield()
        try await writer.value
        #expect(try await database.read("SELECT v FROM t ORDER BY v", []).map { try $0.integer("v") } == [1, 2])
        try await database.close()
    }

    /// 200 requests at once against a limit that covers exactly 50: exactly 50 run, and the
    /// usage recorded equals the limit. On PostgreSQL the requests come from two stores (two
    /// connection pools, as two gateway instances would have).
    @Test(arguments: Backend.available)
    func concurrentRequestsNeverSpendPastTheLimit(backend: Backend) async throws {
        let location = try await backend.makeLocation()
        let stores = [try await backend.open(location, instance: "a"), try await backend.open(location, instance: "b")]
        let price: Int64 = 1_000, characters = 20
        let (key, _) = try await stores[0].createKey(
            KeySettings(name: "limited", limit: Nanodollars(price * Int64(characters) * 50)))
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                let store = stores[backend == .postgres ? index % 2 : 0]
                group.addTask {
                    do {
                        try await store.begin(record("gen-\(index)", key: key, characters: characters, price: price))
                    } catch is BillingError {
                        return false
                    }
                    try await store.finish(id: "gen-\(index)", status: .completed, spokenCharacters: characters, firstByteAt: nil)
                    return true
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 50)
        let after = try #require(try await stores[0].key(hash: key.hash))
        #expect(after.usage == key.limit)
        #expect(after.reserved == .zero)
        #expect(try await stores[0].summedUsage(keyHash: key.hash, since: .distantPast) == key.limit)
        #expect(try await stores[0].credits().usage == key.limit)
        for store in stores { try await store.close() }
    }

    @Test(arguments: Backend.available)
    func accountCreditsBoundEveryKey(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        try await store.setCredits(Nanodollars(10_000))
        let (key, _) = try await store.createKey(KeySettings(name: "k"))
        try await store.begin(record("gen-1", key: key, characters: 6, price: 1_000))
        do {
            try await store.begin(record("gen-2", key: key, characters: 5, price: 1_000))
            throw Failure("credits were overspent")
        } catch let error as BillingError {
            #expect(error == .insufficientCredits(cost: Nanodollars(5_000), remaining: Nanodollars(4_000)))
        }
        #expect(try await store.generation(id: "gen-2") == nil, "a refused request leaves no row")
        try await store.finish(id: "gen-1", status: .completed, spokenCharacters: 6, firstByteAt: nil)
        #expect(try await store.credits() == (Nanodollars(10_000), Nanodollars(6_000)))
        try await store.close()
    }

    @Test(arguments: Backend.available)
    func aCacheHitRecordsItsSourceGeneration(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "k"))
        try await store.begin(record("gen-source", key: key, characters: 10, price: 1_000))
        var hit = record("gen-hit", key: key, characters: 10, price: 100)
        hit.responseCacheSourceID = "gen-source"
        try await store.begin(hit)
        try await store.finish(id: "gen-hit", status: .completed, spokenCharacters: 10, firstByteAt: nil)
        let stored = try #require(try await store.generation(id: "gen-hit"))
        #expect(stored.responseCacheSourceID == "gen-source")
        #expect(stored.cost == Nanodollars(1_000))
        #expect(try await store.generation(id: "gen-source")?.responseCacheSourceID == nil)
        try await store.close()
    }

    @Test(arguments: Backend.available)
    func endedStreamsPayOnlyForWhatWasSpoken(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "k", limit: Nanodollars(100_000)))
        try await store.begin(record("gen-c", key: key, characters: 80, price: 1_000))
        #expect(try await store.key(hash: key.hash)?.reserved == Nanodollars(80_000))
        try await store.finish(id: "gen-c", status: .cancelled, spokenCharacters: 30, firstByteAt: Date())
        // A late second finish changes nothing.
        try await store.finish(id: "gen-c", status: .completed, spokenCharacters: 80, firstByteAt: nil)
        let generation = try #require(try await store.generation(id: "gen-c"))
        #expect(generation.status == .cancelled)
        #expect(generation.cost == Nanodollars(30_000))
        #expect(generation.firstByteAt != nil)
        let after = try #require(try await store.key(hash: key.hash))
        #expect(after.usage == Nanodollars(30_000))
        #expect(after.reserved == .zero)
        #expect(after.limitRemaining == Nanodollars(70_000))
        try await store.close()
    }

    @Test(arguments: Backend.available)
    func restartFailsOnlyThisInstancesLeftovers(backend: Backend) async throws {
        let location = try await backend.makeLocation()
        let mine = try await backend.open(location, instance: "host:8080")
        let other = try await backend.open(location, instance: "host:8081")
        let (key, _) = try await mine.createKey(KeySettings(name: "k", limit: Nanodollars(50_000)))
        try await mine.begin(record("gen-mine", key: key, characters: 10, price: 1_000))
        try await other.begin(record("gen-other", key: key, characters: 10, price: 1_000))
        try await mine.close()  // as after kill -9: no finish ran

        let restarted = try await backend.open(location, instance: "host:8080")
        #expect(try await restarted.failInterruptedGenerations() == 1)
        #expect(try await restarted.generation(id: "gen-mine")?.status == .failed)
        #expect(try await restarted.generation(id: "gen-other")?.status == .running)
        let after = try #require(try await restarted.key(hash: key.hash))
        #expect(after.reserved == Nanodollars(10_000), "only the other instance's reservation remains")
        #expect(after.usage == .zero)
        try await restarted.close()
        try await other.close()
    }

    @Test(arguments: Backend.available)
    func dailyLimitsStartOverAtMidnightUTC(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let calendar = Calendar(identifier: .iso8601)
        let now = Date()
        let (key, _) = try await store.createKey(
            KeySettings(name: "daily", limit: Nanodollars(10_000), limitReset: .daily),
            now: calendar.date(byAdding: .day, value: -1, to: now)!)
        var spend = record("gen-y", key: key, characters: 10, price: 1_000)
        spend.startedAt = calendar.date(byAdding: .day, value: -1, to: now)!
        try await store.begin(spend, now: spend.startedAt)
        try await store.finish(id: "gen-y", status: .completed, spokenCharacters: 10, firstByteAt: nil)
        await #expect(throws: BillingError.self) {
            try await store.begin(record("gen-again", key: key, characters: 1, price: 1_000), now: spend.startedAt)
        }
        // The next day the whole limit is there again.
        try await store.begin(record("gen-t", key: key, characters: 10, price: 1_000), now: now)
        try await store.close()
    }

    @Test(arguments: Backend.available)
    func rateWindowsCountAcrossStores(backend: Backend) async throws {
        let location = try await backend.makeLocation()
        let a = try await backend.open(location, instance: "a")
        let b = try await backend.open(location, instance: "b")
        let (key, _) = try await a.createKey(KeySettings(name: "k"))
        let limit = RateLimit(requests: 3, interval: 3600)
        let now = Date()
        var decisions: [RateDecision] = []
        for store in [a, b, a, b] { decisions.append(try await store.countRequest(keyHash: key.hash, limit: limit, now: now)) }
        #expect(decisions.map(\.allowed) == [true, true, true, false])
        #expect(decisions.map(\.remaining) == [2, 1, 0, 0])
        let windowEnd = ((now.timeIntervalSince1970 / 3600).rounded(.down) + 1) * 3600
        #expect(decisions[3].resetAt.timeIntervalSince1970 == windowEnd)
        // The next window starts afresh.
        let later = Date(timeIntervalSince1970: windowEnd + 1)
        #expect(try await a.countRequest(keyHash: key.hash, limit: limit, now: later).allowed)
        try await a.close()
        try await b.close()
    }

    @Test(arguments: Backend.available)
    func reopeningKeepsDataAndAppliesNoMigrationTwice(backend: Backend) async throws {
        let location = try await backend.makeLocation()
        let first = try await backend.open(location)
        let (_, secret) = try await first.createKey(KeySettings(name: "kept"))
        try await first.close()
        let second = try await backend.open(location)
        guard case .valid(let key) = try await second.authenticate(secret) else { throw Failure("key lost") }
        #expect(key.name == "kept")
        let versions = try await second.database.query("SELECT version FROM schema_migrations", [])
        #expect(versions.count == Migrations.versions(now: Date()).count)
        try await second.close()
    }

    /// The provider that served a generation and the model's id there are kept with its end.
    @Test(arguments: Backend.available)
    func aGenerationRecordsTheUpstreamModelThatServedIt(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "upstream"))
        try await store.begin(record("gen-upstream", key: key, characters: 10, price: 0))
        try await store.begin(record("gen-local", key: key, characters: 10, price: 0))
        #expect(try await store.generation(id: "gen-upstream")?.upstreamModel == nil, "unknown while running")
        try await store.finish(
            id: "gen-upstream", status: .completed, spokenCharacters: 10, firstByteAt: Date(), provider: "OpenAI",
            upstreamModel: "gpt-4o-mini-tts-2025-12-15")
        try await store.finish(id: "gen-local", status: .completed, spokenCharacters: 10, firstByteAt: Date())
        let upstream = try #require(try await store.generation(id: "gen-upstream"))
        #expect(upstream.provider == "OpenAI" && upstream.upstreamModel == "gpt-4o-mini-tts-2025-12-15")
        let local = try #require(try await store.generation(id: "gen-local"))
        #expect(local.provider == "local" && local.upstreamModel == nil)
        try await store.close()
    }

    /// The dashboard's list: every key's generations, newest first, at most `limit`, each as
    /// `generation(id:)` reads it.
    @Test(arguments: Backend.available)
    func recentGenerationsListEveryKeyNewestFirst(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (first, _) = try await store.createKey(KeySettings(name: "first"))
        let (second, _) = try await store.createKey(KeySettings(name: "second"))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<5 {
            var generation = record("gen-\(index)", key: index.isMultiple(of: 2) ? first : second, characters: 10 + index, price: 7)
            generation.startedAt = start.addingTimeInterval(Double(index))
            try await store.begin(generation, now: generation.startedAt)
        }
        try await store.finish(id: "gen-3", status: .completed, spokenCharacters: 13, firstByteAt: start.addingTimeInterval(3.25))
        let recent = try await store.recentGenerations(limit: 3)
        #expect(recent.map(\.id) == ["gen-4", "gen-3", "gen-2"])
        #expect(recent.map(\.keyHash) == [first.hash, second.hash, first.hash])
        #expect(recent[1] == (try await store.generation(id: "gen-3")))
        #expect(recent[1].status == .completed && recent[0].status == .running)
        #expect(try await store.recentGenerations(limit: 50).map(\.id) == (0..<5).reversed().map { "gen-\($0)" })
        try await store.close()
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
