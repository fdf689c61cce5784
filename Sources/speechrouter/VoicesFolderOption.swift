import ArgumentParser
import BuiltinEngines

/// `--voices-dir`: the folder of Piper voices, before the configuration file's
/// `voices_directory` and the default, `<data dir>/voices`.
struct VoicesFolderOption: ParsableArguments {
    @Option(
        name: .customLong("voices-dir"),
        help: "The folder of Piper voices (NAME.onnx + NAME.onnx.json) served by local/piper (default: the configuration file's voices_directory, else <data dir>/voices).")
    var path: String?

    func validate() throws {
        if path?.isEmpty == true { throw ValidationError("--voices-dir must name a folder") }
    }

    func folder(configured: String?, data: DataDirectory) -> PiperVoiceFolder {
        PiperVoiceFolder(directory: path ?? configured ?? data.resolved + "/voices")
    }
}
