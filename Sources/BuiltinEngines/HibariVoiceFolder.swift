import Foundation
import SpeechCore

/// hibari's other voices (emma, fable, fenrir, kore: whole models of the same shape as heart,
/// which users fetch themselves) found in the voices folder under the file names hibari's
/// registry (its assets' voices.json) gives them, each served by `local/hibari` under its
/// registry name; a British voice reads with the British lexicon.
public struct HibariVoiceFolder: Sendable, Equatable {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// One voice of hibari's registry.
    public struct Entry: Decodable, Sendable, Equatable {
        var file: String
        var british: Bool
        var bundled: Bool?
    }

    /// A voice found in the folder.
    public struct Voice: Sendable, Equatable {
        public var name: String
        public var modelPath: String
        public var accent: HibariAccent
    }

    /// What a scan found: the voices to load, and the files skipped with the reason.
    public struct Scan: Sendable {
        public var voices: [Voice]
        public var skipped: [PiperVoiceFolder.Skipped]
    }

    /// hibari's registry of voices by name, read from its assets' voices.json.
    public static func registry(assets: String) throws -> [String: Entry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: assets + "/voices.json"))
        return try JSONDecoder().decode([String: Entry].self, from: data)
    }

    /// The file names of the registry's voices that do not ship with hibari: the ones this folder
    /// may hold (the Piper scan passes over them).
    public static func fileNames(in registry: [String: Entry]) -> Set<String> {
        Set(registry.values.filter { $0.bundled != true }.map(\.file))
    }

    /// The registry's voices whose files are in the folder, in name order, each checked to be a
    /// whole ONNX file (a half-copied model is skipped with its reason).
    public func scan(registry: [String: Entry]) -> Scan {
        var scan = Scan(voices: [], skipped: [])
        for (name, entry) in registry.sorted(by: { $0.key < $1.key }) where entry.bundled != true {
            let path = directory + "/" + entry.file
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do {
                try PiperVoiceFolder.checkName(name)
                try ONNXFile.checkWhole(at: path)
                scan.voices.append(Voice(name: name, modelPath: path, accent: entry.british ? .british : .american))
            } catch {
                scan.skipped.append(PiperVoiceFolder.Skipped(file: path, reason: PiperVoiceFolder.reason(error)))
            }
        }
        return scan
    }
}
