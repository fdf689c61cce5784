import Foundation
import SpeechCore

/// hibari's own grapheme-to-phoneme step (hibari-tts 0.2.1's g2p package, a port of misaki 0.9.4
/// for American and British English): normalize → tokenize → tag → lexicon with part-of-speech and context
/// rules → a fallback for unknown words → stress resolution. Gives a sentence's phonemes in
/// Kokoro's alphabet, punctuation kept ("Hello there." → "həlˈO ðˈɛɹ.").
///
/// The data (≈ 180 000 dictionary entries, the tagger's 290 000 weights) is read once per
/// process from hibari's assets and shared, read-only, by every request.
struct HibariG2P: Sendable {
    let normalizer: HibariTextNormalizer
    let tokenizer: HibariTokenizer
    let tagger: HibariTagger
    let lexicon: HibariLexicon

    /// Reads hibari's G2P data for `accent` from its `assets` directory (the gzip-compressed
    /// lexicons and tagger through zlib).
    init(assets: String, accent: HibariAccent = .american) throws {
        func json(_ name: String) throws -> Data {
            let path = assets + "/" + name
            return try name.hasSuffix(".gz") ? GzipFile.contents(of: path) : Data(contentsOf: URL(fileURLWithPath: path))
        }
        let decoder = JSONDecoder()
        lexicon = HibariLexicon(
            gold: try decoder.decode([String: HibariLexicon.Entry].self, from: json(accent.goldLexicon)),
            silver: try decoder.decode([String: String].self, from: json(accent.silverLexicon)), accent: accent)
        tokenizer = HibariTokenizer(
            exceptions: try decoder.decode([String: [String]].self, from: json("tokenizer_exceptions.json")))
        tagger = HibariTagger(model: try decoder.decode(HibariTagger.Model.self, from: json("tagger.json.gz")))
        normalizer = HibariTextNormalizer(
            tables: try HibariTextNormalizer.Tables(json: OrderedJSON(parsing: json("normalize.json"))))
    }

    static func malformed(_ file: String, _ part: String) -> SpeechError {
        .engineFailure("hibari's \(file) has no valid \(part)")
    }

    // MARK: Sentences

