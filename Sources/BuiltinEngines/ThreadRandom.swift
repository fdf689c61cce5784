import Glibc

/// C's `rand()` for this process, with one state per thread.
///
/// Flite's clustergen voices (slt, rms, awb) mix noise from `rand()` into their excitation.
/// glibc's `rand()` has one state for the whole process, so the same text came out with other
/// samples at each request, depending on what had been synthesized before it on any thread.
/// This definition, in the executable, is the one the dynamic linker binds Flite's calls to;
/// its state lives in the calling thread, and `ThreadRandom.seed(_:)` sets it before each
/// synthesis (which runs on one thread from start to end), so one text gives one audio.
enum ThreadRandom {
    /// The state, kept as the thread-specific value's bits (0 until a thread seeds it).
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left for rand()")
        return key
    }()

    static func seed(_ value: UInt) {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: value))
    }

    /// The next value, from 0 to `RAND_MAX` (2³¹ − 1) as glibc's: a 64-bit linear congruential
    /// step (Knuth's MMIX constants), its high 31 bits returned.
    fileprivate static func next() -> Int32 {
        let state = UInt64(UInt(bitPattern: pthread_getspecific(key))) &* 6_364_136_223_846_793_005
            &+ 1_442_695_040_888_963_407
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(state)))
        return Int32(truncatingIfNeeded: state >> 33)
    }
}

@_cdecl("rand")
public func threadRandom() -> Int32 { ThreadRandom.next() }
