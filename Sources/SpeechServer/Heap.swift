import Synchronization
import SpeechCore

#if canImport(CMalloc) && os(Linux)
import CMalloc
#endif

/// The process's malloc heap (glibc's). After a load, memory freed on many threads can stay in
/// malloc's arenas instead of going back to the system (the first capacity run's RSS stayed at
/// its peak). `returnFreeMemory()` hands it back; `IdleHeapTrim` calls it once the server has
/// stayed idle a while.
enum Heap {
    /// Gives the pages malloc holds free, in every arena, back to the system (`malloc_trim`).
    /// Walks the whole heap, so it is meant for when the server has gone idle.
    static func returnFreeMemory() {
        #if canImport(CMalloc) && os(Linux)
        _ = malloc_trim(0)
        #endif
    }
}

/// Returns the memory a load left behind `delay` after the server's last stream ended: first the
/// engines' own (`SpeechEngine.releaseIdleMemory`, ONNX Runtime's arenas), then the heap's free
/// pages, off the request path and at most once per `delay`: trimming walks the whole heap (milliseconds), so doing it
/// at every idle moment put it on the hot path of sequential requests (one client, one
/// connection: `Benchmarks/run gateway` measured 7.4 ms added instead of ~1 ms).
final class IdleHeapTrim: Sendable {
    private let scheduled = Mutex(false)
    let delay: Duration

    init(delay: Duration = .seconds(2)) { self.delay = delay }

    /// The server's last stream ended: release `engines`' idle memory and trim after `delay`
    /// unless that is already due, and only if `stillIdle()` then: a load that began meanwhile
    /// would pay for memory given back under it (the arenas refilled page by page, malloc's
    /// arenas locked while they are trimmed; 100 hibari streams starting 2 s after 75 ended
    /// stalled 15 where 0-3 stalled from a fresh start).
    func serverWentIdle(engines: [any SpeechEngine] = [], stillIdle: @escaping @Sendable () -> Bool = { true }) {
        let schedule = scheduled.withLock { scheduled in
            defer { scheduled = true }
            return !scheduled
        }
        guard schedule else { return }
        Task.detached(priority: .background) { [self] in
            try? await Task.sleep(for: delay)
            scheduled.withLock { $0 = false }
            guard stillIdle() else { return }
            for engine in engines { await engine.releaseIdleMemory() }
            guard stillIdle() else { return }
            Heap.returnFreeMemory()
        }
    }
}
