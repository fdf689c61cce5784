import Testing

@testable import SpeechCore

@Suite struct TextOriginsTests {
    @Test func wordsKeepInnerApostrophesAndHyphensButNotQuotes() {
        let text = "It's ‘single’ e-mail — 'quoted' cafe\u{301}-"
        let words = TextOrigins.words(of: text)
        #expect(words.map(\.word) == ["It's", "single", "e-mail", "quoted", "cafe\u{301}"])
        let scalars = Array(text.unicodeScalars)
        for word in words {
            #expect(String(String.UnicodeScalarView(scalars[word.range])) == word.word)
        }
    }

    @Test func rewrittenRangesMapBackToTheOriginal() {
        var origins = TextOrigins()
        for (offset, letter) in "Cafe".enumerated() { origins.append(String(letter), from: offset) }  // "Café" folded
        origins.append(", ", from: 4)  // an em dash read as ", "
        origins.append("x", from: 5)
        #expect(origins.text == "Cafe, x")
        #expect(origins.original(0..<4) == 0..<4)
        #expect(origins.original(4..<7) == 4..<6)
        #expect(origins.original(3..<3) == nil)
        #expect(origins.original(5..<9) == nil)
    }
}
