/// The cache's figures at one moment, for `speechrouter cache stats` and for metrics.
public struct SpeechCacheStatistics: Sendable, Equatable, Codable {
    /// Requests answered from a stored entry or from a synthesis already running.
    public var hits = 0
    /// Requests that started a synthesis of their own.
    public var misses = 0
    /// Of the hits, those that joined a synthesis still running.
    public var coalesced = 0
    /// Stored entries and their audio bytes.
    public var entries = 0
    public var bytes = 0
    /// Entries removed to stay under the size limit.
    public var evictions = 0
    /// The size limit in bytes.
    public var limitBytes = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case hits, misses, coalesced, entries, bytes, evictions
        case limitBytes = "limit_bytes"
    }
}
