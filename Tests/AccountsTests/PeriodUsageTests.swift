import Foundation
import Testing

@testable import Accounts

/// `/key` and `/keys` read per-period usage from counters that each charge keeps; these must
/// always equal the sums over the generation rows they replace.
@Suite struct PeriodUsageTests {
    /// UTC times around 2025-03-31, a Monday and the last day of March: a new ISO week starts
    /// at its first second, a new month at the second after its last.
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text + "Z")! }

    @Test(arguments: Backend.available)
    func countersEqualTheSumsAcrossDayWeekAndMonthBoundaries(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "counted"))
        let (other, _) = try await store.createKey(KeySettings(name: "other"))
        var index = 0
        func start(_ key: APIKey, at time: String, characters: Int) async throws -> String {
            index += 1
            var generation = record("gen-\(index)", key: key, characters: characters, price: 1_000)
            generation.startedAt = Self.utc(time)
            try await store.begin(generation, now: generation.startedAt)
            return generation.id
        }
        func expectCountersEqualSums(at time: String) async throws {
            let now = Self.utc(time)
            for key in [key, other] {
                var summed = PeriodUsage()
                for period in LimitReset.allCases {
                    summed[period] = try await store.summedUsage(keyHash: key.hash, since: period.periodStart(containing: now))
                }
                #expect(try await store.periodUsage(keyHash: key.hash, now: now) == summed, "\(key.name) at \(time)")
                #expect(try await store.periodUsage(now: now)[key.hash] ?? PeriodUsage() == summed, "\(key.name) at \(time)")
            }
        }

        let saturday = try await start(key, at: "2025-03-29T10:00:00", characters: 10)
        try await store.finish(id: saturday, status: .completed, spokenCharacters: 10, firstByteAt: nil, at: Self.utc("2025-03-29T10:00:05"))
        try await expectCountersEqualSums(at: "2025-03-29T12:00:00")
        let lastSunday = try await start(key, at: "2025-03-30T23:59:50", characters: 20)
        let otherSunday = try await start(other, at: "2025-03-30T23:59:55", characters: 7)
        try await store.finish(id: otherSunday, status: .completed, spokenCharacters: 7, firstByteAt: nil, at: Self.utc("2025-03-30T23:59:58"))
        // A new day and week: a generation that started on Monday is charged before the one that
        // started on Sunday, which still counts in Sunday's day and week only.
        let monday = try await start(key, at: "2025-03-31T00:00:05", characters: 30)
        try await store.finish(id: monday, status: .completed, spokenCharacters: 30, firstByteAt: nil, at: Self.utc("2025-03-31T00:00:10"))
        try await store.finish(id: lastSunday, status: .cancelled, spokenCharacters: 12, firstByteAt: nil, at: Self.utc("2025-03-31T00:00:20"))
        try await expectCountersEqualSums(at: "2025-03-31T00:00:30")
        let failed = try await start(key, at: "2025-03-31T23:59:59", characters: 40)
        try await store.finish(id: failed, status: .failed, spokenCharacters: 0, firstByteAt: nil, at: Self.utc("2025-04-01T00:00:01"))
        try await expectCountersEqualSums(at: "2025-03-31T23:59:59")
        // A new day and month, the same week.
        let april = try await start(key, at: "2025-04-01T00:00:00", characters: 50)
        try await store.finish(id: april, status: .completed, spokenCharacters: 50, firstByteAt: nil, at: Self.utc("2025-04-01T00:00:02"))
        try await expectCountersEqualSums(at: "2025-04-01T12:00:00")
        // A later day with no charge yet reads zero for the day, the week and month still count.
        try await expectCountersEqualSums(at: "2025-04-02T08:00:00")
        #expect(try await store.periodUsage(keyHash: key.hash, now: Self.utc("2025-04-02T08:00:00")).daily == .zero)
        #expect(try await store.periodUsage(keyHash: key.hash, now: Self.utc("2025-04-02T08:00:00")).weekly == Nanodollars(80_000))

        #expect(try await store.deleteKey(hash: key.hash))
        #expect(try await store.periodUsage(now: Self.utc("2025-04-01T12:00:00"))[key.hash] == nil)
        try await store.close()
    }

    /// A database from before the counters gets them from its generation rows when it migrates.
    @Test(arguments: Backend.available)
    func migrationBackfillsTheCountersOfTheCurrentPeriods(backend: Backend) async throws {
        let store = try await backend.open(try await backend.makeLocation())
        let (key, _) = try await store.createKey(KeySettings(name: "old"))
        for (index, time) in ["2025-03-01T09:00:00", "2025-03-28T09:00:00", "2025-03-31T09:00:00"].enumerated() {
            var generation = record("gen-\(index)", key: key, characters: 10 * (index + 1), price: 1_000)
            generation.startedAt = Self.utc(time)
            try await store.begin(generation, now: generation.startedAt)
            try await store.finish(
                id: generation.id, status: .completed, spokenCharacters: generation.characters, firstByteAt: nil,
                at: generation.startedAt)
        }
        // Back to schema version 1: without the counters (2), the keys' stream limit (3) and the
        // generations' upstream model (4), cache source (5) and upstream attempts (6).
        try await store.database.query("DROP TABLE key_usage", [])
        try await store.database.query("ALTER TABLE generations DROP COLUMN provider_responses", [])
        try await store.database.query("ALTER TABLE generations DROP COLUMN response_cache_source_id", [])
        try await store.database.query("ALTER TABLE api_keys DROP COLUMN max_streams", [])
        try await store.database.query("ALTER TABLE generations DROP COLUMN upstream_model", [])
        try await store.database.query("DELETE FROM schema_migrations WHERE version >= 2", [])
        let now = Self.utc("2025-03-31T10:00:00")
        try await store.migrate(now: now)
        #expect(
            try await store.periodUsage(keyHash: key.hash, now: now)
                == PeriodUsage(daily: Nanodollars(30_000), weekly: Nanodollars(30_000), monthly: Nanodollars(60_000)))
        try await store.close()
    }
}

extension AccountStore {
    /// The key's charges for generations started since `date`, summed over its rows: what the
    /// counters replace.
    func summedUsage(keyHash: String, since date: Date) async throws -> Nanodollars {
        let rows = try await database.query(
            "SELECT CAST(COALESCE(SUM(cost_nanos), 0) AS BIGINT) AS total FROM generations WHERE key_hash = $1 AND started_at >= $2",
            [.text(keyHash), .double(date.timeIntervalSince1970)])
        return Nanodollars(try rows.first?.integer("total") ?? 0)
    }
}
