import Foundation

/// Turns text into the phoneme ids hibari reads, in the alphabet hibari learned from Kokoro
/// (misaki's), cut into pieces of at most `maximumPhonemes` at sentence ends and, inside longer
/// sentences, at clauses and words.
///
/// With hibari's G2P data (`g2p`), as hibari itself does: its sentences, each read by its own
/// G2P (normalization, lexicon, tagger), and the words its lexicon does not have read by its
/// OOV model (`oov`), or, when that is missing or fails, by eSpeak NG, each word on its own,
/// rewritten into Kokoro's alphabet. Without the G2P data, eSpeak NG reads every clause (in the
/// voice's accent, multi-letter phonemes tied) and its IPA is rewritten the same way ("a^ɪ" is
/// "I", "t^ʃ" is "ʧ", an American flap is "T", a British "ə^ʊ" is "Q"), clause punctuation kept.
///
/// The G2P's work (text analysis, lexicon, tagger, OOV model) runs on `scheduler`'s synthesis
/// threads, with the deadline of the piece it is for: on the threads that answer requests, a
/// hundred streams starting at once had their first pieces phonemized ahead of a `/health`.
/// Without a scheduler (tests) it runs on the caller's thread.
struct HibariPhonemizer: Sendable {
    let espeak: EspeakEngine
    let vocabulary: [Unicode.Scalar: Int64]
    /// The English eSpeak NG reads in (`HibariAccent.espeakVoice`) and whose symbols its IPA
    /// becomes: a British voice's unknown words read as British English.
    let accent: HibariAccent
    var g2p: HibariG2P?
    var oov: HibariOOV?
    var scheduler: SynthesisScheduler?

    /// hibari cuts sentences longer than this at clause punctuation (`MAX_PHONEMES` in tts.py).
    static let maximumPhonemes = 400
    static let tie: Unicode.Scalar = "^"
    /// Where hibari cuts a sentence's phonemes into clauses (`_CLAUSE` in tts.py).
    static let clauseBreak = TextPattern(#"(?<=[,;:—])\s+"#)

    /// Reads hibari's vocab.json: one phoneme (a single code point) → id.
    static func vocabulary(contentsOf path: String) throws -> [Unicode.Scalar: Int64] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let entries = try JSONDecoder().decode([String: Int64].self, from: data)
        var vocabulary: [Unicode.Scalar: Int64] = [:]
        for (key, id) in entries {
            let scalars = Array(key.unicodeScalars)
            if scalars.count == 1 { vocabulary[scalars[0]] = id }
        }
        return vocabulary
    }

    /// The model's input for each piece of `text`: ids with the 0 pad at both ends. Empty when
    /// nothing in the text can be read.
    func pieces(in text: String) async throws -> [[Int64]] {
        let spoken = if let g2p { try await clauses(in: text, g2p: g2p) } else { try await espeakClauses(in: text) }
        return Self.pieces(spoken).map { piece in [0] + piece.compactMap { vocabulary[$0] } + [0] }
    }

    /// The phonemes of each clause of `text` by hibari's G2P, and whether it ends a sentence.
    func clauses(in text: String, g2p: HibariG2P) async throws -> [(phonemes: [Unicode.Scalar], endsSentence: Bool)] {
        let (sentences, known, unread) = try await onSynthesisThread { [self] in
            let sentences = g2p.sentences(in: EspeakEngine.cleaned(text))
            let (known, unread) = modelReadings(sentences.flatMap(g2p.unknownWords))
            return (sentences, known, unread)
        }
        let readings = known.merging(try await espeakReadings(unread)) { model, _ in model }
        return try await onSynthesisThread { [vocabulary] in
            var spoken: [(phonemes: [Unicode.Scalar], endsSentence: Bool)] = []
            for sentence in sentences {
                let phonemes = g2p.phonemes(of: sentence) { readings[$0] }
                for part in Self.clauseBreak.split(phonemes) {
                    let scalars = Self.collapsingSpaces(part.unicodeScalars.filter { $0 == " " || vocabulary[$0] != nil })
                    if !scalars.isEmpty { spoken.append((scalars, false)) }
                }
                if !spoken.isEmpty { spoken[spoken.count - 1].endsSentence = true }
            }
            return spoken
        }
    }

