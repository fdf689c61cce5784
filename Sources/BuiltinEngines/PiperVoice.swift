import Foundation
import SpeechCore

/// A Piper voice: its ONNX model and the `.onnx.json` beside it, which says how to phonemize
/// for it (the eSpeak NG voice and the phoneme ids) and how to run it (rate and noise scales).
public struct PiperVoice: Sendable {
    public var modelPath: String
    public var sampleRate: Int
    public var speakerCount: Int
    /// The eSpeak NG voice the model was trained on (`en-us`).
    public var espeakVoice: String
    public var languageName: String
    public var noiseScale: Float
    public var lengthScale: Float
    public var noiseW: Float
    /// Phoneme (one code point) → model input id.
    public var phonemeIDs: [Unicode.Scalar: Int]

    /// Reads `modelPath` + `.json`.
    public init(modelPath: String) throws {
        let configPath = modelPath + ".json"
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw SpeechError.engineFailure("Piper voice config \(configPath) is missing")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: Config
        do {
            config = try decoder.decode(Config.self, from: data)
        } catch {
            throw SpeechError.engineFailure("Piper voice config \(configPath) is unreadable: \(error)")
        }
        self.modelPath = modelPath
        self.sampleRate = config.audio.sampleRate
        self.speakerCount = config.numSpeakers
        self.espeakVoice = config.espeak.voice
        self.languageName = config.language?.nameEnglish ?? config.espeak.voice
        self.noiseScale = config.inference.noiseScale
        self.lengthScale = config.inference.lengthScale
        self.noiseW = config.inference.noiseW
        var ids: [Unicode.Scalar: Int] = [:]
        for (phoneme, values) in config.phonemeIdMap {
            let scalars = phoneme.unicodeScalars
            guard scalars.count == 1, let id = values.first else { continue }
            ids[scalars.first!] = id
        }
        self.phonemeIDs = ids
    }

    private struct Config: Decodable {
        struct Audio: Decodable { var sampleRate: Int }
        struct Espeak: Decodable { var voice: String }
        struct Inference: Decodable {
            var noiseScale: Float
            var lengthScale: Float
            var noiseW: Float
        }
        struct Language: Decodable { var nameEnglish: String? }
        var audio: Audio
        var espeak: Espeak
        var inference: Inference
        var numSpeakers: Int
        var language: Language?
        var phonemeIdMap: [String: [Int]]
    }

    /// sherpa-onnx's `tokens.txt`: one "phoneme id" line per phoneme.
    public var tokensFile: String {
        phonemeIDs.sorted { $0.value < $1.value }.map { "\(Character($0.key)) \($0.value)\n" }.joined()
    }

    /// The ONNX metadata sherpa-onnx's VITS loader requires before it accepts a Piper model.
    public var sherpaMetadata: KeyValuePairs<String, String> {
        [
            "model_type": "vits", "comment": "piper", "language": languageName, "voice": espeakVoice,
            "has_espeak": "1", "n_speakers": String(speakerCount), "sample_rate": String(sampleRate),
        ]
    }

    /// Writes the model with sherpa-onnx's metadata added, and its tokens file, into
    /// `directory`, unless an earlier call already did; returns their paths.
    ///
    /// Piper's own models carry no ONNX metadata. An ONNX file is one protobuf `ModelProto`, and
    /// protobuf merges repeated fields that appear later in the bytes, so appending
    /// `metadata_props` entries to a copy of the file adds the metadata without an ONNX library.
    public func prepareForSherpa(in directory: String) throws -> (model: String, tokens: String) {
        let name = URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent
        let model = directory + "/\(name).sherpa.onnx"
        let tokens = directory + "/\(name).tokens.txt"
        let metadata = ONNXMetadata.encode(sherpaMetadata)
        let manager = FileManager.default
        let originalSize = try manager.attributesOfItem(atPath: modelPath)[.size] as? Int ?? 0
        let preparedSize = (try? manager.attributesOfItem(atPath: model)[.size] as? Int) ?? nil
        if preparedSize != originalSize + metadata.count {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard var bytes = manager.contents(atPath: modelPath) else {
                throw SpeechError.engineFailure("Piper model \(modelPath) is unreadable")
            }
            bytes.append(contentsOf: metadata)
            try bytes.write(to: URL(fileURLWithPath: model), options: .atomic)
        }
        if manager.contents(atPath: tokens) != Data(tokensFile.utf8) {
            try Data(tokensFile.utf8).write(to: URL(fileURLWithPath: tokens), options: .atomic)
        }
        return (model, tokens)
    }
}

/// Protobuf encoding of ONNX `ModelProto.metadata_props` entries.
enum ONNXMetadata {
    /// `metadata_props` is field 14 of `ModelProto`; each entry is a `StringStringEntryProto`
    /// with `key` as field 1 and `value` as field 2, all length-delimited (wire type 2).
    static func encode(_ entries: KeyValuePairs<String, String>) -> [UInt8] {
        entries.flatMap { key, value in
            lengthDelimited(
                field: 14, lengthDelimited(field: 1, Array(key.utf8)) + lengthDelimited(field: 2, Array(value.utf8)))
        }
    }

    static func lengthDelimited(field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        varint(field << 3 | 2) + varint(UInt64(payload.count)) + payload
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }
}
