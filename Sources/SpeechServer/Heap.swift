#if canImport(CMalloc) && os(Linux)
import CMalloc
#endif

/// The process's malloc heap (glibc's). After a load, memory freed on many threads can stay in
/// malloc's arenas instead of going back to the system (the first capacity run's RSS stayed at
/// its peak). `returnFreeMemory()` hands it back; the gateway calls it when its last stream ends.
enum Heap {
    /// Gives the pages malloc holds free, in every arena, back to the system (`malloc_trim`).
    /// Walks the whole heap, so it is meant for when the server has gone idle.
    static func returnFreeMemory() {
        #if canImport(CMalloc) && os(Linux)
        _ = malloc_trim(0)
        #endif
    }
}
