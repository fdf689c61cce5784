import Foundation
import Logging
import SpeechCore
import Testing

@testable import BuiltinEngines

/// The smallest whole ONNX file the scan accepts: a `ModelProto` holding an empty graph (field 7).
let wholeONNX: [UInt8] = [0x08, 0x07, 0x3A, 0x02, 0x0A, 0x00]

@Suite struct PiperVoiceFolderTests {
    func folder(_ files: [String: [UInt8]]) throws -> PiperVoiceFolder {
        let directory = try temporaryDirectory()
        for (name, bytes) in files {
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        return PiperVoiceFolder(directory: directory)
    }

    func config(_ changes: (inout String) -> Void = { _ in }) -> [UInt8] {
        var text = piperConfigFixture
        changes(&text)
        return Array(text.utf8)
    }

    @Test func validVoicesAreFoundByNameWithTheirConfig() throws {
        let german = config { $0 = $0.replacing(#""voice": "en-us""#, with: #""voice": "de""#) }
        let folder = try folder([
            "kerstin.onnx": wholeONNX, "kerstin.onnx.json": german, "amy.onnx": wholeONNX, "amy.onnx.json": config(),
            ".copying.onnx": [0x3A], "README.txt": Array("voices".utf8),
        ])
        let scan = folder.scan()
        #expect(scan.voices.map(\.name) == ["amy", "kerstin"])
        #expect(scan.voices.map(\.voice.espeakVoice) == ["en-us", "de"])
        #expect(scan.voices[0].voice.sampleRate == 22_050)
        #expect(scan.voices[0].voice.names(as: "amy").map(\.name) == ["amy"])
        #expect(scan.skipped.isEmpty, "hidden files and other files are passed over: \(scan.skipped)")
    }

    @Test func brokenAndHalfCopiedVoicesAreSkippedWithTheirReason() throws {
        let folder = try folder([
            "cut.onnx": Array(wholeONNX.dropLast(1)), "cut.onnx.json": config(),
            "garbled.onnx": wholeONNX, "garbled.onnx.json": Array(#"{"audio": {"sample_rate": 22"#.utf8),
            "lonely.onnx.json": config(),
            "nograph.onnx": [0x08, 0x07], "nograph.onnx.json": config(),
            "noconfig.onnx": wholeONNX,
            "fast.onnx": wholeONNX, "fast.onnx.json": config { $0 = $0.replacing("22050", with: "-5") },
            "bad name.onnx": wholeONNX, "bad name.onnx.json": config(),
            "good.onnx": wholeONNX, "good.onnx.json": config(),
        ])
        let scan = folder.scan()
        #expect(scan.voices.map(\.name) == ["good"])
        let reasons = Dictionary(uniqueKeysWithValues: scan.skipped.map {
            (URL(fileURLWithPath: $0.file).lastPathComponent, $0.reason)
        })
        #expect(reasons.keys.sorted() == [
            "bad name.onnx", "cut.onnx", "fast.onnx", "garbled.onnx", "lonely.onnx.json", "noconfig.onnx", "nograph.onnx",
        ])
        #expect(reasons["cut.onnx"]?.contains("truncated") == true)
        #expect(reasons["garbled.onnx"]?.contains("unreadable") == true)
        #expect(reasons["lonely.onnx.json"] == "no lonely.onnx beside it")
        #expect(reasons["nograph.onnx"]?.contains("no graph") == true)
        #expect(reasons["noconfig.onnx"]?.contains("missing") == true)
        #expect(reasons["fast.onnx"]?.contains("sample_rate -5") == true)
        #expect(reasons["bad name.onnx"]?.contains("voice name") == true)
    }

    @Test func aMultiSpeakerVoiceIsOneVoicePerSpeaker() throws {
        let three = config {
            $0 = $0.replacing(#""num_speakers": 1"#, with: #""num_speakers": 3, "speaker_id_map": {"en_f1": 2, "bob": 0, "cy": 1}"#)
        }
        let unnamed = config { $0 = $0.replacing(#""num_speakers": 1"#, with: #""num_speakers": 2"#) }
        let outOfRange = config {
            $0 = $0.replacing(#""num_speakers": 1"#, with: #""num_speakers": 2, "speaker_id_map": {"a": 0, "b": 2}"#)
        }
        let scan = try folder([
            "trio.onnx": wholeONNX, "trio.onnx.json": three, "duo.onnx": wholeONNX, "duo.onnx.json": unnamed,
            "odd.onnx": wholeONNX, "odd.onnx.json": outOfRange,
        ]).scan()
        let voices = Dictionary(uniqueKeysWithValues: scan.voices.map { ($0.name, $0.voice) })
        let trio = try #require(voices["trio"])
        #expect(trio.names(as: "trio").map(\.name) == ["trio:bob", "trio:cy", "trio:en_f1"])
        #expect(trio.names(as: "trio").map(\.speaker) == [0, 1, 2])
        #expect(try #require(voices["duo"]).names(as: "duo").map(\.name) == ["duo:0", "duo:1"])
        #expect(scan.skipped.map(\.reason) == ["Piper voice config \(scan.skipped.first?.file ?? "").json is invalid: speaker b's id 2 is not below num_speakers 2"])
    }

    @Test func aFolderThatDoesNotExistHoldsNoVoices() {
        let scan = PiperVoiceFolder(directory: "/nonexistent/voices-\(UUID().uuidString)").scan()
        #expect(scan.voices.isEmpty && scan.skipped.isEmpty)
    }

    @Test func openAIVoiceNamesAreDealtOverTheVoicesInTheDefaultLanguage() {
        let roster = [
            VoiceRoster.Voice(name: "joe", language: "en-us"), VoiceRoster.Voice(name: "kerstin", language: "de"),
            VoiceRoster.Voice(name: "amy", language: "en-gb"),
        ]
        #expect(PiperVoiceSet.openAIVoice("alloy", among: roster) == "joe")
        #expect(PiperVoiceSet.openAIVoice("ash", among: roster) == "amy")
        #expect(PiperVoiceSet.openAIVoice("ballad", among: roster) == "joe")
        #expect(PiperVoiceSet.openAIVoice("kerstin", among: roster) == nil)
        #expect(PiperVoiceSet.openAIVoice("alloy", among: Array(roster.prefix(1))) == "joe")
    }

    @Test func aModelWithARosterListsItsVoicesAsTheyAreNow() {
        let roster = VoiceRoster([.init(name: "joe", language: "en-us")])
        let model = SpeechModel.builtin(id: "local/piper", name: "P", description: "", voices: [], defaultVoice: "joe", roster: roster)
        #expect(model.voices == ["joe"] + openAIVoiceNames)
        roster.replace(with: [.init(name: "joe", language: "en-us"), .init(name: "alloy", language: "de")])
        #expect(model.voices == ["joe", "alloy"] + openAIVoiceNames.dropFirst())
        #expect(model.accepts(voice: "alloy"))
    }
}

@Suite(.enabled(if: piperIsInstalled, piperSkipReason)) struct PiperVoiceReloadTests {
    @Test func aReloadServesTheFolderAsItIsWhileEarlierSnapshotsKeepTheirVoices() async throws {
        let installation = try #require(PiperInstallation.locate())
        let folder = PiperVoiceFolder(directory: try temporaryDirectory())
        func install(_ name: String, espeak: String) throws {
            let manager = FileManager.default
            try manager.copyItem(atPath: installation.modelPath, toPath: folder.directory + "/\(name).onnx")
            let config = try String(contentsOfFile: installation.modelPath + ".json", encoding: .utf8)
                .replacing(#""voice": "en-us""#, with: #""voice": "\#(espeak)""#)
            try config.write(toFile: folder.directory + "/\(name).onnx.json", atomically: true, encoding: .utf8)
        }
        try install("anna", espeak: "en-us")
        let engine = try await PiperEngine.start(
            installation: installation, espeak: try await Engines.espeak.value, scheduler: Engines.scheduler,
            folder: folder)
        #expect(engine.model.voices.prefix(2) == ["joe", "anna"])
        let before = engine.snapshot()

        try FileManager.default.removeItem(atPath: folder.directory + "/anna.onnx")
        try install("kerstin", espeak: "de")
        try Data("{".utf8).write(to: URL(fileURLWithPath: folder.directory + "/broken.onnx.json"))
        await engine.reload(logger: Logger(label: "test"))

        #expect(engine.model.voices.prefix(3) == ["joe", "kerstin", "alloy"])
        let german = try await engine.synthesize("Guten Morgen, wie geht es dir?", voice: "kerstin", speed: 1)
        #expect(german.sampleRate == 22_050 && german.duration > .seconds(1))
        #expect(german.samples.map { abs(Int($0)) }.max() ?? 0 > 10_000)
        let kept = try await before.synthesize("Anna still speaks to the end.", voice: "anna", speed: 1)
        #expect(kept.duration > .seconds(1))
        await #expect(throws: SpeechError.self) {
            try await engine.synthesize("Hello.", voice: "anna", speed: 1)
        }
    }
}
