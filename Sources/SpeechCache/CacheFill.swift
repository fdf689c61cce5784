import Foundation
import Synchronization

/// One miss being written: the leading request appends its audio as it is made, and commits it
/// when the stream completed or abandons it however else it ends. Followers read the same
/// temporary file as it grows (`CacheReader`), so memory stays bounded however many join.
/// The leader must end it one way or the other (the server ties that to its generation's lease).
public final class CacheFill: Sendable {
    let store: SpeechCacheStore
    public let key: SpeechCacheKey
    let temporaryURL: URL
    /// The generation that synthesizes the audio.
    public let source: String
    let expiresAt: Date
    /// Written only by the leading request, one append at a time.
    private let writer: FileHandle
    private let state = Mutex(State())

    enum Progress: Equatable {
        case running
        case committed
        case abandoned
    }

    private struct State {
        var written = 0
        var progress = Progress.running
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    init(store: SpeechCacheStore, key: SpeechCacheKey, temporaryURL: URL, writer: FileHandle, source: String, expiresAt: Date) {
        self.store = store
        self.key = key
        self.temporaryURL = temporaryURL
        self.writer = writer
        self.source = source
        self.expiresAt = expiresAt
    }

    /// Appends the next bytes of the audio; a failed write abandons the fill (the request
    /// itself goes on uncached).
    public func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, state.withLock({ $0.progress == .running }) else { return }
        do {
            try writer.write(contentsOf: bytes)
        } catch {
            abandon()
            return
        }
        let waiters = state.withLock { state in
            state.written += bytes.count
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// The audio is complete: store it as an entry.
    public func commit() {
        let size = state.withLock { state -> Int? in
            guard state.progress == .running else { return nil }
            return state.written
        }
        guard let size else { return }
        try? writer.synchronize()
        try? writer.close()
        store.commit(self, size: size)
        end(.committed)
    }

    /// The stream did not complete: no entry, and followers' streams are cut.
    public func abandon() {
        guard end(.abandoned) else { return }
        try? writer.close()
        store.abandon(self)
    }

    /// Ends the fill once; false when it had ended already.
    @discardableResult
    private func end(_ progress: Progress) -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
            guard state.progress == .running else { return nil }
            state.progress = progress
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters?.forEach { $0.resume() }
        return waiters != nil
    }

    /// The bytes written and how the fill stands, once more than `offset` bytes are written or
    /// the fill has ended.
    func progress(beyond offset: Int) async -> (written: Int, progress: Progress) {
        while true {
            let now = state.withLock { ($0.written, $0.progress) }
            if now.0 > offset || now.1 != .running { return now }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if state.written > offset || state.progress != .running { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}

/// Reads cached audio: a stored entry, or a fill still being written (waiting for its bytes as
/// they come, and failing if it is abandoned).
public struct CacheReader: Sendable {
    /// The most bytes one `next()` returns.
    public static let chunkBytes = 64 * 1024

    private let handle: FileHandle
    private let fill: CacheFill?
    private let size: Int
    private var offset = 0

    init(handle: FileHandle, size: Int) {
        self.handle = handle
        self.fill = nil
        self.size = size
    }

    init(handle: FileHandle, fill: CacheFill) {
        self.handle = handle
        self.fill = fill
        self.size = 0
    }

    /// The next bytes of the audio, nil at its end.
    public mutating func next() async throws -> [UInt8]? {
        var available = size
        if let fill {
            let (written, progress) = await fill.progress(beyond: offset)
            if progress == .abandoned { throw SpeechCacheError.sourceFailed }
            available = written
        }
        guard available > offset else { return nil }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: min(Self.chunkBytes, available - offset)) ?? Data()
        guard !data.isEmpty else { throw SpeechCacheError.sourceFailed }
        offset += data.count
        return Array(data)
    }
}
