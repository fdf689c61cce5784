/// Which of hibari's two readings of English a voice speaks with (the `british` flag of its
/// voices.json): misaki's American dictionaries, rules and OOV model, or its British ones.
public enum HibariAccent: String, Sendable, Hashable, CaseIterable {
    case american = "us"
    case british = "gb"

    var goldLexicon: String { "lexicon_\(rawValue)_gold.json.gz" }
    var silverLexicon: String { "lexicon_\(rawValue)_silver.json.gz" }
    /// The OOV model's file (its tables in the JSON file of the same name beside it).
    var oovModel: String { self == .british ? "oov_gb.onnx" : "oov.onnx" }
    /// The eSpeak NG voice that reads, in this accent, the words hibari's data does not have.
    var espeakVoice: String { self == .british ? "en-gb" : "en-us" }
}
