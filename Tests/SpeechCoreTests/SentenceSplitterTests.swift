import Testing

@testable import SpeechCore

@Suite struct SentenceSplitterTests {
    @Test func splitsAfterSentencePunctuationAndLineBreaks() {
        let pieces = SentenceSplitter("Hello there. How are you? Fine!\nNew line; next part").map(String.init)
        #expect(pieces == ["Hello there.", "How are you?", "Fine!", "New line;", "next part"])
    }

    /// hibari's markup, `[word](/phonemes/)`, stays whole in one piece: not cut at its spaces,
    /// commas or periods, whatever the limit.
    @Test func aLinkIsNotCutInside() {
        let text = "Welcome to [New York](/njˈu jˈɔɹk/), Dr. Smith. See [Dr. No, again](/dˈɑktəɹ nˈO/) now."
        var iterator = SentenceSplitter(text, maxLength: 30).makeIterator()
        var pieces: [String] = []
        while let piece = iterator.next(maxLength: 16) { pieces.append(String(piece)) }
        #expect(pieces == ["Welcome to", "[New York](/njˈu jˈɔɹk/)", ", Dr.", "Smith.", "See", "[Dr. No, again](/dˈɑktəɹ nˈO/)", "now."])
        // A link longer than any piece may be is cut like other text.
        var short = SentenceSplitter(text, maxLength: 20).makeIterator()
        #expect(short.next(maxLength: 16) == "Welcome to")
        #expect(short.next(maxLength: 16) == "[New York](/njˈu")
    }

    @Test func linksAreFoundAsHibarisPatternFindsThem() {
        func found(_ text: String) -> [String] {
            TextLink.links(in: text).map { "\(text[$0.text])|\(text[$0.target])" }
        }
        #expect(found("[[a](/b/) [] [c](d) [e] (f) [g](") == ["[a|/b/", "c|d"])
        #expect(found("x [a]] (b) [c]([d](e)") == ["c|[d](e"])
        #expect(found(String(repeating: "[", count: 100_000)).isEmpty)
        #expect(found(String(repeating: "[a](", count: 10_000)).isEmpty)
    }

    @Test func decimalPointsDoNotEndSentences() {
        #expect(SentenceSplitter("Pi is 3.14 exactly. Yes.").map(String.init) == ["Pi is 3.14 exactly.", "Yes."])
    }

    @Test func longRunsAreCutAtCommasOrSpacesWithinTheLimit() {
        let text = Array(repeating: "word, and another word", count: 100).joined(separator: " ")
        let pieces = Array(SentenceSplitter(text, maxLength: 100, firstMaxLength: 40))
        #expect(pieces.count > 20)
        #expect(pieces[0].count <= 40)
        #expect(pieces.dropFirst().allSatisfy { $0.count <= 100 })
        // Nothing is lost: the letters of all pieces are the letters of the text.
        #expect(pieces.joined().filter(\.isLetter) == text.filter(\.isLetter))
    }

    @Test func unbrokenTextIsStillBounded() {
        let text = String(repeating: "a", count: 1000)
        let pieces = Array(SentenceSplitter(text, maxLength: 300, firstMaxLength: 100))
        // The limit doubles from the first piece up to `maxLength`.
        #expect(pieces.map(\.count) == [100, 200, 300, 300, 100])
    }

    @Test func piecesGrowFromTheFirstToTheLimit() {
        let text = Array(repeating: "word", count: 500).joined(separator: " ")
        let pieces = Array(SentenceSplitter(text, maxLength: 400, firstMaxLength: 24))
        // Each piece is cut at the last space before its limit: 24, then 48, 96, 192, 384, 400 …
        #expect(pieces.prefix(7).map(\.count) == [19, 44, 94, 189, 379, 399, 399])
        #expect(pieces.joined().filter(\.isLetter) == text.filter(\.isLetter))
    }

    @Test func piecesWithoutLettersOrDigitsAreSkipped() {
        #expect(Array(SentenceSplitter("... !!! ??? \n\n -- ")).isEmpty)
        #expect(SentenceSplitter("!!! Hello. ...").map(String.init) == ["Hello."])
    }
}
