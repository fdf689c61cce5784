import NIOPosix
import SpeechCore

/// An engine that loads its model onto a thread pool of its own (Piper, hibari); `LocalEngines`
/// shuts the pool down with the others.
protocol PooledEngine: SpeechEngine {
    var threads: NIOThreadPool { get }
}

extension PooledEngine {
    /// Starts a pool of `count` threads, runs `load` (the model's C loading) on it, has `make`
    /// build the engine from what it loaded, and speaks one word in `voice` so the first request
    /// does not pay ONNX Runtime's first-run cost. When anything throws, the pool is shut down
    /// again before the error is passed on.
    static func start<Loaded: Sendable>(
        onPoolOf count: Int, warmUpVoice voice: String, loading load: @escaping @Sendable () throws -> Loaded,
        then make: (Loaded, NIOThreadPool) -> Self
    ) async throws -> Self {
        let threads = NIOThreadPool(numberOfThreads: count)
        threads.start()
        do {
            let engine = make(try await threads.runIfActive(load), threads)
            _ = try await engine.synthesize("Hi.", voice: voice, speed: 1)
            return engine
        } catch {
            try? await threads.shutdownGracefully()
            throw error
        }
    }
}
