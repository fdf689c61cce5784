import BuiltinEngines
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads `local/piper`'s voices folder at each `SIGHUP`, until graceful shutdown. Streams in
/// flight keep the voices they started with.
struct VoiceReload: Service {
    let piper: PiperEngine
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the Piper voices")
            await piper.reload(logger: logger)
        }
    }
}
