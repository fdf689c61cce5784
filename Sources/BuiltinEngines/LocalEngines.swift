import Foundation
import NIOCore
import NIOPosix
import SpeechCore

/// The engines that work on a fresh machine with no keys.
public enum LocalEngines {
    /// Starts every built-in engine. Flite's pieces run on a pool with one thread per core;
    /// eSpeak NG gets a thread of its own. Piper joins them when it was compiled in and its
    /// parts are installed (`piper`, found by `PiperInstallation.locate()` by default); it
    /// phonemizes with the same eSpeak NG engine. So does hibari, listed when its model is installed
    /// and it and ONNX Runtime load.
    public static func start(
        piper: PiperInstallation? = .locate(), hibari: HibariInstallation? = .locate()
    ) async throws -> [any SpeechEngine] {
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
        if let hibari {
            do {
                engines.append(try await HibariEngine.start(installation: hibari, espeak: espeak, parallelism: cores))
            } catch {
                FileHandle.standardError.write(Data("local/hibari is not served: \(error)\n".utf8))
            }
        }
        return engines
    }
}
