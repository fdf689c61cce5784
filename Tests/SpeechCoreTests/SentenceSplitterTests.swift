import Testing

@testable import SpeechCore

@Suite struct SentenceSplitterTests {
    @Test func splitsAfterSentencePunctuationAndLineBreaks() {
        let pieces = SentenceSplitter("Hello there. How are you? Fine!\nNew line; next part").map(String.init)
        #expect(pieces == ["Hello there.", "How are you?", "Fine!", "New line;", "next part"])
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
