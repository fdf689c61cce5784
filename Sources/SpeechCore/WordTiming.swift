/// When one word of the input is spoken: seconds from the start of the audio, and where the word
/// is in the text, in Unicode code points (Python's `len`), end exclusive.
///
/// An engine reports times from the start of the piece it spoke and offsets into that piece's
/// text; the audio pipeline moves both to the whole response (`shifted`).
public struct WordTiming: Sendable, Equatable, Codable {
    public var word: String
    public var startTime: Double
    public var endTime: Double
    public var charStart: Int
    public var charEnd: Int

    public init(word: String, startTime: Double, endTime: Double, charStart: Int, charEnd: Int) {
        self.word = word
        self.startTime = startTime
        self.endTime = endTime
        self.charStart = charStart
        self.charEnd = charEnd
    }

    enum CodingKeys: String, CodingKey {
        case word
        case startTime = "start_time"
        case endTime = "end_time"
        case charStart = "char_start"
        case charEnd = "char_end"
    }

    /// This timing `seconds` later and `characters` further into the text.
    public func shifted(by seconds: Double, characters: Int) -> WordTiming {
        WordTiming(
            word: word, startTime: startTime + seconds, endTime: endTime + seconds, charStart: charStart + characters,
            charEnd: charEnd + characters)
    }
}

/// Where the characters of a rewritten text came from: for each code point of the text an engine
/// reads, the offset of the code point of the original it stands for. Engines that clean text
/// before their C library reads it keep one, so the offsets they report refer to the original.
public struct TextOrigins: Sendable {
    public private(set) var text = ""
    private var origins: [Int] = []
    private var originalLength = 0

    public init() {}

    /// Appends `scalars`, all standing for the original's code point at `origin`.
    public mutating func append(_ scalars: some StringProtocol, from origin: Int) {
        for scalar in scalars.unicodeScalars {
            text.unicodeScalars.append(scalar)
            origins.append(origin)
        }
        originalLength = max(originalLength, origin + 1)
    }

    /// The original's range for `range` of the rewritten text (code points, end exclusive);
    /// nil when it lies outside the text.
    public func original(_ range: Range<Int>) -> Range<Int>? {
        guard range.lowerBound >= 0, range.upperBound <= origins.count, !range.isEmpty else { return nil }
        return origins[range.lowerBound]..<(origins[range.upperBound - 1] + 1)
    }

    /// The original's words: runs of letters, digits and the marks on them, with the apostrophes
    /// and hyphens between two of them ("don't", "e-mail"; not the closing quote of ‘single’).
    /// Used where an engine reports no words of its own, and to name the words eSpeak NG times.
    public static func words(of text: String) -> [(word: String, range: Range<Int>)] {
        let scalars = Array(text.unicodeScalars)
        func isWordCharacter(_ offset: Int) -> Bool {
            guard offset < scalars.count else { return false }
            let properties = scalars[offset].properties
            return properties.isAlphabetic || properties.numericType != nil
                || [.nonspacingMark, .spacingMark, .enclosingMark].contains(properties.generalCategory)
        }
        var words: [(String, Range<Int>)] = []
        var start: Int?
        for offset in scalars.indices {
            let joins = start != nil && "'’-".unicodeScalars.contains(scalars[offset]) && isWordCharacter(offset + 1)
            if isWordCharacter(offset) || joins {
                if start == nil { start = offset }
            } else if let begun = start {
                words.append((String(String.UnicodeScalarView(scalars[begun..<offset])), begun..<offset))
                start = nil
            }
        }
        if let begun = start {
            words.append((String(String.UnicodeScalarView(scalars[begun...])), begun..<scalars.count))
        }
        return words
    }
}