    /// Runs `work` on the synthesis threads, or here without a scheduler.
    private func onSynthesisThread<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws
        -> Result
    {
        if let scheduler { return try await scheduler.run(work) }
        return try work()
    }

    /// The reading of each word by the OOV model, or by eSpeak NG (in Kokoro's alphabet) where
    /// there is no model or it fails. A word none of whose letters the model knows has none,
    /// as in hibari.
    func unknownWordReadings(_ words: [String]) async throws -> [String: String] {
        let (known, unread) = modelReadings(words)
        return known.merging(try await espeakReadings(unread)) { model, _ in model }
    }

    /// The OOV model's reading of each of `words` it reads (blocking work), and the words left
    /// for eSpeak NG: all of them without a model, and those the model failed on.
    private func modelReadings(_ words: [String]) -> (readings: [String: String], unread: [String]) {
        var seen = Set<String>()
        var readings: [String: String] = [:]
        var unread: [String] = []
        for word in words where seen.insert(word).inserted {
            if let oov {
                do {
                    if let phonemes = try oov.phonemes(of: word) { readings[word] = phonemes }
                    continue
                } catch {
                    // Read by eSpeak NG.
                }
            }
            unread.append(word)
        }
        return (readings, unread)
    }

    /// eSpeak NG's reading of each of `words`, in Kokoro's alphabet.
    private func espeakReadings(_ words: [String]) async throws -> [String: String] {
        guard !words.isEmpty else { return [:] }
        let ipa = try await espeak.phonemize(words, voice: accent.espeakVoice, tie: Self.tie)
        var readings: [String: String] = [:]
        for (word, phonemes) in zip(words, ipa) {
            readings[word] = String(String.UnicodeScalarView(Self.kokoro(fromEspeak: phonemes, accent: accent)))
        }
        return readings
    }

    /// The phonemes of each clause of `text` by eSpeak NG, and whether it ends a sentence.
    func espeakClauses(in text: String) async throws -> [(phonemes: [Unicode.Scalar], endsSentence: Bool)] {
        let clauses = PiperPhonemizer.clauses(in: text)
        guard !clauses.isEmpty else { return [] }
        let phonemes = try await espeak.phonemize(clauses.map(\.text), voice: accent.espeakVoice, tie: Self.tie)
        var spoken: [(phonemes: [Unicode.Scalar], endsSentence: Bool)] = []
        for (clause, ipa) in zip(clauses, phonemes) {
            let words = Self.kokoro(fromEspeak: ipa, accent: accent).filter { $0 == " " || vocabulary[$0] != nil }
            var scalars = Self.collapsingSpaces(words)
            guard !scalars.isEmpty else { continue }
            if let mark = clause.terminator?.unicodeScalars.first, vocabulary[mark] != nil {
                scalars.append(mark)
            }
            spoken.append((scalars, clause.terminator.map(PiperPhonemizer.sentenceEnds.contains) ?? false))
        }
        return spoken
    }

    /// Joins clauses into sentences with a space between them, then cuts every sentence longer
    /// than `limit` at clause boundaries, and any clause still longer at spaces (or anywhere, for
    /// one endless word), as hibari does at clause punctuation.
    static func pieces(_ clauses: [(phonemes: [Unicode.Scalar], endsSentence: Bool)], limit: Int = maximumPhonemes)
        -> [[Unicode.Scalar]]
    {
        var sentences: [[[Unicode.Scalar]]] = [[]]
        for clause in clauses {
            sentences[sentences.count - 1].append(clause.phonemes)
            if clause.endsSentence { sentences.append([]) }
        }
        var pieces: [[Unicode.Scalar]] = []
        for sentence in sentences where !sentence.isEmpty {
            var current: [Unicode.Scalar] = []
            for part in sentence.flatMap({ cut($0, limit: limit) }) {
                if !current.isEmpty && current.count + 1 + part.count > limit {
                    pieces.append(current)
                    current = []
                }
                current += current.isEmpty ? part : [" "] + part
            }
            if !current.isEmpty { pieces.append(current) }
        }
        return pieces
    }

