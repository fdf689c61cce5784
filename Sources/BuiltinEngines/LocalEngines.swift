import NIOCore
import NIOPosix
import ServiceLifecycle
import SpeechCore

/// The engines that work on a fresh machine with no keys, and the threads they run on, as one
/// service: the threads are shut down at graceful shutdown, after the server (which comes
/// after this service in the group) has finished the streams in flight.
public struct LocalEngines: Service {
    public let engines: [any SpeechEngine]
    private let threads: [NIOThreadPool]

    /// Starts every built-in engine. Flite's pieces run on a pool with one thread per core;
    /// eSpeak NG gets a thread of its own, for the life of the process (its C state is
    /// process-global, so one engine serves every caller in the process). Piper joins them when
    /// it was compiled in and its parts are installed (`piper`, found by
    /// `PiperInstallation.locate()` by default); it phonemizes with the same eSpeak NG engine.
    public static func start(piper: PiperInstallation? = .locate()) async throws -> LocalEngines {
        let cores = System.coreCount
        let threads = NIOThreadPool(numberOfThreads: cores)
        threads.start()
        let flite = FliteEngine(threads: threads, parallelism: cores)
        let espeak = try await EspeakEngine.start()
        var engines: [any SpeechEngine] = [flite, espeak]
        #if PIPER
        if let piper {
            let voice = try PiperVoice(modelPath: piper.modelPath)
            engines.append(
                try await PiperEngine.start(
                    voice: voice, preparedDirectory: piper.preparedDirectory, espeak: espeak, parallelism: cores))
        }
        #endif
        return LocalEngines(engines: engines, threads: [threads])
    }

    public func run() async throws {
        try? await gracefulShutdown()
        for pool in threads { try await pool.shutdownGracefully() }
    }
}
