import Foundation
import SpeechCore
import Testing

@testable import SpeechServer

@Suite struct CaptionsTests {
    /// The words of `text` (as `TextOrigins` finds them), each 0.3 s long, one after another,
    /// with `pauses` seconds of silence before the words at those indices.
    static func timed(_ text: String, pauses: [Int: Double] = [:]) -> [WordTiming] {
        var clock = 0.0
        return TextOrigins.words(of: text).enumerated().map { index, word in
            clock += pauses[index] ?? 0
            defer { clock += 0.3 }
            return WordTiming(
                word: word.word, startTime: clock, endTime: clock + 0.3, charStart: word.range.lowerBound,
                charEnd: word.range.upperBound)
        }
    }

    @Test func aCueIsASentenceWithItsQuotesAndPunctuation() {
        let text = "The quick brown fox jumps over the lazy dog. Café  “naïve” friends, really!"
        let cues = Captions.cues(of: Self.timed(text), in: text)
        #expect(cues.map(\.text) == ["The quick brown fox\njumps over the lazy dog.", "Café “naïve” friends, really!"])
        #expect(cues.count == 2 && cues[0].start == 0 && abs(cues[1].start - 2.7) < 1e-9)
    }

    @Test func aPauseOrTwoFullLinesStartANewCue() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
        let cues = Captions.cues(of: Self.timed(text, pauses: [2: 0.6]), in: text)
        #expect(cues.first?.text == "one two")
        #expect(cues.dropFirst().allSatisfy { $0.text.count <= 2 * Captions.lineLength + 1 })
        for cue in cues {
            #expect(cue.text.split(separator: "\n").allSatisfy { $0.count <= Captions.lineLength }, "\(cue.text)")
        }
        #expect(cues.map(\.text).joined(separator: " ").replacingOccurrences(of: "\n", with: " ") == text)
    }

    @Test func timesAreWrittenWithoutTrapping() {
        #expect(Captions.time(3_661.5, ",") == "01:01:01,500")
        #expect(Captions.time(.infinity, ".") == "00:00:00.000")
        #expect(Captions.time(-2, ".") == "00:00:00.000")
    }
}
