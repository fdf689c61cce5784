/// One token on its way through hibari's G2P (misaki's MToken): its text and tag, whether
/// white space followed it, and what the lexicon and the rules around it have decided.
struct HibariToken {
    var text: String
    var tag: String
    var spaceAfter: Bool
    var phonemes: String?
    /// Whether the token starts a word of the text (not a piece split off inside one).
    var isHead = true
    /// Another word to read in its place ("2" between letters reads "to").
    var alias: String?
    var stress: Double?
    /// The currency symbol before a number ("$" for "5" in "$5").
    var currency: String?
    /// Whether the merged reading puts a space before this token's phonemes.
    var prespace = false
    var rating: Int?

    /// Tokens of one word merged into one (misaki's `merge_tokens`): their texts joined, the tag
    /// of the one with the most capital-weighted letters, the shared stress and the currency.
    /// With `unknown`, the phonemes are joined too (with `unknown` for a token that has none).
    static func merged(_ tokens: ArraySlice<HibariToken>, unknown: String? = nil) -> HibariToken {
        let first = tokens[tokens.startIndex]
        let last = tokens[tokens.endIndex - 1]
        let stresses = Set(tokens.compactMap(\.stress))
        var phonemes: String?
        if let unknown {
            var joined = ""
            for token in tokens {
                if token.prespace, let last = joined.last, !last.isWhitespace, !(token.phonemes ?? "").isEmpty {
                    joined += " "
                }
                joined += token.phonemes ?? unknown
            }
            phonemes = joined
        }
        let weight = { (token: HibariToken) in
            token.text.unicodeScalars.reduce(0) { $0 + (String($1) == String($1).lowercased() ? 1 : 2) }
        }
        var tagged = first
        for token in tokens where weight(token) > weight(tagged) { tagged = token }
        return HibariToken(
            text: tokens.dropLast().map { $0.text + ($0.spaceAfter ? " " : "") }.joined() + last.text,
            tag: tagged.tag, spaceAfter: last.spaceAfter, phonemes: phonemes, isHead: first.isHead, alias: nil,
            stress: stresses.count == 1 ? stresses.first : nil, currency: tokens.compactMap(\.currency).max(),
            prespace: first.prespace,
            rating: tokens.contains { $0.rating == nil } ? nil : tokens.compactMap(\.rating).min())
    }
}
