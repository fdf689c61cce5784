#if canImport(CMalloc) && os(Linux)
import CMalloc
#endif

/// The process's malloc heap (glibc's). After a load, memory freed by many threads stays in
/// their arenas: a run of 100 streams left RSS at its 648 MB peak. `returnFreeMemory()` hands
/// it back; the gateway calls it when its last stream ends.
enum Heap {
    /// Gives the pages malloc holds free, in every arena, back to the system (`malloc_trim`).
    /// Walks the whole heap, so it is meant for when the server has gone idle.
    static func returnFreeMemory() {
        #if canImport(CMalloc) && os(Linux)
        _ = malloc_trim(0)
        #endif
    }

    /// Caps the arenas malloc makes (`M_ARENA_MAX`; glibc's default is 8 per core), so memory
    /// freed on one thread is more often reused by another instead of held apart. Call once,
    /// at start; `arenas` is clamped to 1-64.
    static func limitArenas(to arenas: Int) {
        #if canImport(CMalloc) && os(Linux)
        _ = mallopt(M_ARENA_MAX, Int32(min(max(arenas, 1), 64)))
        #endif
    }
}
