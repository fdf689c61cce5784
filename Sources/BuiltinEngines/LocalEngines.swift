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
    /// The threads Flite, Piper and hibari synthesize on, earliest deadline first.
    public let scheduler: SynthesisScheduler
    /// `local/piper`, when it is served, for reloading its voices.
    public let piper: PiperEngine?
    /// `local/hibari`, when it is served, for reloading its voices.
    public let hibari: HibariEngine?

    /// Starts every built-in engine. Flite, Piper and hibari share one `SynthesisScheduler` with
    /// a thread per core, so every request's pieces compete by deadline, whatever the engine;
    /// eSpeak NG gets a thread of its own, for the life of the process (its C state is
    /// process-global, so one engine serves every caller in the process). Piper and hibari join
    /// when their parts are installed (found by `locate()` by default) and load; both phonemize
    /// with the same eSpeak NG engine. An engine that is missing or does not load gets one
    /// warning on `logger` saying why. Piper and hibari also serve their voices in `voices`.
    public static func start(
        piper: PiperInstallation? = .locate(), voices: PiperVoiceFolder? = nil, hibari: HibariInstallation? = .locate(),
        logger: Logger = Logger(label: "speechrouter.engines")
    ) async throws -> LocalEngines {
        let scheduler = SynthesisScheduler(threads: System.coreCount)
        let espeak: EspeakEngine
        do {
            espeak = try await EspeakEngine.start()
        } catch {
            await scheduler.shutdownGracefully()
            throw error
        }
        var engines: [any SpeechEngine] = [FliteEngine(scheduler: scheduler), espeak]
        @discardableResult
        func add<Engine: SpeechEngine>(
            _ model: String, installedIn place: String, _ start: () async throws -> Engine
        ) async -> Engine? {
            do {
                let engine = try await start()
                engines.append(engine)
                return engine
            } catch {
                logger.warning("\(model) is not served: its installation\(place) did not load: \(error)")
                return nil
            }
        }
        var voices = voices
        if let hibari, let registry = try? HibariVoiceFolder.registry(assets: hibari.assetsDirectory) {
            voices?.otherEnginesFiles = HibariVoiceFolder.fileNames(in: registry)
        }
        var piperEngine: PiperEngine?
        if let piper {
            piperEngine = await add("local/piper", installedIn: " in \(piper.directory)") {
                try await PiperEngine.start(
                    installation: piper, espeak: espeak, scheduler: scheduler, folder: voices, logger: logger)
            }
        } else {
            let hint = "scripts/install-piper makes .piper/; SPEECHROUTER_PIPER_DIR or piper_directory names another"
            logger.warning("local/piper is not served: no complete Piper installation found (\(hint))")
        }
        var hibariEngine: HibariEngine?
        if let hibari {
            hibariEngine = await add("local/hibari", installedIn: "") {
                try await HibariEngine.start(
                    installation: hibari, folder: voices.map { HibariVoiceFolder(directory: $0.directory) }, espeak: espeak,
                    scheduler: scheduler, logger: logger)
            }
        } else {
            logger.warning("local/hibari is not served: no hibari installation found (scripts/install-hibari makes .hibari/)")
        }
        return LocalEngines(engines: engines, scheduler: scheduler, piper: piperEngine, hibari: hibariEngine)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await scheduler.shutdownGracefully()
    }
}
