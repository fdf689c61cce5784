import Foundation
import Testing

@testable import SpeechCache

@Suite struct SpeechCacheStoreTests {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("speechcache-\(UUID().uuidString)")

    func key(_ text: String) -> SpeechCacheKey { SpeechCacheKey(fields: [("input", text)]) }

    /// The entries' and fills' files (not the counters' `statistics.json`).
    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "statistics.json" }.sorted()
    }

    func readAll(_ reader: CacheReader) async throws -> [UInt8] {
        var reader = reader
        var bytes: [UInt8] = []
        while let chunk = try await reader.next() { bytes += chunk }
        return bytes
    }

    func fill(_ store: SpeechCacheStore, _ text: String, bytes: [UInt8], ttl: Int = 300) throws {
        guard case .lead(let fill) = store.lookup(key(text), source: "gen-\(text)", ttlSeconds: ttl) else {
            Issue.record("expected a miss for \(text)")
            return
        }
        fill.append(bytes)
        fill.commit()
    }

    @Test func aCommittedFillIsAHitWithTheSameBytesAndSource() async throws {
        let store = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
        let audio = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try fill(store, "hello", bytes: audio)
        guard case .hit(let reader, let source) = store.lookup(key("hello"), source: "gen-2", ttlSeconds: 300) else {
            Issue.record("expected a hit")
            return
        }
        #expect(source == "gen-hello")
        #expect(try await readAll(reader) == audio)
        let statistics = store.statistics
        #expect(statistics.hits == 1 && statistics.misses == 1 && statistics.entries == 1)
        #expect(statistics.bytes == audio.count)
    }

    @Test func anAbandonedFillLeavesNoEntryAndNoFile() throws {
        let store = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
        guard case .lead(let fill) = store.lookup(key("cut"), source: "gen-1", ttlSeconds: 300) else {
            Issue.record("expected a miss")
            return
        }
        fill.append([1, 2, 3])
        fill.abandon()
        fill.commit()  // too late: the first end wins
        #expect(try names().isEmpty)
        guard case .lead(let next) = store.lookup(key("cut"), source: "gen-2", ttlSeconds: 300) else {
            Issue.record("the next identical request must be a miss")
            return
        }
        next.abandon()
    }

    @Test func followersReadTheFillAsItGrowsAndSeeItsEnd() async throws {
        let store = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
        guard case .lead(let fill) = store.lookup(key("shared"), source: "gen-1", ttlSeconds: 300),
            case .follow(let follower, let source) = store.lookup(key("shared"), source: "gen-2", ttlSeconds: 300)
        else {
            Issue.record("expected a leader and a follower")
            return
        }
        #expect(source == "gen-1")
        async let read = readAll(follower)
        for part in 0..<10 { fill.append(Array(repeating: UInt8(part), count: 1_000)) }
        fill.commit()
        #expect(try await read == (0..<10).flatMap { Array(repeating: UInt8($0), count: 1_000) })
        #expect(store.statistics.coalesced == 1)
    }

    @Test func aFollowerOfAnAbandonedFillFails() async throws {
        let store = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
        guard case .lead(let fill) = store.lookup(key("x"), source: "gen-1", ttlSeconds: 300),
            case .follow(let follower, _) = store.lookup(key("x"), source: "gen-2", ttlSeconds: 300)
        else {
            Issue.record("expected a leader and a follower")
            return
        }
        fill.append([1, 2])
        fill.abandon()
        await #expect(throws: SpeechCacheError.sourceFailed) { try await readAll(follower) }
    }

    @Test func evictionKeepsTheStoreUnderItsLimitDroppingTheLeastRecentlyUsed() async throws {
        let store = try SpeechCacheStore(directory: directory, limitBytes: 10_000)
        for index in 0..<3 { try fill(store, "\(index)", bytes: Array(repeating: 1, count: 3_000)) }
        // Use 0 again: 1 is now the least recently used.
        guard case .hit = store.lookup(key("0"), source: "g", ttlSeconds: 300) else {
            Issue.record("expected a hit")
            return
        }
        try fill(store, "3", bytes: Array(repeating: 2, count: 3_000))
        #expect(store.statistics.evictions == 1)
        guard case .lead(let again) = store.lookup(key("1"), source: "g", ttlSeconds: 300) else {
            Issue.record("the least recently used entry must be gone")
            return
        }
        again.abandon()
        guard case .hit = store.lookup(key("0"), source: "g", ttlSeconds: 300) else {
            Issue.record("the recently used entry must stay")
            return
        }
        for index in 4..<200 { try fill(store, "\(index)", bytes: Array(repeating: 3, count: 777)) }
        let onDisk = try names().filter { $0.hasSuffix(".audio") }.reduce(0) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size]
                as? NSNumber)?.intValue ?? 0)
        }
        #expect(onDisk <= 10_000)
        #expect(store.statistics.bytes == onDisk)
    }

    @Test func reopeningKeepsWholeEntriesAndRemovesLeftovers() throws {
        do {
            let store = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
            try fill(store, "kept", bytes: [1, 2, 3, 4])
            // A miss in flight when the process died: its temporary file stays behind.
            guard case .lead(let fill) = store.lookup(key("crashed"), source: "g", ttlSeconds: 300) else {
                Issue.record("expected a miss")
                return
            }
            fill.append([9, 9, 9])
        }
        // An entry whose audio is not the size its metadata says.
        try Data([1]).write(to: directory.appendingPathComponent("\(key("torn").hex).audio"))
        try Data(#"{"source":"g","expires_at":9999999999,"size":5}"#.utf8)
            .write(to: directory.appendingPathComponent("\(key("torn").hex).json"))
        let reopened = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
        #expect(try names() == ["\(key("kept").hex).audio", "\(key("kept").hex).json"].sorted())
        #expect(reopened.statistics.entries == 1)
        guard case .hit = reopened.lookup(key("kept"), source: "g", ttlSeconds: 300) else {
            Issue.record("expected the kept entry")
            return
        }
    }

    @Test func hitsMissesAndEvictionsOutliveTheStoreAndAClear() throws {
        do {
            let store = try SpeechCacheStore(directory: directory, limitBytes: 4_096)
            try fill(store, "a", bytes: Array(repeating: 1, count: 3_000))
            guard case .hit = store.lookup(key("a"), source: "g", ttlSeconds: 300) else {
                Issue.record("expected a hit")
                return
            }
            try fill(store, "b", bytes: Array(repeating: 2, count: 3_000))
        }
        #expect(SpeechCacheStore.clear(directory: directory) == 1)
        var expected = SpeechCacheStatistics()
        (expected.hits, expected.misses, expected.evictions) = (1, 2, 1)
        #expect(SpeechCacheStore.storedStatistics(directory: directory) == expected)
        let reopened = try SpeechCacheStore(directory: directory, limitBytes: 4_096)
        #expect(reopened.statistics.hits == 1 && reopened.statistics.misses == 2 && reopened.statistics.evictions == 1)
    }

    @Test func anExpiredEntryIsAMiss() throws {
        let store = try SpeechCacheStore(directory: directory, limitBytes: 1 << 20)
        try fill(store, "old", bytes: [1], ttl: 1)
        guard case .lead(let fill) = store.lookup(key("old"), source: "g", ttlSeconds: 1, now: Date().addingTimeInterval(2))
        else {
            Issue.record("expected a miss")
            return
        }
        fill.abandon()
    }

    @Test func aLimitOutOfRangeIsRefused() {
        #expect(throws: SpeechCacheError.limitOutOfRange(0)) { try SpeechCacheStore(directory: directory, limitBytes: 0) }
    }

    @Test func keysDifferForEveryField() {
        let base = SpeechCacheKey(fields: [("a", "bc"), ("d", "")])
        #expect(base != SpeechCacheKey(fields: [("a", "b"), ("cd", "")]))
        #expect(base == SpeechCacheKey(fields: [("a", "bc"), ("d", "")]))
        #expect(base.hex.count == 64)
    }
}
