/// hibari's word tokenizer (its tokenize.py, spaCy's English rules): special cases from
/// tokenizer_exceptions.json ("don't" → "do" "n't", "10am" → "10" "am"), then prefixes and
/// suffixes peeled off each run of non-space, then infixes (hyphens, slashes) splitting what is
/// left, and finally neighbouring pieces that spell a special case joined back ("Sept" "." →
/// "Sept.").
struct HibariTokenizer: Sendable {
    /// A special case's text → its tokens.
    let exceptions: [String: [String]]

    /// A token and whether white space followed it in the text.
    struct Piece: Equatable {
        var text: String
        var spaceAfter: Bool
    }

    static let letter = #"[^\W\d_]"#
    static let lower = "a-zß-öø-ÿ"
    static let upper = "A-ZÀ-ÖØ-Þ"
    static let quotes = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉"
    static let punctuation = "…,:;!?¿¡()[]{}<>_#*&。？！，、；：～·"
    static let icons = "™®©°§¶†‡•"
    static let currency = #"\$|£|€|¥|฿|US\$|C\$|A\$|₽|₹|₩|₪|₺|₴|₦|₫|₱|₲|₵|₸|₼|₾|₿"#
    static let units =
        "km|km²|km³|m|m²|m³|dm|dm²|dm³|cm|cm²|cm³|mm|mm²|mm³|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|oz|m/s|km/h"
        + "|kmh|mph|hPa|Pa|mbar|mb|MB|kb|KB|gb|GB|tb|TB|T|G|M|K|%"

    private static func eachEscaped(_ characters: String) -> [String] {
        characters.map { TextPattern.escaped(String($0)) }
    }
    private static let iconSet = "[\(TextPattern.escaped(icons))]"
    static let prefixPattern: TextPattern = {
        let prefixes =
            ["§", "%", "=", "—", "–", #"\+(?![0-9])"#, "…", "……"] + eachEscaped(punctuation) + [#"\.\.+"#, "…"]
            + eachEscaped(quotes) + [currency, iconSet]
        return TextPattern(prefixes.map { "^(?:\($0))" }.joined(separator: "|"))
    }()
    static let suffixPattern: TextPattern = {
        let (punctuationSet, quoteSet) = (TextPattern.escaped(punctuation), TextPattern.escaped(quotes))
        let suffixes =
            ["…", "……"] + eachEscaped(punctuation) + [#"\.\.+"#, "…"] + eachEscaped(quotes) + [iconSet]
            + ["'s", "'S", "’s", "’S", "—", "–"]
            + [
                #"(?<=[0-9])\+"#, #"(?<=°[FfCcKk])\."#, "(?<=[0-9])(?:\(currency))", "(?<=[0-9])(?:\(units))",
                "(?<=[0-9\(lower)%²\\-\\+\(punctuationSet)\(quoteSet)])\\.", "(?<=[\(upper)][\(upper)])\\.",
            ]
        return TextPattern(suffixes.map { "(?:\($0))$" }.joined(separator: "|"))
    }()
    static let infixPattern: TextPattern = {
        let quoteSet = TextPattern.escaped(quotes)
        let infixes = [
            #"\.\.+"#, "…", iconSet, #"(?<=[0-9])[+\-\*^](?=[0-9-])"#,
            "(?<=[\(lower)\(quoteSet)])\\.(?=[\(upper)\(quoteSet)])", "(?<=\(letter)),(?=\(letter))",
            "(?<=[^\\W_])(?:-|–|—|--|---|——|~)(?=\(letter))", "(?<=[^\\W_])[:<>=/](?=\(letter))",
        ]
        return TextPattern(infixes.map { "(?:\($0))" }.joined(separator: "|"))
    }()
    static let url = TextPattern(
        #"(?i)^(?:(?:https?|ftp)://|www\.)\S+$|^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$"#
            + #"|^(?:[\w-]+\.)+(?:com|org|net|edu|gov|io|co|uk|de|fr|info|biz|us|ca|au|tv|me|ly|ai)(?:/\S*)?$"#)
    static let nonSpace = TextPattern(#"\S+"#)

    func tokens(in text: String) -> [Piece] {
        var pieces: [Piece] = []
        for match in Self.nonSpace.matches(in: text) {
            let parts = split(match.value)
            pieces += parts.dropLast().map { Piece(text: $0, spaceAfter: false) }
            if let last = parts.last { pieces.append(Piece(text: last, spaceAfter: !match.isAtEnd)) }
        }
        return pieces
    }

    func split(_ chunk: String) -> [String] {
        if let special = exceptions[chunk] { return special }
        var text = chunk
        var (prefixes, suffixes): ([String], [String]) = ([], [])
        var lastLength = -1
        while !text.isEmpty && text.utf8.count != lastLength && exceptions[text] == nil {
            lastLength = text.utf8.count
            let prefix = Self.prefixPattern.firstMatch(in: text).map { String(text[..<$0.range.upperBound]) } ?? ""
            let withoutPrefix = String(text.unicodeScalars.dropFirst(prefix.unicodeScalars.count))
            if !prefix.isEmpty, !withoutPrefix.isEmpty, exceptions[withoutPrefix] != nil {
                text = withoutPrefix
                prefixes.append(prefix)
                break
            }
            // The suffix is looked for in the text after the prefix, as a string of its own.
            let suffix = Self.suffixPattern.firstMatch(in: withoutPrefix)?.value ?? ""
            let withoutSuffix = String(text.unicodeScalars.dropLast(suffix.unicodeScalars.count))
            if !suffix.isEmpty, !withoutSuffix.isEmpty, exceptions[withoutSuffix] != nil {
                text = withoutSuffix
                suffixes.append(suffix)
                break
            }
            if !prefix.isEmpty && !suffix.isEmpty && prefix.utf8.count + suffix.utf8.count <= text.utf8.count {
                text = String(withoutPrefix.unicodeScalars.dropLast(suffix.unicodeScalars.count))
                prefixes.append(prefix)
                suffixes.append(suffix)
            } else if !prefix.isEmpty {
                text = withoutPrefix
                prefixes.append(prefix)
            } else if !suffix.isEmpty {
                text = withoutSuffix
                suffixes.append(suffix)
            }
        }
        var tokens = prefixes
        if !text.isEmpty {
            if let special = exceptions[text] {
                tokens += special
            } else if Self.url.matches(text) {
                tokens.append(text)
            } else {
                var start = text.startIndex
                for match in Self.infixPattern.matches(in: text)
                where match.range.lowerBound != text.startIndex && !match.range.isEmpty {
                    if match.range.lowerBound > start { tokens.append(String(text[start..<match.range.lowerBound])) }
                    tokens.append(match.value)
                    start = match.range.upperBound
                }
                if start < text.endIndex { tokens.append(String(text[start...])) }
            }
        }
        tokens += suffixes.reversed()
        return tokens.count > 1 ? rejoined(tokens) : tokens
    }

    /// spaCy's special-case pass over the pieces: "Sept" "." → "Sept.", ")" ":" → "):".
    private func rejoined(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        next: while index < tokens.count {
            for count in [3, 2] where index + count <= tokens.count {
                if let special = exceptions[tokens[index..<index + count].joined()] {
                    result += special
                    index += count
                    continue next
                }
            }
            result.append(tokens[index])
            index += 1
        }
        return result
    }
}
