public import Foundation
import Synchronization

/// Finished audio on local disk, one file per key (`<key>.audio`, with `<key>.json` holding its
/// source generation and expiry), kept under a size limit by evicting the least recently used.
/// `statistics.json` keeps the hits, misses and evictions across restarts, for `cache stats`.
///
/// A miss is written to a temporary file (`<key>.<uuid>.tmp`) and renamed only once its stream
/// completed (`CacheFill.commit`), so a cancelled or crashed miss never leaves an entry; the
/// temporary files a crash left behind are removed when the store opens. Concurrent identical
/// requests share one fill: the first leads, the others read its file as it grows.
///
/// File operations are short local syscalls made under the lock, so that an entry's files and
/// its index row change together.
public final class SpeechCacheStore: Sendable {
    public let directory: URL
    public let limitBytes: Int
    private let state: Mutex<State>

    /// The accepted range of `limitBytes`: 1 KiB to 1 TiB.
    public static let limitRange = 1_024...(1 << 40)

    /// The file in the directory that keeps the counters.
    static let statisticsFile = "statistics.json"

    struct Entry {
        var size: Int
        var expiresAt: Date
        var source: String
        var lastUse: UInt64
    }

    struct State {
        var entries: [String: Entry] = [:]
        var fills: [String: CacheFill] = [:]
        var clock: UInt64 = 0
        var statistics = SpeechCacheStatistics()

        mutating func tick() -> UInt64 {
            clock &+= 1
            return clock
        }
    }

    /// What an entry's `.json` file holds.
    struct Metadata: Codable {
        var source: String
        var expiresAt: Double
        var size: Int

        enum CodingKeys: String, CodingKey {
            case source, size
            case expiresAt = "expires_at"
        }
    }

    /// Opens (creating) `directory`, removes what interrupted writes left, and indexes the
    /// entries that are whole and unexpired; the rest are deleted.
    public init(directory: URL, limitBytes: Int, now: Date = Date()) throws {
        guard Self.limitRange.contains(limitBytes) else { throw SpeechCacheError.limitOutOfRange(limitBytes) }
        self.directory = directory
        self.limitBytes = limitBytes
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var state = State()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let loaded = Self.wholeEntries(in: directory, names: names)
        for name in names where name != Self.statisticsFile {
            let key = String(name.prefix { $0 != "." })
            guard let metadata = loaded[key], metadata.expiresAt > now.timeIntervalSince1970,
                name == "\(key).audio" || name == "\(key).json"
            else {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                continue
            }
        }
        // Oldest expiry first: a fair guess at least recently used across a restart.
        for (key, metadata) in loaded.sorted(by: { $0.value.expiresAt < $1.value.expiresAt })
        where metadata.expiresAt > now.timeIntervalSince1970 {
            state.entries[key] = Entry(
                size: metadata.size, expiresAt: Date(timeIntervalSince1970: metadata.expiresAt),
                source: metadata.source, lastUse: state.tick())
        }
        state.statistics = Self.counters(in: directory)
        state.statistics.limitBytes = limitBytes
        self.state = Mutex(state)
        self.state.withLock { state in
            state.statistics.entries = state.entries.count
            state.statistics.bytes = state.entries.values.reduce(0) { $0 + $1.size }
            evict(&state)
            saveCounters(state)
        }
    }

    /// The entries of `names` whose audio file is there with the size their metadata says.
    static func wholeEntries(in directory: URL, names: [String]) -> [String: Metadata] {
        let present = Set(names)
        var result: [String: Metadata] = [:]
        for name in names where name.hasSuffix(".json") {
            let key = String(name.dropLast(5))
            guard SpeechCacheKey(hex: key) != nil, present.contains("\(key).audio"),
                let data = try? Data(contentsOf: directory.appendingPathComponent(name)),
                let metadata = try? JSONDecoder().decode(Metadata.self, from: data),
                let attributes = try? FileManager.default.attributesOfItem(
                    atPath: directory.appendingPathComponent("\(key).audio").path),
                (attributes[.size] as? NSNumber)?.intValue == metadata.size
            else { continue }
            result[key] = metadata
        }
        return result
    }

