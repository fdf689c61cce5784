import Logging
import NIOCore
import NIOPosix
import SpeechCore

/// The engines that work on a fresh machine with no keys.
public enum LocalEngines {
    /// Starts every built-in engine. Flite's pieces run on a pool with one thread per core;
    /// eSpeak NG gets a thread of its own. Piper joins them when its parts are installed
    /// (`piper`, found by `PiperInstallation.locate()` by default) and load; it phonemizes with
    /// the same eSpeak NG engine. Without Piper, `logger` gets one warning saying why.
    public static func start(
        piper: PiperInstallation? = .locate(), logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> [any SpeechEngine] {
        let cores = System.coreCount
        let threads = NIOThreadPool(numberOfThreads: cores)
        threads.start()
        let flite = FliteEngine(threads: threads, parallelism: cores)
        let espeak = try await EspeakEngine.start()
        var engines: [any SpeechEngine] = [flite, espeak]
        if let piper {
            do {
                engines.append(try await PiperEngine.start(installation: piper, espeak: espeak, parallelism: cores))
            } catch {
                logger.warning(
                    "local/piper is not served: its installation in \(piper.directory) did not load: \(error)")
            }
        } else {
            let hint = "scripts/install-piper makes .piper/; SPEECHROUTER_PIPER_DIR or piper_directory names another"
            logger.warning("local/piper is not served: no complete Piper installation found (\(hint))")
        }
        return engines
    }
}