    static let sentenceEnd = TextPattern(#"(?<=[.!?…])["”’)\]]*\s+(?=\S)"#)
    static let paragraphBreak = TextPattern(#"\n\s*\n|\n"#)

    /// hibari's sentences: paragraphs cut at end punctuation followed by space, except after a
    /// title or an initial ("Dr. Smith", "J. K. Rowling") or before a lower-case word.
    func sentences(in text: String) -> [String] {
        var sentences: [String] = []
        for paragraph in Self.paragraphBreak.split(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            let paragraph = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
            var cut = paragraph.startIndex
            for match in Self.sentenceEnd.matches(in: paragraph) where endsSentence(match) {
                sentences.append(String(paragraph[cut..<match.range.lowerBound]))
                cut = match.range.upperBound
            }
            sentences.append(String(paragraph[cut...]))
        }
        return sentences.filter { !$0.allSatisfy(\.isWhitespace) }
    }

    private func endsSentence(_ match: TextPattern.Match) -> Bool {
        let text = match.text
        if let next = match.next, String(next).isLowercased { return false }
        let before = text[..<match.range.lowerBound]
        guard before.last == "." else { return true }
        let start = before.lastIndex(of: " ").map { text.index(after: $0) } ?? text.startIndex
        let word = String(text[start..<text.index(before: match.range.lowerBound)].drop { "(\"“'‘".contains($0) })
        return !(normalizer.tables.titles[word] != nil || (word.scalarCount == 1 && word.isUppercased))
    }

    // MARK: Phonemes

    /// How unknown words are read: the phonemes of a run of letters, nil for none.
    typealias Fallback = (String) -> String?

    /// The phonemes of one sentence, with `fallback` reading the words the lexicon does not have.
    func phonemes(of sentence: String, fallback: Fallback) -> String {
        let tokens = phonemized(tokens(in: normalizer.normalize(sentence)), fallback: fallback)
        return tokens.map { ($0.phonemes ?? "") + ($0.spaceAfter ? " " : "") }.joined()
            .trimmingCharacters(in: .whitespaces)
    }

    /// The runs of letters in `sentence` that the lexicon does not have, which `phonemes(of:)`
    /// would give to its fallback.
    func unknownWords(in sentence: String) -> [String] {
        var words: [String] = []
        _ = phonemes(of: sentence) { word in
            words.append(word)
            return nil
        }
        return words
    }

    /// The tagged tokens of `text`, where `[word](/phonemes/)` is one token read as `phonemes`
    /// (hibari's markup; a link of another form is one token read as usual).
    private func tokens(in text: String) -> [HibariToken] {
        var tokens: [HibariToken] = []
        var rest = text.startIndex
        for link in TextLink.links(in: text) {
            tokens += taggedTokens(in: String(text[rest..<link.whole.lowerBound]))
            let target = text[link.target]
            let phonemes =
                target.count > 1 && target.first == "/" && target.last == "/"
                ? String(target.dropFirst().reversed().drop { $0 == "/" }.reversed()) : nil
            let spaceAfter = link.whole.upperBound < text.endIndex && text[link.whole.upperBound].isWhitespace
            tokens.append(
                HibariToken(text: String(text[link.text]), tag: "NN", spaceAfter: spaceAfter, phonemes: phonemes, rating: 5))
            rest = link.whole.upperBound
        }
        return tokens + taggedTokens(in: String(text[rest...]))
    }

    private func taggedTokens(in text: String) -> [HibariToken] {
        let pieces = tokenizer.tokens(in: text)
        let tags = tagger.tags(of: pieces.map(\.text))
        return zip(pieces, tags).map { HibariToken(text: $0.text, tag: $1, spaceAfter: $0.spaceAfter) }
    }


    static let subtoken = TextPattern(
        #"^['‘’]+|[A-ZÀ-ÖØ-Þ](?=[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ])|(?:^-)?(?:\d?[,.]?\d)+|[-_]+|['‘’]{2,}"#
            + #"|[^\W\d_]*?(?:['‘’][^\W\d_])*?[a-zß-öø-ÿ](?=[A-ZÀ-ÖØ-Þ])|[^\W\d_]+(?:['‘’][^\W\d_])*"#
            + #"|[^\w\-'‘’]|['‘’]+$"#)
    static let subtokenJunk = Set("',-._‘’/".unicodeScalars)
    static let punctuation = Set(";:,.!?—…\"“”".unicodeScalars)
    static let nonQuotePunctuation = Set(";:,.!?—…".unicodeScalars)
    static let punctuationTags: Set<String> = [".", ",", "-LRB-", "-RRB-", "``", "\"\"", "''", ":", "$", "#", "NFP"]
    static let punctuationTagPhonemes = ["-LRB-": "(", "-RRB-": ")", "``": "\u{201C}", "\"\"": "\u{201D}", "''": "\u{201D}"]
    static let fallbackPiece = TextPattern(#"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[,.]\d+)*|[^\w\s]+"#)
    static let symbolPhonemes = [
        "/": "slˈæʃ", "=": "ˈikwᵊlz", "+": "plˈʌs", "&": "ænd", "@": "æt", "%": "pəɹsˈɛnt", "#": "hˈæʃ",
        "*": "ˈæstəɹˌɪsk", "~": "tˈɪldə", "^": "kˈɛɹət", "<": "lˈɛs ðən", ">": "ɡɹˈATəɹ ðən", "|": "", "—": "—",
    ]

    /// A word of the sentence: one token, or the tokens of one written word ("don't", "$5.50").
    private struct Word {
        var tokens: [HibariToken]
        var isGroup: Bool
    }

    /// misaki's `retokenize`: tokens split into subtokens, currency symbols, dashes and
    /// punctuation given their phonemes, and subtokens of one written word grouped.
    private func words(_ tokens: [HibariToken]) -> [Word] {
        var words: [Word] = []
        var currency: String?
        for (i, token) in tokens.enumerated() {
            var parts: [HibariToken] = [token]
            if token.alias == nil && token.phonemes == nil {
                let found = Self.subtoken.matches(in: token.text).map(\.value)
                if !found.isEmpty {
                    parts = found.map {
                        var part = token
                        (part.text, part.spaceAfter, part.isHead, part.prespace) = ($0, false, true, false)
                        return part
                    }
                }
            }
            parts[parts.count - 1].spaceAfter = token.spaceAfter
            for j in parts.indices {
                var part = parts[j]
                if part.alias != nil || part.phonemes != nil {
                } else if part.tag == "$" && HibariLexicon.currencies[part.text] != nil {
                    currency = part.text
                    (part.phonemes, part.rating) = ("", 4)
                } else if part.tag == ":" && (part.text == "-" || part.text == "–") {
                    (part.phonemes, part.rating) = ("—", 3)
                } else if Self.punctuationTags.contains(part.tag) && !part.text.unicodeScalars.allSatisfy({
                    guard let lower = $0.properties.lowercaseMapping.unicodeScalars.first else { return false }
                    return lower.value >= 97 && lower.value <= 122
                }) {
                    part.phonemes =
                        Self.punctuationTagPhonemes[part.tag]
                        ?? String(String.UnicodeScalarView(part.text.unicodeScalars.filter(Self.punctuation.contains)))
                    part.rating = 4
                } else if let symbol = currency {
                    if part.tag != "CD" {
                        currency = nil
                    } else if j + 1 == parts.count && (i + 1 == tokens.count || tokens[i + 1].tag != "CD") {
                        part.currency = symbol
                    }
                } else if 0 < j && j < parts.count - 1 && part.text == "2",
                    let before = parts[j - 1].text.unicodeScalars.last, let after = parts[j + 1].text.unicodeScalars.first,
                    before.isLetter && after.isLetter
                {
                    part.alias = "to"
                }
                parts[j] = part
                if part.alias != nil || part.phonemes != nil {
                    words.append(Word(tokens: [part], isGroup: false))
                } else if let last = words.last, last.isGroup, !(last.tokens.last?.spaceAfter ?? true) {
                    part.isHead = false
                    words[words.count - 1].tokens.append(part)
                } else {
                    words.append(Word(tokens: [part], isGroup: !part.spaceAfter))
                }
            }
        }
        return words.map { $0.isGroup && $0.tokens.count == 1 ? Word(tokens: $0.tokens, isGroup: false) : $0 }
    }

    private static func context(
        after context: HibariLexicon.Context, phonemes: String?, token: HibariToken
    ) -> HibariLexicon.Context {
        var vowel = context.futureVowel
        if let phonemes,
            let first = phonemes.unicodeScalars.first(where: {
                HibariLexicon.vowels.contains($0) || HibariLexicon.consonants.contains($0)
                    || nonQuotePunctuation.contains($0)
            })
        {
            vowel = nonQuotePunctuation.contains(first) ? nil : HibariLexicon.vowels.contains(first)
        }
        let futureTo =
            token.text == "to" || token.text == "To" || (token.text == "TO" && (token.tag == "TO" || token.tag == "IN"))
        return HibariLexicon.Context(futureVowel: vowel, futureTo: futureTo)
    }

    /// misaki's `resolve_tokens`: the subtokens of a word that the lexicon read piece by piece
    /// get their spacing and punctuation, and half of their primary stresses demoted.
    private static func resolve(_ tokens: inout [HibariToken]) {
        let text = tokens.dropLast().map { $0.text + ($0.spaceAfter ? " " : "") }.joined() + (tokens.last?.text ?? "")
        let kinds = Set(
            text.unicodeScalars.filter { !subtokenJunk.contains($0) }.map { $0.isLetter ? 0 : $0.isASCIIDigit ? 1 : 2 })
        let prespace = text.contains(" ") || text.contains("/") || kinds.count > 1
        for i in tokens.indices {
            if tokens[i].phonemes == nil {
                if i == tokens.count - 1, tokens[i].text.unicodeScalars.count == 1,
                    let mark = tokens[i].text.unicodeScalars.first, nonQuotePunctuation.contains(mark)
                {
                    (tokens[i].phonemes, tokens[i].rating) = (tokens[i].text, 3)
                } else if tokens[i].text.unicodeScalars.allSatisfy(subtokenJunk.contains) {
                    (tokens[i].phonemes, tokens[i].rating) = ("", 3)
                }
            } else if i > 0 {
                tokens[i].prespace = prespace
            }
        }
        guard !prespace else { return }
        let stressed = tokens.indices.compactMap { i -> (primary: Bool, weight: Int, index: Int)? in
            guard let phonemes = tokens[i].phonemes, !phonemes.isEmpty else { return nil }
            return (phonemes.unicodeScalars.contains(HibariLexicon.primaryStress), HibariLexicon.stressWeight(phonemes), i)
        }
        if stressed.count == 2 && tokens[stressed[0].index].text.scalarCount == 1 {
            let i = stressed[1].index
            tokens[i].phonemes = tokens[i].phonemes.map { HibariLexicon.applyStress($0, -0.5) }
            return
        }
        guard stressed.count >= 2, stressed.filter(\.primary).count > (stressed.count + 1) / 2 else { return }
        let ordered = stressed.sorted { ($0.primary ? 1 : 0, $0.weight, $0.index) < ($1.primary ? 1 : 0, $1.weight, $1.index) }
        for entry in ordered.prefix(stressed.count / 2) {
            tokens[entry.index].phonemes = tokens[entry.index].phonemes.map { HibariLexicon.applyStress($0, -0.5) }
        }
    }

    /// An unknown word: runs of letters to `fallback`, digit runs to the number reader, symbols
    /// to a small table.
    private func fallbackPhonemes(_ token: HibariToken, _ fallback: Fallback) -> (String, Int) {
        var parts: [String] = []
        for match in Self.fallbackPiece.matches(in: token.text) {
            let piece = match.value
            guard let first = piece.unicodeScalars.first else { continue }
            let phonemes: String? =
                if first.isDigit {
                    lexicon.number(piece, currency: nil, isHead: false)?.0
                } else if first.isLetter {
                    fallback(piece)
                } else {
                    piece.map { Self.symbolPhonemes[String($0)] ?? "" }.joined()
                }
            if let phonemes, !phonemes.isEmpty { parts.append(phonemes) }
        }
        return parts.isEmpty ? ("", 3) : (parts.joined(separator: " "), 2)
    }

    /// misaki's G2P call: every word read from the end of the sentence back, each in the
    /// context of what follows it; the words of one written word as long a run as the lexicon
    /// knows, else through the fallback.
    private func phonemized(_ tokens: [HibariToken], fallback: Fallback) -> [HibariToken] {
        var words = words(tokens)
        var context = HibariLexicon.Context()
        for w in words.indices.reversed() {
            if !words[w].isGroup {
                var token = words[w].tokens[0]
                if token.phonemes == nil, let (phonemes, rating) = lexicon.phonemes(of: token, context: context) {
                    (token.phonemes, token.rating) = (phonemes, rating)
                }
                if token.phonemes == nil { (token.phonemes, token.rating) = fallbackPhonemes(token, fallback) }
                context = Self.context(after: context, phonemes: token.phonemes, token: token)
                words[w].tokens[0] = token
                continue
            }
            var group = words[w].tokens
            var (left, right) = (0, group.count)
            var shouldFallBack = false
            while left < right {
                let span = group[left..<right]
                let merged = span.contains { $0.alias != nil || $0.phonemes != nil } ? nil : HibariToken.merged(span)
                if let merged, let (phonemes, rating) = lexicon.phonemes(of: merged, context: context) {
                    (group[left].phonemes, group[left].rating) = (phonemes, rating)
                    for k in (left + 1)..<right { (group[k].phonemes, group[k].rating) = ("", rating) }
                    context = Self.context(after: context, phonemes: phonemes, token: merged)
                    (right, left) = (left, 0)
                } else if left + 1 < right {
                    left += 1
                } else {
                    right -= 1
                    if group[right].phonemes == nil {
                        if group[right].text.unicodeScalars.allSatisfy(Self.subtokenJunk.contains) {
                            (group[right].phonemes, group[right].rating) = ("", 3)
                        } else {
                            shouldFallBack = true
                            break
                        }
                    }
                    left = 0
                }
            }
            if shouldFallBack {
                let (phonemes, rating) = fallbackPhonemes(HibariToken.merged(group[...]), fallback)
                (group[0].phonemes, group[0].rating) = (phonemes, rating)
                for k in group.indices.dropFirst() { (group[k].phonemes, group[k].rating) = ("", rating) }
            } else {
                Self.resolve(&group)
            }
            words[w].tokens = group
        }
        return words.map { word in
            var token = word.isGroup ? HibariToken.merged(word.tokens[...], unknown: "") : word.tokens[0]
            token.phonemes = token.phonemes?.replacingOccurrences(of: "ɾ", with: "T").replacingOccurrences(of: "ʔ", with: "t")
            return token
        }
    }
}
