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
    func render(audio: [UInt8], format: AudioFormat, words: [WordTiming], input: String) throws(SpeechError) -> [UInt8] {
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
            let cues = Self.cues(of: words, in: input).map { "\(Self.time($0.start, ".")) --> \(Self.time($0.end, "."))\n\($0.text)\n" }
            return Array(("WEBVTT\n\n" + cues.joined(separator: "\n")).utf8)
        case .srt:
            let cues = Self.cues(of: words, in: input).enumerated().map { index, cue in
                "\(index + 1)\n\(Self.time(cue.start, ",")) --> \(Self.time(cue.end, ","))\n\(cue.text)\n"
            }
            return Array(cues.joined(separator: "\n").utf8)
        }
    }

    /// The longest a cue's line grows, in characters (the common subtitle guideline's 42).
    static let cueLength = 42
    /// A silence longer than this between two words starts a new cue.
    static let cueGap = 0.5

    /// Consecutive words as subtitle lines: the input's own text from a cue's first word to its
    /// last (punctuation included), a new cue after a pause or once a line would pass `cueLength`.
    static func cues(of words: [WordTiming], in input: String) -> [(start: Double, end: Double, text: String)] {
        let scalars = Array(input.unicodeScalars)
        func text(_ range: Range<Int>) -> String {
            guard range.lowerBound >= 0, range.upperBound <= scalars.count else { return "" }
            let line = String(String.UnicodeScalarView(scalars[range]))
            // A cue line holds no line breaks, and "-->" would read as a timing line.
            return line.split(whereSeparator: \.isNewline).joined(separator: " ").replacingOccurrences(of: "-->", with: "->")
        }
        var cues: [(start: Double, end: Double, text: String)] = []
        var group: [WordTiming] = []
        func close() {
            guard let first = group.first, let last = group.last else { return }
            var end = last.charEnd
            // Keep the punctuation right after the last word ("dog." not "dog").
            while end < scalars.count, !scalars[end].properties.isWhitespace,
                !scalars[end].properties.isAlphabetic, scalars[end].properties.numericType == nil
            {
                end += 1
            }
            cues.append((first.startTime, last.endTime, text(first.charStart..<end)))
            group = []
        }
        for word in words {
            if let first = group.first, let last = group.last,
                word.charEnd - first.charStart > cueLength || word.startTime - last.endTime > cueGap
            {
                close()
            }
            group.append(word)
        }
        close()
        return cues
    }

    /// `seconds` as a cue time, `HH:MM:SS.mmm` (WebVTT) or `HH:MM:SS,mmm` (SubRip).
    static func time(_ seconds: Double, _ separator: String) -> String {
        let milliseconds = Int((max(seconds, 0) * 1000).rounded())
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
