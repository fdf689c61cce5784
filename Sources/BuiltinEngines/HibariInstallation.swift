public import Foundation

/// Where `scripts/install-hibari` put hibari's model (a `.hibari` directory holding the
/// `hibari-tts` package) and where the ONNX Runtime library to run it is (the one
/// `scripts/install-piper` installs with sherpa-onnx in `.piper`).
public struct HibariInstallation: Sendable, Equatable {
    public var directory: String
    public var runtimeLibraryPath: String

    public init(directory: String, runtimeLibraryPath: String) {
        self.directory = directory
        self.runtimeLibraryPath = runtimeLibraryPath
    }

    public var assetsDirectory: String { directory + "/hibari/assets" }
    public var modelPath: String { assetsDirectory + "/hibari.onnx" }
    public var vocabularyPath: String { assetsDirectory + "/vocab.json" }
    /// hibari's reader of words its `accent`'s lexicon does not have (with its tables beside it).
    public func oovModelPath(for accent: HibariAccent) -> String { assetsDirectory + "/" + accent.oovModel }

    /// Whether the model, its vocabulary and the library are there.
    public var isComplete: Bool {
        [modelPath, vocabularyPath, runtimeLibraryPath].allSatisfy(FileManager.default.fileExists(atPath:))
    }

    /// The model from `SPEECHROUTER_HIBARI_DIR`, or else `.hibari` in the working directory or in
    /// the nearest ancestor of the executable's directory that has one; ONNX Runtime from
    /// `SPEECHROUTER_ONNXRUNTIME_LIBRARY`, or else `.piper/sherpa_onnx/lib/libonnxruntime.so` in
    /// the same places. Nil when either is missing.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = Bundle.main.executablePath
    ) -> HibariInstallation? {
        let search = InstallationSearchPath(currentDirectory: currentDirectory, executablePath: executablePath)
        func setting(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let library =
            setting("SPEECHROUTER_ONNXRUNTIME_LIBRARY")
            ?? search.candidates(".piper/sherpa_onnx/lib/libonnxruntime.so").first(
                where: FileManager.default.fileExists(atPath:))
        guard let library else { return nil }
        let directories = setting("SPEECHROUTER_HIBARI_DIR").map { [$0] } ?? search.candidates(".hibari")
        return directories.lazy.map { HibariInstallation(directory: $0, runtimeLibraryPath: library) }
            .first(where: \.isComplete)
    }
}
