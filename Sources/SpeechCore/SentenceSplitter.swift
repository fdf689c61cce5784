/// Cuts text into pieces that are spoken one at a time, so audio can stream while the rest is
/// still being synthesized. Pieces end after sentence punctuation or a line break; a piece longer
/// than its limit is cut at the last comma or space before it, so one piece never holds more than
/// a bounded amount of audio however the text is written. The first piece's limit is
/// `firstMaxLength`, and each piece after may be `growth` times longer than the one before, up to
/// `maxLength`: small at the start, so the first audio comes soon, and larger once the listener
/// has a buffer (fewer, longer pieces cost less per character and sound more natural). A
/// `[word](/phonemes/)` (hibari's markup, `TextLink`) is not cut at its spaces or commas.
public struct SentenceSplitter: Sequence, Sendable {
    public var text: String
    public var maxLength: Int
    /// The first piece is cut shorter so the first audio comes sooner.
    public var firstMaxLength: Int
    /// How much longer each piece's limit is than the one before, until `maxLength`.
    public static let growth = 2

    /// The most characters a piece holds unless a caller says otherwise.
    public static let defaultMaxLength = 400

    public init(_ text: String, maxLength: Int = defaultMaxLength, firstMaxLength: Int = 160) {
        self.text = text
        self.maxLength = Swift.max(maxLength, 16)
        self.firstMaxLength = Swift.max(Swift.min(firstMaxLength, maxLength), 16)
    }

    public func makeIterator() -> Iterator {
        Iterator(text: text, maxLength: maxLength, firstMaxLength: firstMaxLength)
    }

    public struct Iterator: IteratorProtocol {
        let text: String
        let maxLength: Int
        let firstMaxLength: Int
        var position: String.Index
        /// The limit of the next piece: `firstMaxLength`, then `growth` times the last, up to `maxLength`.
        var limit: Int
        /// The text's links, in order; those before `position` are dropped as it passes them.
        var links: ArraySlice<TextLink>

        init(text: String, maxLength: Int, firstMaxLength: Int) {
            self.text = text
            self.maxLength = maxLength
            self.firstMaxLength = firstMaxLength
            self.position = text.startIndex
            self.limit = firstMaxLength
            self.links = text.contains("](") ? TextLink.links(in: text)[...] : []
        }

        public mutating func next() -> Substring? {
            guard let piece = next(maxLength: limit) else { return nil }
            limit = limit > maxLength / SentenceSplitter.growth ? maxLength : limit * SentenceSplitter.growth
            return piece
        }

        /// The next piece, cut at `limit` characters (at least 16) whatever the splitter's own
        /// limits: for a caller that sizes each piece as it goes.
        public mutating func next(maxLength limit: Int) -> Substring? {
            let limit = Swift.max(limit, 16)
            while position < text.endIndex {
                let end = pieceEnd(from: position, limit: limit)
                let piece = text[position..<end]
                position = end
                let trimmed = piece.trimmingWhitespace()
                if trimmed.contains(where: { $0.isLetter || $0.isNumber }) {
                    return trimmed
                }
            }
            return nil
        }

        private mutating func pieceEnd(from start: String.Index, limit: Int) -> String.Index {
            while let link = links.first, link.whole.upperBound <= start { links.removeFirst() }
            var upcoming = links
            var index = start
            var count = 0
            var lastSoftBreak: String.Index?
            var lastSpace: String.Index?
            while index < text.endIndex {
                let character = text[index]
                let next = text.index(after: index)
                count += 1
                while let link = upcoming.first, link.whole.upperBound <= index { upcoming.removeFirst() }
                let inLink = upcoming.first.map { $0.whole.lowerBound < index } ?? false
                if character.isNewline { return next }
                if !inLink, Self.sentenceEnds.contains(character) {
                    if next == text.endIndex || text[next].isWhitespace { return next }
                }
                if character.isWhitespace && !inLink { lastSpace = next }
                if !inLink, Self.softBreaks.contains(character), next < text.endIndex, text[next].isWhitespace {
                    lastSoftBreak = next
                }
                if count >= limit {
                    if let cut = lastSoftBreak ?? lastSpace { return cut }
                    // A link longer than the limit, from the piece's start: whole, unless it is
                    // longer than any piece may be.
                    if inLink, let link = upcoming.first,
                        text.distance(from: link.whole.lowerBound, to: link.whole.upperBound) <= maxLength
                    {
                        return link.whole.upperBound
                    }
                    return next
                }
                index = next
            }
            return text.endIndex
        }

        static let sentenceEnds: Set<Character> = [".", "!", "?", ";", "…", "。", "！", "？"]
        static let softBreaks: Set<Character> = [",", ":", "—", "–", ")", "，", "、"]
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return self[endIndex...] }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return self[first...last]
    }
}

extension SentenceSplitter {
    /// Whether `piece` ends a sentence (its last character, closing quotes and brackets aside,
    /// is a sentence end), where a listener expects a pause.
    public static func endsSentence(_ piece: some StringProtocol) -> Bool {
        guard let last = piece.last(where: { !$0.isWhitespace && !"\"'”’)]»".contains($0) }) else { return false }
        return Iterator.sentenceEnds.contains(last)
    }

    /// Consecutive sentences joined into pieces of at most `maxLength` characters, for
    /// upstreams that take a bounded input per request: as few requests as possible, each
    /// ending at a sentence boundary (or inside an over-long sentence, at a comma or space).
    public static func packed(_ text: String, maxLength: Int) -> [String] {
        var pieces: [String] = []
        var current = ""
        for sentence in SentenceSplitter(text, maxLength: maxLength, firstMaxLength: maxLength) {
            if !current.isEmpty && current.count + 1 + sentence.count > maxLength {
                pieces.append(current)
                current = ""
            }
            current += current.isEmpty ? String(sentence) : " " + sentence
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
