import Foundation

/// A regular expression for hibari's G2P rules, which are written for Python's `re`: ICU's
/// engine (NSRegularExpression) reads the same syntax for everything they use (look-behind,
/// `\w` and `\d` over Unicode, `[^\W\d_]`), where Swift's `Regex` has no look-behind.
// @unchecked: NSRegularExpression is immutable once made and may be used from any thread.
struct TextPattern: @unchecked Sendable {
    private let expression: NSRegularExpression

    /// `pattern` is written into the source or built from hibari's tables with `escaped`, so a
    /// pattern that does not compile is a programming error.
    init(_ pattern: String) {
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            fatalError("hibari G2P pattern does not compile: \(pattern): \(error)")
        }
    }

    /// One match: its range in the text it was found in, and its groups (nil where a group took
    /// no part).
    struct Match {
        var text: String
        var range: Range<String.Index>
        var groups: [String?]

        var value: String { String(text[range]) }
        subscript(group: Int) -> String? { groups[group - 1] }
        /// Whether the match runs to the end of its text.
        var isAtEnd: Bool { range.upperBound == text.endIndex }
        /// The character right after the match, if any.
        var next: Character? { isAtEnd ? nil : text[range.upperBound] }
    }

    func matches(in text: String) -> [Match] {
        expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Self.match($0, in: text)
        }
    }

    func firstMatch(in text: String) -> Match? {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)).flatMap {
            Self.match($0, in: text)
        }
    }

    private static func match(_ result: NSTextCheckingResult, in text: String) -> Match? {
        guard let range = Range(result.range, in: text) else { return nil }
        let groups = (0..<max(0, result.numberOfRanges - 1)).map { index -> String? in
            let group = result.range(at: index + 1)
            guard group.location != NSNotFound, let range = Range(group, in: text) else { return nil }
            return String(text[range])
        }
        return Match(text: text, range: range, groups: groups)
    }

    func matches(_ text: String) -> Bool { firstMatch(in: text) != nil }

    /// `text` with every match replaced by what `replacement` makes of it (Python's `re.sub`).
    func replacing(in text: String, with replacement: (Match) -> String) -> String {
        let found = matches(in: text)
        guard !found.isEmpty else { return text }
        var result = ""
        var position = text.startIndex
        for match in found {
            result += text[position..<match.range.lowerBound]
            result += replacement(match)
            position = match.range.upperBound
        }
        return result + text[position...]
    }

    func replacing(in text: String, with replacement: String) -> String {
        replacing(in: text) { _ in replacement }
    }

    /// The parts of `text` between matches (Python's `re.split` without groups).
    func split(_ text: String) -> [String] {
        var parts: [String] = []
        var position = text.startIndex
        for match in matches(in: text) {
            parts.append(String(text[position..<match.range.lowerBound]))
            position = match.range.upperBound
        }
        parts.append(String(text[position...]))
        return parts
    }

    /// `literal` with every ASCII character that is not a letter or digit escaped, for use in
    /// a pattern or a bracket set.
    static func escaped(_ literal: String) -> String {
        var result = ""
        for scalar in literal.unicodeScalars {
            let plain = !scalar.isASCII || scalar == " " || scalar.properties.isAlphabetic || scalar.isASCIIDigit
            if !plain { result += "\\" }
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    /// Alternatives of `words` as literals, longest first (Python's `"|".join` over sorted
    /// words: among equal lengths the order given).
    static func alternatives(_ words: [String]) -> String {
        words.enumerated().sorted {
            ($0.element.unicodeScalars.count, -$0.offset) > ($1.element.unicodeScalars.count, -$1.offset)
        }
            .map { escaped($0.element) }.joined(separator: "|")
    }
}
