import Foundation

/// One part of `input_references`, as OpenRouter's `SpeechInputReference` has it: a reference
/// recording (`input_audio`, base64 `data` or a `url`) or its transcript (`text`).
public enum SpeechInputReference: Codable, Sendable, Equatable {
    case inputAudio(InputAudio)
    case text(String)

    public struct InputAudio: Codable, Sendable, Equatable {
        /// Base64, or a `data:` URI holding base64.
        public var data: String?
        public var url: String?
        /// `wav`, `mp3`, …: what the audio is, as the client states it.
        public var format: String?
    }

    enum CodingKeys: String, CodingKey {
        case type, text
        case inputAudio = "input_audio"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "input_audio": self = .inputAudio(try container.decode(InputAudio.self, forKey: .inputAudio))
        case "text": self = .text(try container.decode(String.self, forKey: .text))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "must be input_audio or text, got '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .inputAudio(let audio):
            try container.encode("input_audio", forKey: .type)
            try container.encode(audio, forKey: .inputAudio)
        case .text(let text):
            try container.encode("text", forKey: .type)
            try container.encode(text, forKey: .text)
        }
    }
}

/// A reference recording, decoded from its base64.
public struct ReferenceAudio: Sendable, Equatable, CustomStringConvertible {
    public var bytes: [UInt8]
    /// The client's `format`, or the subtype of a `data:audio/…` URI; nil when neither says.
    public var format: String?

    public init(bytes: [UInt8], format: String? = nil) {
        self.bytes = bytes
        self.format = format
    }

    /// The audio as base64, the form JSON upstreams take it in.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Never the audio itself: a description may reach a log line.
    public var description: String { "\(bytes.count) bytes of \(format ?? "audio")" }
}

/// A request's validated `input_references`: the voice to clone, as 1 to 3 recordings and their
/// optional transcripts. Limits are OpenRouter's: 20 MiB of base64 (15 MiB decoded) per
/// recording, 10,000 characters per transcript.
public struct VoiceReferences: Sendable, Equatable, CustomStringConvertible {
    public var audio: [ReferenceAudio]
    public var transcripts: [String]

    public static let maxAudioParts = 3
    public static let maxBase64Characters = 20 * 1_048_576
    public static let maxAudioBytes = 15 * 1_048_576
    public static let maxTranscriptCharacters = 10_000
    static let field = "input_references"

    public init(audio: [ReferenceAudio], transcripts: [String] = []) {
        self.audio = audio
        self.transcripts = transcripts
    }

    /// Decodes `input_references` from a whole request body and checks every part.
    static func parse(json bytes: Data) throws(SpeechError) -> VoiceReferences? {
        struct Body: Decodable {
            var inputReferences: [SpeechInputReference]?
            enum CodingKeys: String, CodingKey { case inputReferences = "input_references" }
        }
        let parts: [SpeechInputReference]
        do {
            guard let decoded = try JSONDecoder().decode(Body.self, from: bytes).inputReferences else { return nil }
            parts = decoded
        } catch let error as DecodingError {
            throw Self.invalid(error)
        } catch {
            throw .invalidField(name: field, reason: "must be an array of input_audio and text parts")
        }
        return try VoiceReferences(parts: parts)
    }

    public init(parts: [SpeechInputReference]) throws(SpeechError) {
        var audio: [ReferenceAudio] = []
        var transcripts: [String] = []
        for (index, part) in parts.enumerated() {
            let name = "\(Self.field)[\(index)]"
            switch part {
            case .inputAudio(let reference):
                guard audio.count < Self.maxAudioParts else {
                    throw .invalidField(
                        name: Self.field, reason: "takes at most \(Self.maxAudioParts) input_audio parts")
                }
                audio.append(try Self.decode(reference, name: "\(name).input_audio"))
            case .text(let text):
                let count = text.unicodeScalars.count
                guard count > 0, !text.allSatisfy(\.isWhitespace) else {
                    throw .invalidField(name: "\(name).text", reason: "must not be empty")
                }
                guard count <= Self.maxTranscriptCharacters else {
                    throw .invalidField(
                        name: "\(name).text",
                        reason: "must be at most \(Self.maxTranscriptCharacters) characters, got \(count)")
                }
                transcripts.append(text)
            }
        }
        guard !audio.isEmpty else {
            throw .invalidField(name: Self.field, reason: "must contain at least one input_audio part")
        }
        guard transcripts.count <= audio.count else {
            throw .invalidField(name: Self.field, reason: "takes at most one text part per input_audio part")
        }
        self.init(audio: audio, transcripts: transcripts)
    }

    private static func decode(_ reference: SpeechInputReference.InputAudio, name: String) throws(SpeechError) -> ReferenceAudio {
        if let url = reference.url {
            guard reference.data == nil else { throw .invalidField(name: name, reason: "takes data or url, not both") }
            // No cloning provider here takes a URL, and the gateway fetches none (no request to
            // an address a client names): the scheme is checked, then the part is refused.
            guard let scheme = URLComponents(string: url)?.scheme?.lowercased(), scheme == "https" || scheme == "http"
            else {
                throw .invalidField(name: "\(name).url", reason: "must be an http or https URL")
            }
            throw .invalidField(
                name: "\(name).url", reason: "is not supported here: send the recording base64-encoded in data")
        }
        guard var text = reference.data, !text.isEmpty else {
            throw .invalidField(name: "\(name).data", reason: "is required (base64 audio or a data: URI)")
        }
        guard text.utf8.count <= maxBase64Characters else {
            throw .invalidField(name: "\(name).data", reason: "must be at most \(maxBase64Characters) characters of base64")
        }
        var format = reference.format
        if text.hasPrefix("data:") {
            guard let comma = text.firstIndex(of: ","), text[..<comma].hasSuffix(";base64") else {
                throw .invalidField(name: "\(name).data", reason: "must be a base64 data: URI")
            }
            let media = text[text.index(text.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
            if format == nil, media.hasPrefix("audio/") { format = String(media.dropFirst("audio/".count)) }
            text = String(text[text.index(after: comma)...])
        }
        if let stated = format {
            guard (1...16).contains(stated.count), stated.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else {
                throw .invalidField(name: "\(name).format", reason: "must be a short audio format name such as wav or mp3")
            }
        }
        guard let bytes = Data(base64Encoded: text), !bytes.isEmpty else {
            throw .invalidField(name: "\(name).data", reason: "must be valid base64 audio")
        }
        guard bytes.count <= maxAudioBytes else {
            throw .invalidField(name: "\(name).data", reason: "must decode to at most \(maxAudioBytes) bytes of audio")
        }
        return ReferenceAudio(bytes: Array(bytes), format: format?.lowercased())
    }

    /// The field a decoding error is about, by its path in the body, with what it must be.
    private static func invalid(_ error: DecodingError) -> SpeechError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().dropFirst().description
        }
        switch error {
        case .typeMismatch(let type, let context):
            let kind = type == String.self ? "a string" : (path(context.codingPath) == field ? "an array" : "an object")
            return .invalidField(name: path(context.codingPath), reason: "must be \(kind)")
        case .valueNotFound(_, let context):
            return .invalidField(name: path(context.codingPath), reason: "must not be null")
        case .keyNotFound(let key, let context):
            return .missingField(path(context.codingPath + [key]))
        case .dataCorrupted(let context):
            return .invalidField(name: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .invalidField(name: field, reason: "must be an array of input_audio and text parts")
        }
    }

    public var description: String {
        "\(audio.count) reference recording(s) (\(audio.map(\.bytes.count).reduce(0, +)) bytes), "
            + "\(transcripts.count) transcript(s)"
    }
}
