import Foundation

/// hibari's English lexicon (its lexicon.py, misaki 0.9.4's rules, American or British English):
/// the gold dictionary, then the silver, with misaki's special cases for function words, part-of-speech
/// readings of homographs, -s/-ed/-ing stems of known words, spelled-out initialisms, and
/// numbers read as cardinals, ordinals, years, decimals and currency amounts. Readings are in
/// Kokoro's phoneme alphabet. British English differs in its dictionaries and in three suffix
/// rules: no flapped t, and ɪ where American English has ᵻ in -es and -ed.
struct HibariLexicon: Sendable {
    /// A gold entry: one reading, or readings by part of speech ("DEFAULT", "VERB", "NN", …;
    /// a null reading means "not in this role").
    enum Entry: Decodable, Sendable {
        case reading(String)
        case byTag([String: String?])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let reading = try? container.decode(String.self) {
                self = .reading(reading)
            } else {
                self = .byTag(try container.decode([String: String?].self))
            }
        }
    }

    /// What the words after the current one tell it (the lexicon reads a sentence backwards):
    /// whether the next phoneme is a vowel (nil: nothing to read, or punctuation), and whether
    /// the next word is "to".
    struct Context {
        var futureVowel: Bool?
        var futureTo = false
    }

    private let gold: [String: Entry]
    private let silver: [String: String]
    let accent: HibariAccent

    init(gold: [String: Entry], silver: [String: String], accent: HibariAccent = .american) {
        self.gold = gold
        self.silver = silver
        self.accent = accent
    }

    /// The unstressed vowel of the -es and -ed endings: ᵻ (American), ɪ (British).
    private var reducedVowel: String { accent == .british ? "ɪ" : "ᵻ" }

    static let primaryStress: Unicode.Scalar = "ˈ"
    static let secondaryStress: Unicode.Scalar = "ˌ"
    static let vowels = Set("AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ".unicodeScalars)
    static let consonants = Set("bdfhjklmnpstvwzðŋɡɹɾʃʒʤʧθ".unicodeScalars)
    static let diphthongs = Set("AIOQWYʤʧ".unicodeScalars)
    static let tausBeforeFlap = Set("AIOWYiuæɑəɛɪɹʊʌ".unicodeScalars)
    static let currencies = ["$": ("dollar", "cent"), "£": ("pound", "pence"), "€": ("euro", "cent")]
    static let ordinals: Set<String> = ["st", "nd", "rd", "th"]
    static let addressSymbols = [".": "dot", "/": "slash"]
    static let symbols = ["%": "percent", "&": "and", "+": "plus", "@": "at"]
    static let lexiconLetters = Set("'-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".unicodeScalars)
    static let capitalStresses = (mixed: 0.5, upper: 2.0)

    // MARK: Dictionaries

    /// misaki's grown dictionary at lookup time: a lower-case key answers to its capitalized form
    /// and the other way round, unless that form has its own entry.
    private static func find<Value>(_ word: String, in dictionary: [String: Value]) -> Value? {
        if let value = dictionary[word] { return value }
        guard word.scalarCount >= 2 else { return nil }
        if word == word.lowercased() {
            let capitalized = word.capitalizedFirst
            return capitalized != word ? dictionary[capitalized] : nil
        }
        if word == word.lowercased().capitalizedFirst { return dictionary[word.lowercased()] }
        return nil
    }

    private func inGold(_ word: String) -> Bool { Self.find(word, in: gold) != nil }
    private func inSilver(_ word: String) -> Bool { Self.find(word, in: silver) != nil }

    private func goldReading(_ word: String, tag: String = "DEFAULT") -> String? {
        switch Self.find(word, in: gold) {
        case .reading(let reading): reading
        case .byTag(let readings): (readings[tag] ?? readings["DEFAULT"]).flatMap { $0 }
        case nil: nil
        }
    }

    // MARK: Stress

    static func stressWeight(_ phonemes: String) -> Int {
        phonemes.unicodeScalars.reduce(0) { $0 + (diphthongs.contains($1) ? 2 : 1) }
    }

    /// misaki's `apply_stress`: below -1 strips stress, -1 (or 0 and -0.5 with a primary) demotes
    /// primary to secondary, 0…1 adds a secondary to unstressed words, ≥ 1 promotes secondary,
    /// above 1 adds a primary.
    static func applyStress(_ phonemes: String, _ stress: Double?) -> String {
        guard let stress else { return phonemes }
        let scalars = phonemes.unicodeScalars
        let hasPrimary = scalars.contains(primaryStress)
        let hasSecondary = scalars.contains(secondaryStress)
        let hasVowel = scalars.contains(where: vowels.contains)
        if stress < -1 {
            return String(String.UnicodeScalarView(scalars.filter { $0 != primaryStress && $0 != secondaryStress }))
        } else if stress == -1 || ((stress == 0 || stress == -0.5) && hasPrimary) {
            return String(
                String.UnicodeScalarView(
                    scalars.filter { $0 != secondaryStress }.map { $0 == primaryStress ? secondaryStress : $0 }))
        } else if [0, 0.5, 1].contains(stress) && !hasPrimary && !hasSecondary {
            return hasVowel ? stressed(phonemes, with: secondaryStress) : phonemes
        } else if stress >= 1 && !hasPrimary && hasSecondary {
            return String(String.UnicodeScalarView(scalars.map { $0 == secondaryStress ? primaryStress : $0 }))
        } else if stress > 1 && !hasPrimary && !hasSecondary {
            return hasVowel ? stressed(phonemes, with: primaryStress) : phonemes
        }
        return phonemes
    }

    /// `mark` put right before the first vowel.
    private static func stressed(_ phonemes: String, with mark: Unicode.Scalar) -> String {
        var scalars = Array(phonemes.unicodeScalars)
        scalars.insert(mark, at: scalars.firstIndex(where: vowels.contains) ?? 0)
        return String(String.UnicodeScalarView(scalars))
    }

    // MARK: Words

    private static func parentTag(_ tag: String?) -> String? {
        guard let tag else { return nil }
        if tag.hasPrefix("VB") { return "VERB" }
        if tag.hasPrefix("NN") { return "NOUN" }
        if tag.hasPrefix("ADV") || tag.hasPrefix("RB") { return "ADV" }
        if tag.hasPrefix("ADJ") || tag.hasPrefix("JJ") { return "ADJ" }
        return tag
    }

    /// Letters spelled out, the last stress made primary: "NASA" → "ˌɛnˌAˌɛsˈA".
    private func spelled(_ word: String) -> (String, Int)? {
        var phonemes = ""
        for scalar in word.unicodeScalars where scalar.isLetter {
            guard let letter = goldReading(String(scalar).uppercased()) else { return nil }
            phonemes += letter
        }
        var scalars = Array(Self.applyStress(phonemes, 0).unicodeScalars)
        if let last = scalars.lastIndex(of: Self.secondaryStress) { scalars[last] = Self.primaryStress }
        return (String(String.UnicodeScalarView(scalars)), 3)
    }

    private func specialCase(_ word: String, tag: String, stress: Double?, context: Context) -> (String, Int)? {
        let trimmed = word.trimmingCharacters(in: CharacterSet(charactersIn: "."))
        if tag == "ADD", let name = Self.addressSymbols[word] {
            return lookup(name, tag: nil, stress: -0.5, context: context)
        } else if let name = Self.symbols[word] {
            return lookup(name, tag: nil, stress: nil, context: context)
        } else if trimmed.contains("."), word.replacingOccurrences(of: ".", with: "").isAlphabetic,
            (word.split(separator: ".", omittingEmptySubsequences: false).map(\.scalarCount).max() ?? 0) < 3
        {
            return spelled(word)
        } else if word == "a" || word == "A" {
            return (tag == "DT" ? "ɐ" : "ˈA", 4)
        } else if ["am", "Am", "AM"].contains(word) {
            if tag.hasPrefix("NN") { return spelled(word) }
            if context.futureVowel == nil || word != "am" || (stress ?? 0) > 0 {
                return goldReading("am").map { ($0, 4) }
            }
            return ("ɐm", 4)
        } else if ["an", "An", "AN"].contains(word) {
            if word == "AN" && tag.hasPrefix("NN") { return spelled(word) }
            return ("ɐn", 4)
        } else if word == "I" && tag == "PRP" {
            return ("ˌI", 4)
        } else if ["by", "By", "BY"].contains(word) && Self.parentTag(tag) == "ADV" {
            return ("bˈI", 4)
        } else if word == "to" || word == "To" || (word == "TO" && (tag == "TO" || tag == "IN")) {
            switch context.futureVowel {
            case nil: return goldReading("to").map { ($0, 4) }
            case false?: return ("tə", 4)
            case true?: return ("tʊ", 4)
            }
        } else if word == "in" || word == "In" || (word == "IN" && tag != "NNP") {
            return ((context.futureVowel == nil || tag != "IN" ? "ˈ" : "") + "ɪn", 4)
        } else if word == "the" || word == "The" || (word == "THE" && tag == "DT") {
            return (context.futureVowel == true ? "ði" : "ðə", 4)
        } else if tag == "IN" && ["vs", "vs."].contains(word.lowercased()) {
            return lookup("versus", tag: nil, stress: nil, context: context)
        } else if ["used", "Used", "USED"].contains(word) {
            let verb = (tag == "VBD" || tag == "JJ") && context.futureTo
            return goldReading("used", tag: verb ? "VBD" : "DEFAULT").map { ($0, 4) }
        }
        return nil
    }

    private func isKnown(_ word: String) -> Bool {
        if inGold(word) || Self.symbols[word] != nil || inSilver(word) { return true }
        guard word.isAlphabetic, word.unicodeScalars.allSatisfy(Self.lexiconLetters.contains) else { return false }
        if word.scalarCount == 1 { return true }
        if word == word.uppercased() && inGold(word.lowercased()) { return true }
        let rest = word.dropFirstScalars(1)
        return rest == rest.uppercased()
    }

    /// The reading of `word` in the dictionaries (gold before silver, the reading for `tag`), or
    /// spelled out.
    func lookup(_ word: String, tag: String?, stress: Double?, context: Context?) -> (String, Int)? {
        var word = word
        var isProperNoun: Bool?
        if word == word.uppercased() && !inGold(word) {
            word = word.lowercased()
            isProperNoun = tag == "NNP"
        }
        var phonemes: String?
        var rating = 4
        switch Self.find(word, in: gold) {
        case .reading(let reading):
            phonemes = reading
        case .byTag(let readings):
            var role = tag
            if let context, context.futureVowel == nil, readings["None"] != nil {
                role = "None"
            } else if role.map({ readings[$0] == nil }) ?? true {
                role = Self.parentTag(tag)
            }
            let chosen: String?? = role.flatMap { readings[$0] } ?? readings["DEFAULT"]
            phonemes = chosen.flatMap { $0 }
        case nil:
            if isProperNoun != true, let reading = Self.find(word, in: silver) { (phonemes, rating) = (reading, 3) }
        }
        guard let phonemes, isProperNoun != true || phonemes.unicodeScalars.contains(Self.primaryStress) else {
            return spelled(word)
        }
        return (Self.applyStress(phonemes, stress), rating)
    }

    private func plural(_ stem: String?) -> String? {
        guard let stem, let last = stem.unicodeScalars.last else { return nil }
        if "ptkfθ".unicodeScalars.contains(last) { return stem + "s" }
        if "szʃʒʧʤ".unicodeScalars.contains(last) { return stem + reducedVowel + "z" }
        return stem + "z"
    }

    /// The reading of `stem` with an ending added by `ending`.
    private func inflected(
        _ stem: String, with ending: (String?) -> String?, tag: String?, stress: Double?, context: Context?
    ) -> (String, Int)? {
        guard let (phonemes, rating) = lookup(stem, tag: tag, stress: stress, context: context),
            let result = ending(phonemes)
        else { return nil }
        return (result, rating)
    }

    private func stemS(_ word: String, tag: String?, stress: Double?, context: Context?) -> (String, Int)? {
        guard word.scalarCount >= 3, word.hasSuffix("s") else { return nil }
        let stem: String
        if !word.hasSuffix("ss") && isKnown(word.dropLastScalars(1)) {
            stem = word.dropLastScalars(1)
        } else if (word.hasSuffix("'s") || (word.scalarCount > 4 && word.hasSuffix("es") && !word.hasSuffix("ies")))
            && isKnown(word.dropLastScalars(2))
        {
            stem = word.dropLastScalars(2)
        } else if word.scalarCount > 4 && word.hasSuffix("ies") && isKnown(word.dropLastScalars(3) + "y") {
            stem = word.dropLastScalars(3) + "y"
        } else {
            return nil
        }
        return inflected(stem, with: plural, tag: tag, stress: stress, context: context)
    }

    private func past(_ stem: String?) -> String? {
        guard let stem, let last = stem.unicodeScalars.last else { return nil }
        if "pkfθʃsʧ".unicodeScalars.contains(last) { return stem + "t" }
        if last == "d" { return stem + reducedVowel + "d" }
        if last != "t" { return stem + "d" }
        let scalars = Array(stem.unicodeScalars)
        if accent == .british || scalars.count < 2 { return stem + "ɪd" }
        if Self.tausBeforeFlap.contains(scalars[scalars.count - 2]) { return stem.dropLastScalars(1) + "ɾᵻd" }
        return stem + "ᵻd"
    }

    private func stemED(_ word: String, tag: String?, stress: Double?, context: Context?) -> (String, Int)? {
        guard word.scalarCount >= 4, word.hasSuffix("d") else { return nil }
        let stem: String
        if !word.hasSuffix("dd") && isKnown(word.dropLastScalars(1)) {
            stem = word.dropLastScalars(1)
        } else if word.scalarCount > 4 && word.hasSuffix("ed") && !word.hasSuffix("eed")
            && isKnown(word.dropLastScalars(2))
        {
            stem = word.dropLastScalars(2)
        } else {
            return nil
        }
        return inflected(stem, with: past, tag: tag, stress: stress, context: context)
    }

    private func progressive(_ stem: String?) -> String? {
        guard let stem else { return nil }
        let scalars = Array(stem.unicodeScalars)
        if accent == .british {
            // A stem ending in ə or a long vowel takes no -ing of its own (misaki's British rule).
            return scalars.last.map { "əː".unicodeScalars.contains($0) } == true ? nil : stem + "ɪŋ"
        }
        if scalars.count > 1 && scalars[scalars.count - 1] == "t" && Self.tausBeforeFlap.contains(scalars[scalars.count - 2]) {
            return stem.dropLastScalars(1) + "ɾɪŋ"
        }
        return stem + "ɪŋ"
    }

    static let doubledConsonantING = TextPattern(#"([bcdgklmnprstvxz])\1ing$|cking$"#)

    private func stemING(_ word: String, tag: String?, stress: Double?, context: Context?) -> (String, Int)? {
        guard word.scalarCount >= 5, word.hasSuffix("ing") else { return nil }
        let stem: String
        if word.scalarCount > 5 && isKnown(word.dropLastScalars(3)) {
            stem = word.dropLastScalars(3)
        } else if isKnown(word.dropLastScalars(3) + "e") {
            stem = word.dropLastScalars(3) + "e"
        } else if word.scalarCount > 5 && Self.doubledConsonantING.matches(word) && isKnown(word.dropLastScalars(4)) {
            stem = word.dropLastScalars(4)
        } else {
            return nil
        }
        return inflected(stem, with: progressive, tag: tag, stress: stress, context: context)
    }

    private func word(_ word: String, tag: String, stress: Double?, context: Context) -> (String, Int)? {
        if let special = specialCase(word, tag: tag, stress: stress, context: context) { return special }
        var word = word
        let lower = word.lowercased()
        let rest = word.dropFirstScalars(1)
        if word.scalarCount > 1 && word.replacingOccurrences(of: "'", with: "").isAlphabetic && word != lower
            && (tag != "NNP" || word.scalarCount > 7) && !inGold(word) && !inSilver(word)
            && (word == word.uppercased() || rest == rest.lowercased())
            && (inGold(lower) || inSilver(lower)
                || stemS(lower, tag: tag, stress: stress, context: context) != nil
                || stemED(lower, tag: tag, stress: stress, context: context) != nil
                || stemING(lower, tag: tag, stress: stress, context: context) != nil)
        {
            word = lower
        }
        if isKnown(word) {
            return lookup(word, tag: tag, stress: stress, context: context)
        } else if word.hasSuffix("s'") && isKnown(word.dropLastScalars(2) + "'s") {
            return lookup(word.dropLastScalars(2) + "'s", tag: tag, stress: stress, context: context)
        } else if word.hasSuffix("'") && isKnown(word.dropLastScalars(1)) {
            return lookup(word.dropLastScalars(1), tag: tag, stress: stress, context: context)
        }
        return stemS(word, tag: tag, stress: stress, context: context)
            ?? stemED(word, tag: tag, stress: stress, context: context)
            ?? stemING(word, tag: tag, stress: stress ?? 0.5, context: context)
    }

    // MARK: Numbers

    static let numberSuffix = TextPattern(#"[a-z']+$"#)
    static let nonLetters = TextPattern(#"[^a-z]+"#)

    private static func isCurrencyAmount(_ word: String) -> Bool {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 1 { return true }
        return parts.count == 2 && parts[1].count < 3
    }

    /// The reading of a number ("1,234", "3.14", "1990", "21st", "-5", "$5.50" with `currency`);
    /// a word that is not one gives nil. Digit runs too long for an Int are read digit by digit.
    func number(_ word: String, currency: String?, isHead: Bool) -> (String, Int)? {
        let suffix = Self.numberSuffix.firstMatch(in: word)?.value
        var word = suffix.map { word.dropLastScalars($0.scalarCount) } ?? word
        var result: [(String, Int)] = []
        func append(_ reading: (String, Int)?) { if let reading { result.append(reading) } }
        if word.hasPrefix("-") {
            append(lookup("minus", tag: nil, stress: nil, context: nil))
            word = word.dropFirstScalars(1)
        }
        func read(words: String) {
            for part in Self.nonLetters.split(words) where part != "and" {
                append(lookup(part, tag: nil, stress: part == "point" ? -2 : nil, context: nil))
            }
        }
        func read(digits: some StringProtocol) {
            if let value = Int(digits) {
                read(words: EnglishNumberWords.cardinal(value))
            } else {
                for digit in digits { read(digits: String(digit)) }
            }
        }
        let plain = word.replacingOccurrences(of: ",", with: "")
        if word.isASCIIDigits, let suffix, Self.ordinals.contains(suffix), let value = Int(word) {
            read(words: EnglishNumberWords.ordinal(value))
        } else if result.isEmpty && word.scalarCount == 4 && Self.currencies[currency ?? ""] == nil
            && word.isASCIIDigits, let value = Int(word)
        {
            read(words: EnglishNumberWords.year(value))
        } else if !isHead && !word.contains(".") {
            let digits = Array(plain)
            if digits.first == "0" || digits.count > 3 {
                for digit in digits { read(digits: String(digit)) }
            } else if digits.count == 3 && !plain.hasSuffix("00") {
                read(digits: String(digits[0]))
                if digits[1] == "0" {
                    append(lookup("O", tag: nil, stress: -2, context: nil))
                    read(digits: String(digits[2]))
                } else {
                    read(digits: String(digits[1...]))
                }
            } else {
                read(digits: plain)
            }
        } else if word.filter({ $0 == "." }).count > 1 || !isHead {
            for part in plain.split(separator: ".", omittingEmptySubsequences: true) {
                if part.first == "0" || (part.count != 2 && part.dropFirst().contains { $0 != "0" }) {
                    for digit in part { read(digits: String(digit)) }
                } else {
                    read(digits: part)
                }
            }
        } else if let (unit, subunit) = Self.currencies[currency ?? ""], Self.isCurrencyAmount(word) {
            var amounts = zip(plain.split(separator: ".", omittingEmptySubsequences: false), [unit, subunit]).map {
                (Int($0.0) ?? 0, $0.1)
            }
            if amounts.count > 1 {
                if amounts[1].0 == 0 {
                    amounts = Array(amounts.prefix(1))
                } else if amounts[0].0 == 0 {
                    amounts = Array(amounts.dropFirst())
                }
            }
            for (index, (amount, name)) in amounts.enumerated() {
                if index > 0 { append(lookup("and", tag: nil, stress: nil, context: nil)) }
                read(words: EnglishNumberWords.cardinal(amount))
                append(
                    amount != 1 && name != "pence"
                        ? stemS(name + "s", tag: nil, stress: nil, context: nil)
                        : lookup(name, tag: nil, stress: nil, context: nil))
            }
        } else if word.isASCIIDigits {
            read(digits: word)
        } else if !word.contains(".") {
            if let value = Int(plain) {
                let ordinal = suffix.map(Self.ordinals.contains) ?? false
                read(words: ordinal ? EnglishNumberWords.ordinal(value) : EnglishNumberWords.cardinal(value))
            } else {
                read(digits: plain)
            }
        } else if plain.hasPrefix(".") {
            append(lookup("point", tag: nil, stress: -2, context: nil))
            for digit in plain.dropFirst() { read(digits: String(digit)) }
        } else if let words = EnglishNumberWords.decimal(plain) {
            read(words: words)
        } else {
            for part in plain.split(separator: ".") { read(digits: part) }
        }
        guard !result.isEmpty else { return nil }
        let phonemes = result.map(\.0).joined(separator: " ")
        let rating = result.map(\.1).min() ?? 4
        switch suffix ?? "" {
        case "s", "'s": return plural(phonemes).map { ($0, rating) }
        case "ed", "'d": return past(phonemes).map { ($0, rating) }
        case "ing": return progressive(phonemes).map { ($0, rating) }
        default: return (phonemes, rating)
        }
    }

    private func withCurrency(_ phonemes: String, _ currency: String?) -> String {
        guard let currency, let (unit, _) = Self.currencies[currency],
            let name = stemS(unit + "s", tag: nil, stress: nil, context: nil)?.0
        else { return phonemes }
        return "\(phonemes) \(name)"
    }

    private static func isNumber(_ word: String, isHead: Bool) -> Bool {
        guard word.unicodeScalars.contains(where: \.isASCIIDigit) else { return false }
        var word = word
        if let suffix = ["ing", "'d", "ed", "'s", "st", "nd", "rd", "th", "s"].first(where: word.hasSuffix) {
            word = word.dropLastScalars(suffix.scalarCount)
        }
        return word.unicodeScalars.enumerated().allSatisfy { index, scalar in
            scalar.isASCIIDigit || scalar == "," || scalar == "." || (isHead && index == 0 && scalar == "-")
        }
    }

    /// The reading of `token` in `context`, nil for a word the lexicon does not have.
    func phonemes(of token: HibariToken, context: Context) -> (String, Int)? {
        var word = (token.alias ?? token.text).replacingOccurrences(of: "\u{2018}", with: "'")
            .replacingOccurrences(of: "\u{2019}", with: "'")
        word = word.precomposedStringWithCompatibilityMapping
        word = String(
            String.UnicodeScalarView(
                word.unicodeScalars.flatMap { scalar -> [Unicode.Scalar] in
                    guard scalar.isDigit, let value = scalar.properties.numericValue, let whole = Int(exactly: value)
                    else { return [scalar] }
                    return Array(String(whole).unicodeScalars)
                }))
        let stress: Double? =
            word == word.lowercased()
            ? nil : word == word.uppercased() ? Self.capitalStresses.upper : Self.capitalStresses.mixed
        if let (phonemes, rating) = self.word(word, tag: token.tag, stress: stress, context: context) {
            return (Self.applyStress(withCurrency(phonemes, token.currency), token.stress), rating)
        }
        if Self.isNumber(word, isHead: token.isHead),
            let (phonemes, rating) = number(word, currency: token.currency, isHead: token.isHead)
        {
            return (Self.applyStress(phonemes, token.stress), rating)
        }
        return nil
    }
}