    /// A stored entry (`hit`), a synthesis of the same key already running (`follow`), or the
    /// fill the caller leads: it synthesizes, appends, and commits or abandons (`lead`).
    /// `unavailable` when the disk failed: serve without the cache.
    public func lookup(_ key: SpeechCacheKey, source: String, ttlSeconds: Int, now: Date = Date()) -> CacheLookup {
        state.withLock { state in
            if let entry = state.entries[key.hex] {
                if entry.expiresAt > now, let handle = try? FileHandle(forReadingFrom: audioURL(key.hex)) {
                    let now = state.tick()
                    state.entries[key.hex]?.lastUse = now
                    state.statistics.hits += 1
                    saveCounters(state)
                    return .hit(CacheReader(handle: handle, size: entry.size), source: entry.source)
                }
                remove(key.hex, from: &state)
            }
            if let fill = state.fills[key.hex], let handle = try? FileHandle(forReadingFrom: fill.temporaryURL) {
                state.statistics.hits += 1
                state.statistics.coalesced += 1
                saveCounters(state)
                return .follow(CacheReader(handle: handle, fill: fill), source: fill.source)
            }
            let temporary = directory.appendingPathComponent("\(key.hex).\(UUID().uuidString).tmp")
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
                let writer = try? FileHandle(forWritingTo: temporary)
            else { return .unavailable }
            let fill = CacheFill(
                store: self, key: key, temporaryURL: temporary, writer: writer, source: source,
                expiresAt: now.addingTimeInterval(TimeInterval(ttlSeconds)))
            state.fills[key.hex] = fill
            state.statistics.misses += 1
            saveCounters(state)
            return .lead(fill)
        }
    }

    /// The figures now.
    public var statistics: SpeechCacheStatistics { state.withLock { $0.statistics } }

    /// Removes every stored entry (fills in flight finish and are stored).
    public func clear() {
        state.withLock { state in
            for key in Array(state.entries.keys) { remove(key, from: &state) }
        }
    }

    /// Stores a completed fill: metadata first, then the audio's rename makes it an entry.
    func commit(_ fill: CacheFill, size: Int) {
        state.withLock { state in
            guard state.fills[fill.key.hex] === fill else { return }
            state.fills[fill.key.hex] = nil
            let metadata = Metadata(source: fill.source, expiresAt: fill.expiresAt.timeIntervalSince1970, size: size)
            // Room first: the directory never holds more than the limit, not even for a moment.
            guard size <= limitBytes else {
                try? FileManager.default.removeItem(at: fill.temporaryURL)
                return
            }
            evict(&state, toFit: size - (state.entries[fill.key.hex]?.size ?? 0), keeping: fill.key.hex)
            do {
                let json = directory.appendingPathComponent("\(fill.key.hex).json")
                try JSONEncoder().encode(metadata).write(to: json, options: .atomic)
                if let old = state.entries[fill.key.hex] { state.statistics.bytes -= old.size }
                // rename(2): atomic, replacing an older entry of the same key.
                guard rename(fill.temporaryURL.path, audioURL(fill.key.hex).path) == 0 else {
                    throw CocoaError(.fileWriteUnknown)
                }
            } catch {
                try? FileManager.default.removeItem(at: fill.temporaryURL)
                remove(fill.key.hex, from: &state)
                saveCounters(state)
                return
            }
            state.entries[fill.key.hex] = Entry(
                size: size, expiresAt: fill.expiresAt, source: fill.source, lastUse: state.tick())
            state.statistics.entries = state.entries.count
            state.statistics.bytes += size
            saveCounters(state)
        }
    }

