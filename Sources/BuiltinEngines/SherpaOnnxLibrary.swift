import CSherpaOnnx
import SpeechCore

/// sherpa-onnx's C API library (`libsherpa-onnx-c-api.so` from PyPI's sherpa-onnx-core), loaded
/// at run time, and the functions of it that `SherpaTts` calls.
///
/// The library finds its ONNX Runtime (`libonnxruntime.so`, in the same directory) by itself:
/// both carry an `$ORIGIN` rpath, so opening it by its full path is enough.
struct SherpaOnnxLibrary: Sendable {
    /// The only version whose structs `CSherpaOnnx/shim.h` declares; their layout changes
    /// between releases, so any other version is refused rather than called with wrong structs.
    static let version = "2.0.1"

    let library: DynamicLibrary
    let createOfflineTts: SherpaOnnxCreateOfflineTtsFunction
    let destroyOfflineTts: SherpaOnnxDestroyOfflineTtsFunction
    let offlineTtsSampleRate: SherpaOnnxOfflineTtsSampleRateFunction
    let offlineTtsGenerateWithConfig: SherpaOnnxOfflineTtsGenerateWithConfigFunction
    let destroyOfflineTtsGeneratedAudio: SherpaOnnxDestroyOfflineTtsGeneratedAudioFunction

    /// Opens the library at `path` and looks up every function, checking its version first.
    init(path: String) throws {
        let library = try DynamicLibrary(path: path)
        let versionString = try library.symbol("SherpaOnnxGetVersionStr", as: SherpaOnnxGetVersionStrFunction.self)
        let version = versionString().map { String(cString: $0) } ?? "unknown"
        guard version == Self.version else {
            throw SpeechError.engineFailure(
                "\(path) is sherpa-onnx \(version), but local/piper needs \(Self.version) (run scripts/install-piper)")
        }
        self.library = library
        createOfflineTts = try library.symbol("SherpaOnnxCreateOfflineTts")
        destroyOfflineTts = try library.symbol("SherpaOnnxDestroyOfflineTts")
        offlineTtsSampleRate = try library.symbol("SherpaOnnxOfflineTtsSampleRate")
        offlineTtsGenerateWithConfig = try library.symbol("SherpaOnnxOfflineTtsGenerateWithConfig")
        destroyOfflineTtsGeneratedAudio = try library.symbol("SherpaOnnxDestroyOfflineTtsGeneratedAudio")
    }
}
