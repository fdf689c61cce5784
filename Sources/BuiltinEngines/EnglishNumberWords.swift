import Foundation

/// English number words as hibari's G2P reads them (its numbers.py, the part of num2words that
/// misaki uses): cardinals, ordinals, years and decimals, with num2words' commas and "and".
/// Every number is non-negative and at most `Int.max` (callers read longer digit runs digit by
/// digit), so nothing here can overflow.
enum EnglishNumberWords {
    static let ones = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    ]
    static let tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    static let scales = ["", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion"]
    static let irregularOrdinals = [
        "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
        "twelve": "twelfth",
    ]

    private static func belowThousand(_ number: Int) -> [String] {
        var words: [String] = []
        var rest = number
        if rest >= 100 {
            words += [ones[rest / 100], "hundred"]
            rest %= 100
            if rest > 0 { words.append("and") }
        }
        if rest >= 20 {
            words.append(tens[rest / 10] + (rest % 10 > 0 ? "-" + ones[rest % 10] : ""))
        } else if rest > 0 || words.isEmpty {
            words.append(ones[rest])
        }
        return words
    }

    /// "one thousand, two hundred and thirty-four".
    static func cardinal(_ number: Int) -> String {
        guard number >= 0 else { return "minus " + cardinal(Int(clamping: number.magnitude)) }
        if number < 1000 { return belowThousand(number).joined(separator: " ") }
        var groups: [String] = []
        var (rest, scale) = (number, 0)
        while rest > 0 {
            let group = rest % 1000
            rest /= 1000
            if group > 0 {
                groups.append(belowThousand(group).joined(separator: " ") + (scale > 0 ? " " + scales[scale] : ""))
            }
            scale += 1
        }
        groups.reverse()
        let last = groups[groups.count - 1]
        let afterAnd = last.components(separatedBy: " and ").last ?? last
        if groups.count > 1 && !afterAnd.contains(" ") && !last.contains("hundred") {
            return groups.dropLast().joined(separator: ", ") + " and " + last
        }
        return groups.joined(separator: ", ")
    }

    /// "twenty-third", "one hundred and first", "one thousandth".
    static func ordinal(_ number: Int) -> String {
        let words = cardinal(number)
        let (head, last): (Substring, Substring) =
            if let space = words.lastIndex(of: " ") {
                (words[...space], words[words.index(after: space)...])
            } else {
                ("", words[...])
            }
        if let hyphen = last.lastIndex(of: "-") {
            return head + last[...hyphen] + ordinalWord(String(last[last.index(after: hyphen)...]))
        }
        return head + ordinalWord(String(last))
    }

    private static func ordinalWord(_ word: String) -> String {
        if let irregular = irregularOrdinals[word] { return irregular }
        if word.hasSuffix("y") { return word.dropLast() + "ieth" }
        return word + "th"
    }

    /// "nineteen oh-five", "two thousand and five", "twenty ten".
    static func year(_ number: Int) -> String {
        let (high, low) = number.quotientAndRemainder(dividingBy: 100)
        if high == 0 || (high % 10 == 0 && low < 10) || high >= 100 { return cardinal(number) }
        let lowWords = low == 0 ? "hundred" : low < 10 ? "oh-" + cardinal(low) : cardinal(low)
        return cardinal(high) + " " + lowWords
    }

    /// "3.14" → "three point one four"; trailing zeros go, as float() drops them. `text` is
    /// ASCII digits with one point; nil when its whole part does not fit.
    static func decimal(_ text: String) -> String? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0].isEmpty ? 0 : Int(parts[0])
        guard let whole else { return nil }
        var fraction = parts.count > 1 ? parts[1][...] : ""
        while fraction.last == "0" { fraction = fraction.dropLast() }
        var words = cardinal(whole)
        if !fraction.isEmpty {
            words += " point " + fraction.compactMap { $0.wholeNumberValue.map { ones[$0] } }.joined(separator: " ")
        }
        return words
    }
}