    /// Forgets a fill that did not complete and deletes its temporary file.
    func abandon(_ fill: CacheFill) {
        state.withLock { state in
            if state.fills[fill.key.hex] === fill { state.fills[fill.key.hex] = nil }
        }
        try? FileManager.default.removeItem(at: fill.temporaryURL)
    }

    private func audioURL(_ hex: String) -> URL { directory.appendingPathComponent("\(hex).audio") }

    private func remove(_ hex: String, from state: inout State) {
        try? FileManager.default.removeItem(at: audioURL(hex))
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("\(hex).json"))
        if let entry = state.entries.removeValue(forKey: hex) { state.statistics.bytes -= entry.size }
        state.statistics.entries = state.entries.count
    }

    /// Removes least recently used entries (other than `keeping`) until the stored bytes and
    /// `extra` more fit the limit.
    private func evict(_ state: inout State, toFit extra: Int = 0, keeping: String? = nil) {
        while state.statistics.bytes + extra > limitBytes,
            let oldest = state.entries.filter({ $0.key != keeping })
                .min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            remove(oldest, from: &state)
            state.statistics.evictions += 1
        }
    }

    /// Writes the counters (hits, misses, coalesced, evictions) to `statistics.json`; a failed
    /// write only leaves `cache stats` behind.
    private func saveCounters(_ state: State) {
        guard let data = try? JSONEncoder().encode(state.statistics) else { return }
        try? data.write(to: directory.appendingPathComponent(Self.statisticsFile), options: .atomic)
    }

    /// The counters `statistics.json` in `directory` holds, zero when it is missing or unreadable.
    static func counters(in directory: URL) -> SpeechCacheStatistics {
        let saved = (try? Data(contentsOf: directory.appendingPathComponent(statisticsFile)))
            .flatMap { try? JSONDecoder().decode(SpeechCacheStatistics.self, from: $0) }
        var statistics = SpeechCacheStatistics()
        statistics.hits = max(0, saved?.hits ?? 0)
        statistics.misses = max(0, saved?.misses ?? 0)
        statistics.coalesced = max(0, saved?.coalesced ?? 0)
        statistics.evictions = max(0, saved?.evictions ?? 0)
        return statistics
    }

    /// The entries and bytes stored in `directory`, read from disk without opening a store
    /// (which would remove a running server's temporary files), with the counters the last
    /// store there saved: `speechrouter cache stats`.
    public static func storedStatistics(directory: URL) -> SpeechCacheStatistics {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let entries = wholeEntries(in: directory, names: names)
        var statistics = counters(in: directory)
        statistics.entries = entries.count
        statistics.bytes = entries.values.reduce(0) { $0 + $1.size }
        return statistics
    }

    /// Deletes every stored entry in `directory`, leaving fills in flight alone; returns how
    /// many entries were removed: `speechrouter cache clear`.
    public static func clear(directory: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed = 0
        for name in names where name != statisticsFile && (name.hasSuffix(".audio") || name.hasSuffix(".json")) {
            if (try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))) != nil,
                name.hasSuffix(".audio")
            {
                removed += 1
            }
        }
        return removed
    }
}

/// The answer of `SpeechCacheStore.lookup`.
public enum CacheLookup: Sendable {
    case hit(CacheReader, source: String)
    case follow(CacheReader, source: String)
    case lead(CacheFill)
    case unavailable
}

public enum SpeechCacheError: Error, Equatable, CustomStringConvertible {
    case limitOutOfRange(Int)
    /// The synthesis a follower was reading did not complete.
    case sourceFailed

    public var description: String {
        switch self {
        case .limitOutOfRange(let bytes):
            "the cache size limit must be from \(SpeechCacheStore.limitRange.lowerBound) to \(SpeechCacheStore.limitRange.upperBound) bytes, not \(bytes)"
        case .sourceFailed: "the synthesis this request shared did not complete"
        }
    }
}
