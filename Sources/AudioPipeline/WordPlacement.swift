public import SpeechCore

extension PCMAudio {
    /// The words of `text` placed in this audio when the engine did not time them (Piper, hibari
    /// speak a piece, a sentence or a clause, at a time): the piece's voiced span, from its first
    /// to its last sample above the silence threshold, is exact; inside it each word gets a share
    /// proportional to its number of characters, in order, with no gaps.
    public func placedWords(for text: String) -> [WordTiming] {
        let words = TextOrigins.words(of: text)
        guard sampleRate > 0, !words.isEmpty,
            let first = samples.firstIndex(where: { abs(Int32($0)) >= Int32(Self.silenceThreshold) }),
            let last = samples.lastIndex(where: { abs(Int32($0)) >= Int32(Self.silenceThreshold) })
        else { return [] }
        let start = Double(first) / Double(sampleRate)
        let span = Double(last + 1 - first) / Double(sampleRate)
        let total = Double(words.reduce(0) { $0 + $1.range.count })
        var spoken = 0
        return words.map { word in
            let begins = start + span * Double(spoken) / total
            spoken += word.range.count
            return WordTiming(
                word: word.word, startTime: begins, endTime: start + span * Double(spoken) / total,
                charStart: word.range.lowerBound, charEnd: word.range.upperBound)
        }
    }
}
