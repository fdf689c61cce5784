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
    /// Speaker name → speaker id, from `speaker_id_map`; empty for a single-speaker voice.
    public var speakers: [String: Int]
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
        func invalid(_ reason: String) -> SpeechError {
            .engineFailure("Piper voice config \(configPath) is invalid: \(reason)")
        }
        guard Self.sampleRates.contains(config.audio.sampleRate) else {
            throw invalid("audio.sample_rate \(config.audio.sampleRate) is not between 8000 and 192000")
        }
        guard Self.speakerCounts.contains(config.numSpeakers) else {
            throw invalid("num_speakers \(config.numSpeakers) is not between 1 and 10000")
        }
        let scales = [config.inference.noiseScale, config.inference.lengthScale, config.inference.noiseW]
        guard scales.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 100 }) else {
            throw invalid("inference scales must be between 0 and 100")
        }
        // Decoded without the snake-case conversion, which would rename speakers ("en_f1").
        let speakers = (try? JSONDecoder().decode(SpeakerMap.self, from: data).speakerIdMap) ?? [:]
        if let (name, id) = speakers.first(where: { !(0..<config.numSpeakers).contains($0.value) }) {
            throw invalid("speaker \(name)'s id \(id) is not below num_speakers \(config.numSpeakers)")
        }
        guard !config.espeak.voice.isEmpty, config.espeak.voice.count <= 40 else {
            throw invalid("espeak.voice must name an eSpeak NG voice")
        }
        self.modelPath = modelPath
        self.sampleRate = config.audio.sampleRate
        self.speakerCount = config.numSpeakers
        self.speakers = config.numSpeakers > 1 ? speakers : [:]
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

    private struct SpeakerMap: Decodable {
        var speakerIdMap: [String: Int]?

        enum CodingKeys: String, CodingKey {
            case speakerIdMap = "speaker_id_map"
        }
    }

    static let sampleRates = 8_000...192_000
    static let speakerCounts = 1...10_000

    /// The names this voice is served under when its file is `name.onnx`: `name` for one speaker,
    /// `name:SPEAKER` for each speaker of a multi-speaker voice (`name:ID` when its config names
    /// none), with the speaker ids.
    public func names(as name: String) -> [(name: String, speaker: Int)] {
        guard speakerCount > 1 else { return [(name, 0)] }
        let named = speakers.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        guard !named.isEmpty else { return (0..<speakerCount).map { ("\(name):\($0)", $0) } }
        return named.map { ("\(name):\($0.key)", $0.value) }
    }
}
