import Foundation
import Logging
import ServiceLifecycle
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
            #expect(ledger.runningGenerations.isEmpty)
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
