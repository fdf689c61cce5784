import Foundation
import SpeechCore

/// `POST /audio/captioned_speech`'s answer: the whole audio with its words' timings as JSON
/// (Kokoro-FastAPI's captioned speech: base64 `audio`, `audio_format`, `timestamps`), or the
/// timings alone as WebVTT or SubRip subtitles (`timestamps_format`).
enum Captions: String, CaseIterable, Sendable {
    case json, vtt, srt

    /// The caption fields of a `POST /audio/captioned_speech` body, beside the speech request's.
    struct Options: Decodable {
        var timestampsFormat: String?

        enum CodingKeys: String, CodingKey { case timestampsFormat = "timestamps_format" }
    }

    /// The format `body` asks for; JSON when it names none.
    static func parse(json body: some Collection<UInt8>) throws(SpeechError) -> Captions {
        let allowed = allCases.map(\.rawValue).joined(separator: ", ")
        let name: String?
        do {
            name = try JSONDecoder().decode(Options.self, from: Data(body)).timestampsFormat
        } catch {
            throw .invalidField(name: "timestamps_format", reason: "must be one of \(allowed)")
        }
        guard let name else { return .json }
        guard let captions = Captions(rawValue: name) else {
            throw .invalidField(name: "timestamps_format", reason: "must be one of \(allowed), got '\(name)'")
        }
        return captions
    }

    var contentType: String {
        switch self {
        case .json: "application/json"
        case .vtt: "text/vtt"
        case .srt: "application/x-subrip"
        }
    }

    struct Document: Encodable {
        var audio: String
        var audioFormat: String
        var timestamps: [WordTiming]

        enum CodingKeys: String, CodingKey {
            case audio, timestamps
            case audioFormat = "audio_format"
        }
    }

    /// The body for `audio` in `format`, spoken from `input`, whose words are `words`.
    func render(audio: [UInt8], format: AudioFormat, words: [WordTiming], input: String) throws(SpeechError) -> [UInt8]
    {
        switch self {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let document = Document(
                audio: Data(audio).base64EncodedString(), audioFormat: format.rawValue, timestamps: words)
            do {
                return Array(try encoder.encode(document))
            } catch {
                throw .engineFailure("could not encode the captions: \(error)")
            }
        case .vtt:
            let cues = Self.cues(of: words, in: input).map {
                "\(Self.time($0.start, ".")) --> \(Self.time($0.end, "."))\n\($0.text)\n"
            }
            return Array(("WEBVTT\n\n" + cues.joined(separator: "\n")).utf8)
        case .srt:
            let cues = Self.cues(of: words, in: input).enumerated().map { index, cue in
                "\(index + 1)\n\(Self.time(cue.start, ",")) --> \(Self.time(cue.end, ","))\n\(cue.text)\n"
            }
            return Array(cues.joined(separator: "\n").utf8)
        }
    }

    /// The longest a cue's line grows, in characters (the common subtitle guideline's 42); a
    /// cue holds at most two lines.
    static let lineLength = 42
    /// A silence longer than this between two words starts a new cue.
    static let cueGap = 0.5

    /// Consecutive words as subtitles: the input's own text from a cue's first word to its last,
    /// with the punctuation around them (“naïve”, "dog."). A cue ends with its sentence, after
    /// a pause, or before it would pass two lines; one longer than a line is broken at the space
    /// nearest its middle.
    static func cues(of words: [WordTiming], in input: String) -> [(start: Double, end: Double, text: String)] {
        let scalars = Array(input.unicodeScalars)
        func isPunctuation(_ offset: Int) -> Bool {
            let properties = scalars[offset].properties
            return !properties.isWhitespace && !properties.isAlphabetic && properties.numericType == nil
        }
        /// Where the punctuation right after the word ending at `end` ends.
        func punctuationEnd(after end: Int) -> Int {
            var end = min(max(end, 0), scalars.count)
            while end < scalars.count, isPunctuation(end) { end += 1 }
            return end
        }
        var cues: [(start: Double, end: Double, text: String)] = []
        var group: [WordTiming] = []
        var written = 0
        func close() {
            guard let first = group.first, let last = group.last else { return }
            var start = min(max(first.charStart, written), scalars.count)
            while start > written, isPunctuation(start - 1) { start -= 1 }
            let end = max(punctuationEnd(after: last.charEnd), start)
            written = end
            cues.append((first.startTime, last.endTime, lines(String(String.UnicodeScalarView(scalars[start..<end])))))
            group = []
        }
        for word in words {
            if let first = group.first, let last = group.last,
                word.charEnd - first.charStart > 2 * lineLength || word.startTime - last.endTime > cueGap
            {
                close()
            }
            group.append(word)
            let after = scalars[min(max(word.charEnd, 0), scalars.count)..<punctuationEnd(after: word.charEnd)]
            if after.contains(where: { ".!?…".unicodeScalars.contains($0) }) { close() }
        }
        close()
        return cues
    }

    /// A cue's text on one line, or on two broken at the space nearest its middle when it is
    /// longer than `lineLength`. A cue holds no blank line, and "-->" would read as a timing line.
    static func lines(_ text: String) -> String {
        let words = text.split(whereSeparator: \.isWhitespace).map { $0.replacingOccurrences(of: "-->", with: "->") }
        let line = words.joined(separator: " ")
        guard line.count > lineLength, words.count > 1 else { return line }
        // The first line's length with `index` words is `prefix`: the break whose two lines
        // differ least.
        var (prefix, best) = (0, (index: 1, imbalance: Int.max))
        for index in 1..<words.count {
            prefix += words[index - 1].count + (index > 1 ? 1 : 0)
            let imbalance = abs(2 * prefix + 1 - line.count)
            if imbalance < best.imbalance { best = (index, imbalance) }
        }
        return words[..<best.index].joined(separator: " ") + "\n" + words[best.index...].joined(separator: " ")
    }

    /// `seconds` as a cue time, `HH:MM:SS.mmm` (WebVTT) or `HH:MM:SS,mmm` (SubRip).
    static func time(_ seconds: Double, _ separator: String) -> String {
        // Engine times are finite and at most hours; a bad one is clamped, never trapped on.
        let milliseconds = seconds.isFinite ? Int((min(max(seconds, 0), 359_999) * 1000).rounded()) : 0
        let (hours, inHour) = milliseconds.quotientAndRemainder(dividingBy: 3_600_000)
        let (minutes, inMinute) = inHour.quotientAndRemainder(dividingBy: 60_000)
        let (wholeSeconds, millis) = inMinute.quotientAndRemainder(dividingBy: 1000)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        return "\(pad(hours, 2)):\(pad(minutes, 2)):\(pad(wholeSeconds, 2))\(separator)\(pad(millis, 3))"
    }
}
