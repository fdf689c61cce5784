import BuiltinEngines
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the voices folder for `local/piper` and `local/hibari` at each `SIGHUP`, until
/// graceful shutdown. Streams in flight keep the voices they started with.
struct VoiceReload: Service {
    let piper: PiperEngine?
    let hibari: HibariEngine?
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the voices folder")
            await piper?.reload(logger: logger)
            await hibari?.reload(logger: logger)
        }
    }
}