    /// `phonemes` in parts of at most `limit`, cut after the last space that fits, or at `limit`.
    static func cut(_ phonemes: [Unicode.Scalar], limit: Int) -> [[Unicode.Scalar]] {
        var parts: [[Unicode.Scalar]] = []
        var rest = phonemes[...]
        while rest.count > limit {
            let window = rest.prefix(limit + 1)
            let end = window.lastIndex(of: " ").flatMap { $0 > rest.startIndex ? $0 : nil } ?? rest.startIndex + limit
            parts.append(Array(rest[..<end]))
            rest = rest[end...].drop(while: { $0 == " " })
        }
        if !rest.isEmpty { parts.append(Array(rest)) }
        return parts
    }

    /// eSpeak NG's IPA → misaki's alphabet, as misaki's eSpeak fallback rewrites it for
    /// `accent` (longest patterns first; then syllabic consonants get a schwa before them, and
    /// leftover ties go).
    static func kokoro(fromEspeak ipa: String, accent: HibariAccent) -> [Unicode.Scalar] {
        var scalars = Array(ipa.replacing(/\([^)]+\)/, with: "").unicodeScalars)
        for (pattern, replacement) in rewrites(for: accent) {
            scalars = replacing(pattern, with: replacement, in: scalars)
        }
        // A syllabic mark (U+0329) after a consonant: "n̩" → "ᵊn".
        var result: [Unicode.Scalar] = []
        for scalar in scalars {
            if scalar == "\u{0329}" {
                if let last = result.popLast() { result += ["ᵊ", last] }
            } else {
                result.append(scalar)
            }
        }
        return result.map { $0 == "o" ? "ɔ" : $0 }.filter { $0 != tie }
    }

    /// Pattern → replacement for each accent, longest pattern first. Both accents share most;
    /// American English then loses the length mark (misaki's American alphabet has none) and
    /// writes "oʊ" as "O", British keeps it and writes "əʊ" as "Q", "eə" as "ɛː" (before "e"
    /// becomes "A", which misaki's own order would do first and so never match) and "iə", which
    /// eSpeak NG ties, as "ɪə".
    static func rewrites(for accent: HibariAccent) -> [([Unicode.Scalar], [Unicode.Scalar])] {
        switch accent {
        case .american: americanRewrites
        case .british: britishRewrites
        }
    }

    private static let sharedRewrites: [(String, String)] = [
        ("ʔˌn\u{0329}", "tᵊn"), ("ʔn\u{0329}", "tᵊn"), ("ʔn", "tᵊn"), ("ʔ", "t"),
        ("a^ɪ", "I"), ("a^ʊ", "W"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"), ("ə^l", "ᵊl"),
        ("e", "A"), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɐ", "ə"), ("ɚ", "əɹ"), ("ɬ", "l"), ("ʲ", ""), ("ɾ", "T"),
    ]
    private static let americanRewrites = longestFirst(
        sharedRewrites + [("o^ʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", "")])
    private static let britishRewrites = longestFirst(
        sharedRewrites + [("e^ə", "ɛː"), ("ə^ʊ", "Q"), ("i^ə", "ɪə"), ("iə", "ɪə")])

    private static func longestFirst(_ patterns: [(String, String)]) -> [([Unicode.Scalar], [Unicode.Scalar])] {
        patterns.map { (Array($0.0.unicodeScalars), Array($0.1.unicodeScalars)) }.sorted { $0.0.count > $1.0.count }
    }

    private static func replacing(
        _ pattern: [Unicode.Scalar], with replacement: [Unicode.Scalar], in scalars: [Unicode.Scalar]
    )
        -> [Unicode.Scalar]
    {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        var index = 0
        while index < scalars.count {
            if scalars[index] == pattern[0], index + pattern.count <= scalars.count,
                scalars[index..<index + pattern.count].elementsEqual(pattern)
            {
                result += replacement
                index += pattern.count
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return result
    }

    private static func collapsingSpaces(_ scalars: some Sequence<Unicode.Scalar>) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        for scalar in scalars where !(scalar == " " && (result.isEmpty || result.last == " ")) {
            result.append(scalar)
        }
        if result.last == " " { result.removeLast() }
        return result
    }
}
