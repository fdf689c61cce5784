import NIOCore
import NIOPosix
import SpeechCore

/// The engines that work on a fresh machine with no keys.
public enum LocalEngines {
    /// Starts every built-in engine. Flite's pieces run on a pool with one thread per core;
    /// eSpeak NG gets a thread of its own.
    public static func start() async throws -> [any SpeechEngine] {
        let cores = System.coreCount
        let threads = NIOThreadPool(numberOfThreads: cores)
        threads.start()
        let flite = FliteEngine(threads: threads, parallelism: cores)
        let espeak = try await EspeakEngine.start()
        return [flite, espeak]
    }
}
