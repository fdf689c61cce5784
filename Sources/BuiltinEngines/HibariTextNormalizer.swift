import Foundation

/// hibari's text normalization before tokenizing (its normalize.py): times, dates, units, other
/// currencies, titles and abbreviations, Roman numerals after the words that take them, phone
/// numbers, fractions, ranges and symbols become words, with the word tables from hibari's
/// normalize.json. Plain numbers, "$" amounts and percents are left to the lexicon.
struct HibariTextNormalizer: Sendable {
    struct Tables: Sendable {
        /// "jan" → "January", in calendar order.
        var months: [(key: String, name: String)]
        var titles: [String: String]
        var titleOrder: [String]
        var abbreviations: [String: String]
        var abbreviationOrder: [String]
        var units: [String: [String]]
        var unitOrder: [String]
        /// Replaced in this order.
        var symbols: [(symbol: String, words: String)]
        var currencies: [String: [String]]
        var romanCardinalWords: [String]
        var romanOrdinalWords: [String]

        /// Reads normalize.json.
        init(json: OrderedJSON) throws {
            func table(_ name: String) throws -> [(key: String, value: OrderedJSON)] {
                guard case .object(let members)? = json[name] else { throw HibariG2P.malformed("normalize.json", name) }
                return members
            }
            func strings(_ value: OrderedJSON, _ name: String) throws -> [String] {
                let words = value.elements.compactMap(\.string)
                guard words.count == 2 else { throw HibariG2P.malformed("normalize.json", name) }
                return words
            }
            func words(_ name: String) throws -> [(key: String, value: String)] {
                try table(name).map {
                    guard let word = $0.value.string else { throw HibariG2P.malformed("normalize.json", name) }
                    return ($0.key, word)
                }
            }
            months = try words("months").map { (key: $0.key, name: $0.value) }
            guard months.count == 12 else { throw HibariG2P.malformed("normalize.json", "months") }
            let titleWords = try words("titles")
            titles = Self.dictionary(titleWords)
            titleOrder = titleWords.map(\.key)
            let abbreviationWords = try words("abbreviations")
            abbreviations = Self.dictionary(abbreviationWords)
            abbreviationOrder = abbreviationWords.map(\.key)
            let unitWords = try table("units").map { (key: $0.key, value: try strings($0.value, "units")) }
            units = Self.dictionary(unitWords)
            unitOrder = unitWords.map(\.key)
            symbols = try words("symbols").map { (symbol: $0.key, words: $0.value) }
            currencies = Self.dictionary(
                try table("currency").map { (key: $0.key, value: try strings($0.value, "currency")) })
            romanCardinalWords = json["roman_cardinal"]?.elements.compactMap(\.string) ?? []
            romanOrdinalWords = json["roman_ordinal"]?.elements.compactMap(\.string) ?? []
        }

        /// The pairs as a dictionary, the first of a repeated key kept.
        private static func dictionary<Value>(_ pairs: [(key: String, value: Value)]) -> [String: Value] {
            var result: [String: Value] = [:]
            for (key, value) in pairs where result[key] == nil { result[key] = value }
            return result
        }
    }

    let tables: Tables
    private let patterns: Patterns

    init(tables: Tables) {
        self.tables = tables
        self.patterns = Patterns(tables: tables)
    }

