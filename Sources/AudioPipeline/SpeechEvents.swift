import Foundation
public import SpeechCore

/// The framing of `stream_format`: the encoded audio as the body, or OpenAI's server-sent
/// events, `data: {"type":"speech.audio.delta","audio":"<base64>"}` for each piece of audio
/// and one `speech.audio.done` carrying the usage at the end.
extension StreamFormat {
    public func contentType(for format: AudioFormat) -> String {
        switch self {
        case .audio: format.contentType
        case .sse: "text/event-stream"
        }
    }

    /// `audio` as it goes on the wire; nothing for no audio.
    public func frame(_ audio: [UInt8]) throws(SpeechError) -> [UInt8] {
        guard self == .sse, !audio.isEmpty else { return audio }
        return try Self.event(AudioDelta(audio: Data(audio).base64EncodedString()))
    }

    /// What ends a stream that delivered all its audio: the usage event for SSE, counting the
    /// billed characters as tokens (speech has no output tokens).
    public func closing(characters: Int) throws(SpeechError) -> [UInt8] {
        guard self == .sse else { return [] }
        return try Self.event(
            AudioDone(usage: .init(inputTokens: characters, outputTokens: 0, totalTokens: characters)))
    }

    /// One `speech.word` event per word for SSE (`return_timestamps`), sent after the audio
    /// delta that holds the word: nothing for raw audio.
    public func events(for words: [WordTiming]) throws(SpeechError) -> [UInt8] {
        guard self == .sse else { return [] }
        var events: [UInt8] = []
        for word in words { events += try Self.event(WordEvent(timing: word)) }
        return events
    }

    private static func event(_ body: some Encodable) throws(SpeechError) -> [UInt8] {
        let encoder = JSONEncoder()
        // Base64 is full of slashes, which are fine unescaped in JSON.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            return Array("data: ".utf8) + Array(try encoder.encode(body)) + Array("\n\n".utf8)
        } catch {
            throw .engineFailure("could not encode a speech event: \(error)")
        }
    }
}

/// `speech.audio.delta`: a piece of the audio, base64 of the response format's bytes.
struct AudioDelta: Encodable {
    let type = "speech.audio.delta"
    let audio: String
}

/// `speech.audio.done`: the end of the audio, with what it used.
struct AudioDone: Encodable {
    struct Usage: Encodable {
        // input_tokens, output_tokens, total_tokens on the wire (snake case, see `event`).
        let inputTokens: Int
        let outputTokens: Int
        let totalTokens: Int
    }

    let type = "speech.audio.done"
    let usage: Usage
}

/// `speech.word`: one word of the input and when it is spoken (`WordTiming`'s fields beside the type).
struct WordEvent: Encodable {
    let timing: WordTiming

    func encode(to encoder: any Encoder) throws {
        try timing.encode(to: encoder)
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode("speech.word", forKey: .type)
    }

    private enum TypeKey: String, CodingKey { case type }
}
