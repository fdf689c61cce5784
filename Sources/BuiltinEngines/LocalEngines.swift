public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
public import SpeechCore

/// The engines that work on a fresh machine with no keys, and the threads they run on, as one
/// service: the threads are shut down at graceful shutdown, after the server (which comes
/// after this service in the group) has finished the streams in flight.
public struct LocalEngines: Service {
    public let engines: [any SpeechEngine]
    private let threads: [NIOThreadPool]

    /// Starts every built-in engine. Flite's pieces run on a pool with one thread per core;
    /// eSpeak NG gets a thread of its own, for the life of the process (its C state is
    /// process-global, so one engine serves every caller in the process). Piper and hibari join
    /// them when their parts are installed (found by `locate()` by default) and load, each with
    /// a pool of its own; both phonemize with the same eSpeak NG engine. An engine that is
    /// missing or does not load gets one warning on `logger` saying why.
    public static func start(
        piper: PiperInstallation? = .locate(), hibari: HibariInstallation? = .locate(),
        logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> LocalEngines {
        let cores = System.coreCount
        let threads = NIOThreadPool(numberOfThreads: cores)
        threads.start()
        let flite = FliteEngine(threads: threads, parallelism: cores)
        let espeak = try await EspeakEngine.start()
        var engines: [any SpeechEngine] = [flite, espeak]
        var pools = [threads]
        func add(_ model: String, installedIn place: String, _ start: () async throws -> any PooledEngine) async {
            do {
                let engine = try await start()
                engines.append(engine)
                pools.append(engine.threads)
            } catch {
                logger.warning("\(model) is not served: its installation\(place) did not load: \(error)")
            }
        }
        if let piper {
            await add("local/piper", installedIn: " in \(piper.directory)") {
                try await PiperEngine.start(installation: piper, espeak: espeak, parallelism: cores)
            }
        } else {
            let hint = "scripts/install-piper makes .piper/; SPEECHROUTER_PIPER_DIR or piper_directory names another"
            logger.warning("local/piper is not served: no complete Piper installation found (\(hint))")
        }
        if let hibari {
            await add("local/hibari", installedIn: "") {
                try await HibariEngine.start(installation: hibari, espeak: espeak, parallelism: cores)
            }
        } else {
            logger.warning("local/hibari is not served: no hibari installation found (scripts/install-hibari makes .hibari/)")
        }
        return LocalEngines(engines: engines, threads: pools)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        for pool in threads { try await pool.shutdownGracefully() }
    }
}
