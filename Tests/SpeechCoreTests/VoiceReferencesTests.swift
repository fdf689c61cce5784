import Foundation
import Testing

@testable import SpeechCore

@Suite struct VoiceReferencesTests {
    /// Bytes no text encoding would keep intact: every byte value, twice.
    static let recording: [UInt8] = (0..<512).map { UInt8($0 % 256) }
    static let base64 = Data(recording).base64EncodedString()

    func parse(_ references: String) throws(SpeechError) -> SpeechRequest {
        try SpeechRequest.parse(json: Array(#"{"model":"m","input":"Hi.","input_references":\#(references)}"#.utf8))
    }

    func error(_ references: String) -> SpeechError? {
        do {
            _ = try parse(references)
            return nil
        } catch {
            return error
        }
    }

    func audio(_ data: String, format: String? = nil) -> String {
        let format = format.map { #","format":"\#($0)""# } ?? ""
        return #"{"type":"input_audio","input_audio":{"data":"\#(data)"\#(format)}}"#
    }

    @Test func recordingsAndTranscriptsAreDecoded() throws {
        let request = try parse(
            "[\(audio(Self.base64, format: "wav")),"
                + #"{"type":"text","text":"What it says."},"#
                + "\(audio("data:audio/mpeg;base64,\(Self.base64)"))]")
        let references = try #require(request.references)
        #expect(references.audio == [
            ReferenceAudio(bytes: Self.recording, format: "wav"), ReferenceAudio(bytes: Self.recording, format: "mpeg"),
        ])
        #expect(references.transcripts == ["What it says."])
        #expect(references.audio[0].base64 == Self.base64)
        // A description may reach a log: it never holds the audio.
        #expect(!"\(request)".contains(Self.base64) && !"\(references)".contains(Self.base64))
    }

    @Test func absentOrNullReferencesAreNone() throws {
        #expect(try SpeechRequest.parse(json: Array(#"{"model":"m","input":"Hi."}"#.utf8)).references == nil)
        #expect(try parse("null").references == nil)
    }

    @Test func eachBadReferenceIsNamed() {
        let cases: [(String, String)] = [
            ("[]", "input_references"),
            (#"{"type":"text"}"#, "input_references"),
            (#"[{"type":"text","text":"only a transcript"}]"#, "input_references"),
            (#"[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]"#, "input_references[0].type"),
            (#"[{"type":"input_audio"}]"#, "input_references[0].input_audio"),
            (#"[{"type":"input_audio","input_audio":{"data":5}}]"#, "input_references[0].input_audio.data"),
            ("[\(audio(""))]", "input_references[0].input_audio.data"),
            ("[\(audio("not base64!"))]", "input_references[0].input_audio.data"),
            ("[\(audio("data:audio/wav,\(Self.base64)"))]", "input_references[0].input_audio.data"),
            ("[\(audio(Self.base64, format: "../wav"))]", "input_references[0].input_audio.format"),
            ("[" + Array(repeating: audio(Self.base64), count: 4).joined(separator: ",") + "]", "input_references"),
            ("[\(audio(Self.base64)),{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]", "input_references"),
            ("[\(audio(Self.base64)),{\"type\":\"text\",\"text\":\"  \"}]", "input_references[1].text"),
            (#"[{"type":"input_audio","input_audio":{"url":"ftp://example.com/a.wav"}}]"#, "input_references[0].input_audio.url"),
            (#"[{"type":"input_audio","input_audio":{"url":"https://example.com/a.wav"}}]"#, "input_references[0].input_audio.url"),
            (#"[{"type":"input_audio","input_audio":{"url":"http://10.0.0.1/a.wav"}}]"#, "input_references[0].input_audio.url"),
        ]
        for (references, field) in cases {
            switch error(references) {
            case .invalidField(let name, _)?, .missingField(let name)?: #expect(name == field, "\(references)")
            default: Issue.record("\(references) was not refused")
            }
        }
    }

    @Test func limitsAreOpenRouters() {
        // 20 MiB of base64 is taken (and decodes to exactly 15 MiB); one more character is not.
        let most = String(repeating: "A", count: VoiceReferences.maxBase64Characters)
        #expect(throws: Never.self) { try parse("[\(audio(most))]") }
        guard case .invalidField(let name, let reason)? = error("[\(audio(most + "AAAA"))]") else {
            Issue.record("20 MiB + 4 characters of base64 was taken")
            return
        }
        #expect(name == "input_references[0].input_audio.data" && reason.contains("20971520"))
        let transcript = String(repeating: "a", count: VoiceReferences.maxTranscriptCharacters + 1)
        guard case .invalidField(let field, _)? = error(#"[\#(audio(Self.base64)),{"type":"text","text":"\#(transcript)"}]"#)
        else {
            Issue.record("a transcript over 10,000 characters was taken")
            return
        }
        #expect(field == "input_references[1].text")
    }
}
