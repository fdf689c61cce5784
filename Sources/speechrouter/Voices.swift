import ArgumentParser
import BuiltinEngines
import Foundation
import SpeechServer

struct Voices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The voices local/piper and local/hibari serve.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the packaged Piper voice and the Piper and hibari voices in the voices folder: name, language, sample rate, speakers, file; then the files skipped and why.")

        @Option(help: "The JSON configuration file serve reads (for piper_directory and voices_directory).")
        var config: String?
        @OptionGroup var data: DataDirectory
        @OptionGroup var voices: VoicesFolderOption

        func run() async throws {
            let configuration = try config.map(GatewayConfiguration.load(path:)) ?? GatewayConfiguration()
            var folder = voices.folder(configured: configuration.voicesDirectory, data: data)
            let hibari = HibariInstallation.locate()
            let registry = try hibari.map { try HibariVoiceFolder.registry(assets: $0.assetsDirectory) }
            let hibariScan = registry.map { HibariVoiceFolder(directory: folder.directory).scan(registry: $0) }
            folder.otherEnginesFiles = registry.map(HibariVoiceFolder.fileNames(in:)) ?? []
            let scan = folder.scan()
            var rows: [[String]] = [["NAME", "LANGUAGE", "RATE", "SPEAKERS", "FILE"]]
            if let installation = PiperInstallation.locate(configured: configuration.piperDirectory) {
                let packaged = try PiperVoice(modelPath: installation.modelPath)
                rows.append(Self.row(name: "joe", packaged))
            } else {
                print("local/piper is not installed (scripts/install-piper makes .piper/)")
            }
            rows += scan.voices.map { Self.row(name: $0.name, $0.voice) }
            rows += (hibariScan?.voices ?? []).map {
                let accent = $0.accent == .british ? "en-gb (hibari, British)" : "en-us (hibari, American)"
                return [$0.name, accent, "24000 Hz", "1", $0.modelPath]
            }
            print(TextColumns.render(rows))
            print("voices folder: \(folder.directory)")
            for skipped in scan.skipped + (hibariScan?.skipped ?? []) {
                print("skipped \(skipped.file): \(skipped.reason)")
            }
        }

        static func row(name: String, _ voice: PiperVoice) -> [String] {
            let names = voice.names(as: name).map(\.name)
            let speakers = voice.speakerCount == 1 ? "1" : "\(voice.speakerCount): " + names.joined(separator: ", ")
            return [
                name, "\(voice.espeakVoice) (\(voice.languageName))", "\(voice.sampleRate) Hz", speakers, voice.modelPath,
            ]
        }
    }
}
