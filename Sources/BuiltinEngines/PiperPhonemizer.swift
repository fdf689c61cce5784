import Foundation

/// Turns text into the phonemes a Piper voice reads, as Piper itself does: eSpeak NG reads one
/// clause at a time in IPA, in the voice's eSpeak NG voice, and each clause keeps its final
/// punctuation mark, from which the model learned its pauses and intonation.
struct PiperPhonemizer: Sendable {
    let espeak: EspeakEngine
    let voice: PiperVoice

    /// One clause of a piece: its words, and the punctuation mark that ends it, if any.
    struct Clause: Equatable {
        var text: String
        var terminator: Character?
    }

    /// The phonemes of `text`, one code point array per sentence, only code points the voice
    /// knows; empty when nothing in the text can be spoken (punctuation alone, scripts eSpeak NG
    /// cannot read).
    func sentences(in text: String) async throws -> [[Unicode.Scalar]] {
        let clauses = Self.clauses(in: text)
        guard !clauses.isEmpty else { return [] }
        let phonemes = try await espeak.phonemize(clauses.map(\.text), voice: voice.espeakVoice)
        return Self.sentences(clauses, phonemes: phonemes, known: voice.phonemeIDs)
    }

    /// Cuts `text` after each run of clause punctuation that is followed by a space or the end,
    /// so "3.50" and "1,000" stay whole, and after every full-width mark (scripts that write
    /// them put no space after them). Full-width and typographic marks count as their ASCII
    /// peers, since those are what the model knows.
    static func clauses(in text: String) -> [Clause] {
        var clauses: [Clause] = []
        var current = ""
        // The run of punctuation just read, and the mark it ends its clause with.
        var run = ""
        var terminator: Character?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if let mark = terminators[character] {
                run.append(character)
                terminator = mark
                if next == text.endIndex || text[next].isWhitespace || fullWidth.contains(character) {
                    clauses.append(Clause(text: current, terminator: terminator))
                    (current, run, terminator) = ("", "", nil)
                }
            } else {
                // Punctuation inside a word ("3.50") is part of the text after all.
                current += run + String(character)
                (run, terminator) = ("", nil)
            }
            index = next
        }
        clauses.append(Clause(text: current + run, terminator: nil))
        return clauses.filter { !$0.text.allSatisfy(\.isWhitespace) }
    }

    /// Puts clauses together as Piper does: each clause's phonemes in canonical decomposition,
    /// without eSpeak NG's language-switch marks ("(fr)"), then its terminator; a space follows
    /// ",", ":" and ";", while ".", "?" and "!" end a sentence. Code points the voice has no id
    /// for are dropped, and so are clauses left with no phonemes.
    static func sentences(_ clauses: [Clause], phonemes: [String], known: [Unicode.Scalar: Int]) -> [[Unicode.Scalar]] {
        var sentences: [[Unicode.Scalar]] = []
        var sentence: [Unicode.Scalar] = []
        for (clause, clausePhonemes) in zip(clauses, phonemes) {
            let cleaned = clausePhonemes.replacing(/\([^)]+\)/, with: "").decomposedStringWithCanonicalMapping
            let words = String(String.UnicodeScalarView(cleaned.unicodeScalars.filter { known[$0] != nil }))
                .split(whereSeparator: \.isWhitespace)
            guard !words.isEmpty else { continue }
            if let last = sentence.last, last != " " { sentence.append(" ") }
            sentence.append(contentsOf: words.joined(separator: " ").unicodeScalars)
            guard let mark = clause.terminator, let scalar = mark.unicodeScalars.first, known[scalar] != nil else {
                continue
            }
            sentence.append(scalar)
            if sentenceEnds.contains(mark) {
                sentences.append(sentence)
                sentence = []
            } else {
                sentence.append(" ")
            }
        }
        if !sentence.isEmpty { sentences.append(sentence) }
        return sentences
    }

    static let terminators: [Character: Character] = [
        ".": ".", ",": ",", "!": "!", "?": "?", ";": ";", ":": ":", "…": ".", "。": ".", "！": "!",
        "？": "?", "，": ",", "、": ",", "；": ";", "：": ":", "—": ",", "–": ",",
    ]
    static let sentenceEnds: Set<Character> = [".", "?", "!"]
    static let fullWidth: Set<Character> = ["。", "！", "？", "，", "、", "；", "："]
}