    private struct Patterns: Sendable {
        let whiteSpace = TextPattern(#"\s+"#)
        let time = TextPattern(#"\b(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?([AaPp])\.?[Mm]\.?(?![A-Za-z]))?(?!\d)"#)
        let usDate = TextPattern(#"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"#)
        let isoDate = TextPattern(#"\b(\d{4})-(\d{2})-(\d{2})\b"#)
        let monthDay: TextPattern
        let dayMonth: TextPattern
        let unit: TextPattern
        let degrees = TextPattern("(?<![\\w.])(-?\(Patterns.number))\\s?°\\s?([CF])?(?![\\w])")
        let cents = TextPattern("(?<![\\w.])(\(Patterns.number))\\s?¢")
        let currency = TextPattern(
            "(?<![\\w])([¥₹₩]|Rs\\.?|USD|EUR|GBP)\\s?(\(Patterns.number))(?:\\s?(hundred|thousand|million|billion|trillion|[kKmMbB]\\b))?")
        let bigMoney = TextPattern("([\\$£€])(\(Patterns.number))\\s?(hundred|thousand|million|billion|trillion|[kKmMbB]\\b)")
        let title: TextPattern
        let abbreviation: TextPattern
        let numberSign = TextPattern(#"\b(No|Nos)\. ?(?=\d)"#)
        let hash = TextPattern(#"(?<![\w&])#(?=\d)"#)
        let romanCardinal: TextPattern
        let romanOrdinal: TextPattern
        let phone = TextPattern(#"(?<![\w.\-])(?:\d{3}-)?\d{3}-\d{4}(?![\w.\-])"#)
        let range = TextPattern(#"(?<![\w.\-])(\d{1,4})\s?[-–]\s?(\d{1,4})(?![\w.\-%])"#)
        let fraction = TextPattern(#"(?<![\w./])(\d{1,2})/(\d{1,2})(?![\w./])"#)
        let plus = TextPattern(#"(?<![\w+])\+(?=\d)"#)
        let spaceBeforePunctuation = TextPattern(#" +([,.;:!?])"#)
        let symbols: [(symbol: String, pattern: TextPattern, replacement: String)]

        static let number = #"\d+(?:,\d{3})*(?:\.\d+)?"#
        static let romanNumeral = #"((?=[IVXLC])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"#

        init(tables: Tables) {
            let months = TextPattern.alternatives(
                tables.months.map(\.name) + tables.months.map { $0.key.prefix(1).uppercased() + $0.key.dropFirst() }
                    + ["Sept"])
            monthDay = TextPattern("\\b(\(months))\\.? (\\d{1,2})(?:st|nd|rd|th)?\\b(?![\\d:%])(,? \\d{4}\\b)?")
            dayMonth = TextPattern("\\b(the )?(\\d{1,2}) (?:of )?(\(months))\\b\\.?")
            unit = TextPattern(
                "(?<![\\w.])(-?\(Self.number))\\s?(\(TextPattern.alternatives(tables.unitOrder)))(?![\\w])")
            title = TextPattern("\\b(\(TextPattern.alternatives(tables.titleOrder)))\\.? (?=[A-Z])")
            abbreviation = TextPattern("(?<![\\w.])(\(TextPattern.alternatives(tables.abbreviationOrder)))(?![\\w])")
            romanCardinal = TextPattern(
                "\\b(\(TextPattern.alternatives(tables.romanCardinalWords))) \(Self.romanNumeral)\\b(?![.'’]\\w)")
            romanOrdinal = TextPattern(
                "\\b(\(TextPattern.alternatives(tables.romanOrdinalWords))) \(Self.romanNumeral)\\b(?![.'’]\\w)")
            symbols = tables.symbols.map { symbol, words in
                let escaped = TextPattern.escaped(symbol)
                let pattern = "=<>~".contains(symbol) ? "(?<=\\S) ?\(escaped) ?(?=\\S)" : escaped
                return (symbol, TextPattern(pattern), words.isEmpty ? " " : " \(words) ")
            }
        }
    }

    static let fractionWords = [
        2: "half", 3: "third", 4: "quarter", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth", 9: "ninth", 10: "tenth",
    ]
    static let romanValues: [Character: Int] = ["I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000]

    /// `text` with hibari's readings written out, white space collapsed and trimmed.
    func normalize(_ text: String) -> String {
        let p = patterns
        var text = p.whiteSpace.replacing(in: text, with: " ").trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return text }
        text = text.replacingOccurrences(of: "\u{A0}", with: " ").replacingOccurrences(of: "\u{2019}", with: "'")
            .replacingOccurrences(of: "\u{2012}", with: "-").replacingOccurrences(of: "\u{2015}", with: "\u{2014}")
        text = p.time.replacing(in: text, with: time)
        text = p.isoDate.replacing(in: text) { match in
            date(year: match[1], month: Self.integer(match[2]), day: Self.integer(match[3])) ?? match.value
        }
        text = p.usDate.replacing(in: text, with: usDate)
        text = p.bigMoney.replacing(in: text) { match in
            let words = tables.currencies[match[1] ?? ""]?[1] ?? ""
            return "\(match[2] ?? "") \(Self.scale(match[3] ?? "")) \(words)"
        }
        text = p.cents.replacing(in: text) { match in
            let amount = match[1] ?? ""
            return "\(amount) \(Self.plural(amount, tables.currencies["¢"] ?? ["cent", "cents"]))"
        }
        text = p.currency.replacing(in: text) { match in
            var symbol = match[1] ?? ""
            while symbol.hasSuffix(".") { symbol.removeLast() }
            let words = tables.currencies[symbol] ?? ["", ""]
            let amount = match[2] ?? ""
            if let big = match[3], !big.isEmpty { return "\(amount) \(Self.scale(big)) \(words[1])" }
            return "\(amount) \(Self.plural(amount, words))"
        }
        text = p.degrees.replacing(in: text) { match in
            let amount = match[1] ?? ""
            let scale = ["C": " Celsius", "F": " Fahrenheit"][match[2] ?? ""] ?? ""
            return "\(amount) \(Self.plural(amount, ["degree", "degrees"]))" + scale
        }
        text = p.unit.replacing(in: text) { match in
            let amount = match[1] ?? ""
            return "\(amount) \(Self.plural(amount, tables.units[match[2] ?? ""] ?? ["", ""]))"
        }
        text = p.monthDay.replacing(in: text) { match in
            guard let day = Self.integer(match[2]), (1...31).contains(day) else { return match.value }
            return "\(monthName(match[1] ?? "")) \(EnglishNumberWords.ordinal(day))" + (match[3] ?? "")
        }
        text = p.dayMonth.replacing(in: text) { match in
            guard let day = Self.integer(match[2]), (1...31).contains(day) else { return match.value }
            return "the \(EnglishNumberWords.ordinal(day)) of \(monthName(match[3] ?? ""))"
        }
        text = p.title.replacing(in: text) { (tables.titles[$0[1] ?? ""] ?? "") + " " }
        text = p.abbreviation.replacing(in: text) { match in
            let abbreviation = match[1] ?? ""
            return (tables.abbreviations[abbreviation] ?? "")
                + (match.isAtEnd && abbreviation.hasSuffix(".") ? "." : "")
        }
        text = p.numberSign.replacing(in: text) { $0[1] == "No" ? "Number " : "Numbers " }
        text = p.hash.replacing(in: text, with: "number ")
        text = p.romanCardinal.replacing(in: text) { "\($0[1] ?? "") \(Self.roman($0[2] ?? ""))" }
        text = p.romanOrdinal.replacing(in: text) {
            "\($0[1] ?? "") the \(EnglishNumberWords.ordinal(Self.roman($0[2] ?? "")))"
        }
        text = p.phone.replacing(in: text) { match in
            match.value.replacingOccurrences(of: "-", with: ", ").map(String.init).joined(separator: " ")
        }
        text = p.fraction.replacing(in: text, with: fraction)
        text = p.range.replacing(in: text) { "\($0[1] ?? "") to \($0[2] ?? "")" }
        text = p.plus.replacing(in: text, with: "plus ")
        for (symbol, pattern, replacement) in p.symbols where text.contains(symbol) {
            text = pattern.replacing(in: text, with: replacement)
        }
        text = p.whiteSpace.replacing(in: text, with: " ")
        return p.spaceBeforePunctuation.replacing(in: text) { $0[1] ?? "" }.trimmingCharacters(in: .whitespaces)
    }

    private func monthName(_ written: String) -> String {
        let key = String(written.lowercased().prefix(3))
        return tables.months.first { $0.key == key }?.name ?? written
    }

    private func time(_ match: TextPattern.Match) -> String {
        guard let hour = Self.integer(match[1]), let minute = Self.integer(match[2]) else { return match.value }
        let second = match[3].flatMap { Self.integer($0) }
        guard hour <= 24, minute <= 59, (second ?? 0) <= 59 else { return match.value }
        var words = EnglishNumberWords.cardinal(hour)
        let meridiem = match[4]
        if minute == 0 {
            words += meridiem != nil || second != nil ? "" : " o'clock"
        } else if minute < 10 {
            words += " oh " + EnglishNumberWords.cardinal(minute)
        } else {
            words += " " + EnglishNumberWords.cardinal(minute)
        }
        if let second {
            words += " and " + EnglishNumberWords.cardinal(second) + (second == 1 ? " second" : " seconds")
        }
        if let meridiem {
            // Dotted, so that the lexicon spells the letters.
            words += " " + meridiem.uppercased() + ".M" + (match.next == "." ? "" : ".")
        }
        return words
    }

    private func date(year: String?, month: Int?, day: Int?) -> String? {
        guard let month, let day, (1...12).contains(month), (1...31).contains(day) else { return nil }
        return "\(tables.months[month - 1].name) \(EnglishNumberWords.ordinal(day))" + (year.map { ", \($0)" } ?? "")
    }

    private func usDate(_ match: TextPattern.Match) -> String {
        guard let first = Self.integer(match[1]), let second = Self.integer(match[2]), var year = match[3] else {
            return match.value
        }
        if year.count == 2 { year = ((Self.integer(year) ?? 0) > 30 ? "19" : "20") + year }
        let (month, day) = first <= 12 ? (first, second) : (second, first)
        return date(year: year, month: month, day: day) ?? match.value
    }

    private func fraction(_ match: TextPattern.Match) -> String {
        guard let top = Self.integer(match[1]), let bottom = Self.integer(match[2]) else { return match.value }
        if 0 < top && top < bottom && bottom <= 10, let unit = Self.fractionWords[bottom] {
            if unit == "half" { return top == 1 ? "one half" : "\(top) halves" }
            return "\(top) \(unit)" + (top == 1 ? "" : "s")
        }
        if (1...12).contains(top) && (1...31).contains(bottom) {
            return date(year: nil, month: top, day: bottom) ?? match.value
        }
        return "\(top) slash \(bottom)"
    }

    private static func plural(_ amount: String, _ words: [String]) -> String {
        ["1", "1.0", "-1"].contains(amount.replacingOccurrences(of: ",", with: "")) ? words[0] : words[1]
    }

    private static func scale(_ word: String) -> String {
        ["k": "thousand", "m": "million", "b": "billion"][word.lowercased()] ?? word
    }

    private static func roman(_ numeral: String) -> Int {
        let values = numeral.compactMap { romanValues[$0] }
        return values.indices.reduce(0) { total, index in
            index + 1 < values.count && values[index + 1] > values[index] ? total - values[index] : total + values[index]
        }
    }

    /// A run of decimal digits (any script's, as Python's int() reads them) as a number; nil
    /// when it is not one or does not fit.
    static func integer(_ text: String?) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        var value = 0
        for character in text {
            guard let digit = character.wholeNumberValue, digit < 10, character.isNumber else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow && !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
