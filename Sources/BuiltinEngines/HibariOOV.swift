import Foundation
import SpeechCore

/// hibari's reader of out-of-vocabulary words (its oov.py): a 0.65M-parameter character
/// transformer (oov.onnx) trained on eSpeak NG's readings of 225 000 words, run by the same ONNX
/// Runtime as the voice. One run per word of at most `maximumLength` letters; its output is
/// CTC-style, one phoneme id per position (repeats collapse, 0 is blank).
///
/// Thread safety: the session allows concurrent runs, and the tables are immutable.
struct HibariOOV: Sendable {
    private let session: OnnxSession
    private let letters: [Unicode.Scalar: Int64]
    private let phonemes: [Int64: String]
    let maximumLength: Int

    private struct Tables: Decodable {
        var `in`: [String]
        var out: [String]
        var maxlen: Int
    }

    /// Loads `model` (oov.onnx) and its tables from the JSON file beside it (oov.json).
    init(runtime: OnnxRuntime, model: String) throws {
        let tablesPath = String(model.dropLast(".onnx".count)) + ".json"
        let tables = try JSONDecoder().decode(Tables.self, from: Data(contentsOf: URL(fileURLWithPath: tablesPath)))
        guard (1...1_000).contains(tables.maxlen) else { throw HibariG2P.malformed("oov.json", "maxlen") }
        var letters: [Unicode.Scalar: Int64] = [:]
        for (index, letter) in tables.in.enumerated() {
            // A letter listed twice takes its last id, as hibari's dictionary does.
            if let scalar = letter.unicodeScalars.first, letter.unicodeScalars.count == 1 {
                letters[scalar] = Int64(index + 1)
            }
        }
        self.letters = letters
        phonemes = Dictionary(
            tables.out.enumerated().map { (Int64($0.offset + 1), $0.element) }, uniquingKeysWith: { first, _ in first })
        maximumLength = tables.maxlen
        session = try runtime.session(modelPath: model, threads: 1)
    }

    /// The phonemes of `word` (Kokoro's alphabet), nil when none of its letters is known to the
    /// model; only its first `maximumLength` known letters are read.
    func phonemes(of word: String) throws -> String? {
        let ids = Array(word.unicodeScalars.compactMap { letters[$0] }.prefix(maximumLength))
        guard !ids.isEmpty else { return nil }
        let output = try session.run([("chars", .int64(ids, shape: [1, ids.count]))], integerOutput: "ids")
        var result = ""
        var previous: Int64 = 0
        for id in output.values {
            if id != previous && id != 0 { result += phonemes[id] ?? "" }
            previous = id
        }
        return result
    }
}
