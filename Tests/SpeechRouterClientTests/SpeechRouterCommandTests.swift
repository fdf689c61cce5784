import Foundation
import SpeechCache
import Testing

/// The built `speechrouter` binary, run as a user would, beside the test bundle in the build folder.
struct SpeechRouterCommand {
    static let path: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("speechrouter").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return package.appendingPathComponent(".build/debug/speechrouter").path
    }()

    /// Runs with the machine's environment minus its SpeechRouter and OpenRouter settings, plus `environment`.
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) async throws
        -> ToolRun
    {
        var base = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("SPEECHROUTER_") && !$0.key.hasPrefix("OPENROUTER_")
        }
        base.merge(environment) { _, new in new }
        return try await ToolRun.run(path, arguments, environment: base, input: input)
    }
}

@Suite struct SpeechRouterCommandTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("say-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @Test func sayWritesMp3WavAndPcmFilesByExtension() async throws {
        let text = "Hello from the command line. This is a second sentence."
        for (name, codec) in [("out.mp3", "mp3"), ("out.wav", "pcm_s16le")] {
            let run = try await SpeechRouterCommand.run(["say", text, "-v", "rms", "-o", file(name)])
            #expect(run.status == 0, "\(run.standardError)")
            #expect(run.standardOutput.isEmpty)
            let probe = try await AudioProbe.probe(file(name))
            #expect(probe.codec == codec)
            #expect(probe.sampleRate == 24_000)
            #expect(probe.streams.first?.channels == 1)
            #expect((2.0...15.0).contains(probe.seconds), "\(name): \(probe.seconds) s")
        }
        let wav = try Data(contentsOf: URL(fileURLWithPath: file("out.wav")))
        #expect(wav.prefix(4) == Data("RIFF".utf8))

        let run = try await SpeechRouterCommand.run(["say", text, "--speed", "2", "-o", file("out.pcm")])
        #expect(run.status == 0, "\(run.standardError)")
        let pcm = try Data(contentsOf: URL(fileURLWithPath: file("out.pcm")))
        #expect(pcm.count % 2 == 0)
        // Headerless 16-bit mono at 24 kHz: 48 000 bytes a second; twice as fast as the wav.
        let seconds = Double(pcm.count) / 48_000
        #expect((1.0...8.0).contains(seconds), "\(seconds) s")
        #expect(pcm.prefix(4) != Data("RIFF".utf8))
    }

    @Test func sayReadsStandardInputAndWritesStandardOutput() async throws {
        let run = try await SpeechRouterCommand.run(
            ["say", "-o", "-", "--format", "wav"], input: "Text that arrives on standard input.\n")
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.prefix(4) == Data("RIFF".utf8))
        try run.standardOutput.write(to: URL(fileURLWithPath: file("stdin.wav")))
        let probe = try await AudioProbe.probe(file("stdin.wav"))
        #expect(probe.codec == "pcm_s16le")
        #expect((1.0...10.0).contains(probe.seconds), "\(probe.seconds) s")

        let mp3 = try await SpeechRouterCommand.run(["say", "-o", "-"], input: "Piped out as mp3.")
        #expect(mp3.status == 0, "\(mp3.standardError)")
        try mp3.standardOutput.write(to: URL(fileURLWithPath: file("stdout.mp3")))
        #expect(try await AudioProbe.probe(file("stdout.mp3")).codec == "mp3")
    }

    @Test func sayFailsWithTheErrorMessageInProcess() async throws {
        let unknownModel = try await SpeechRouterCommand.run(["say", "Hi.", "-m", "nope/x", "-o", file("no.mp3")])
        #expect(unknownModel.status != 0)
        #expect(unknownModel.standardError.contains("Model nope/x does not exist"), "\(unknownModel.standardError)")
        #expect(!FileManager.default.fileExists(atPath: file("no.mp3")))

        let unknownVoice = try await SpeechRouterCommand.run(["say", "Hi.", "-v", "zzz", "-o", file("no.mp3")])
        #expect(unknownVoice.status != 0)
        #expect(unknownVoice.standardError.contains("Voice 'zzz' is not available for local/flite"))

        let badExtension = try await SpeechRouterCommand.run(["say", "Hi.", "-o", file("out.ogg")])
        #expect(badExtension.status != 0)
        #expect(badExtension.standardError.contains("cannot tell the format"), "\(badExtension.standardError)")
    }

    @Test func sayThroughAServerSpeaksAndReportsTheServersErrors() async throws {
        let test = try await LiveGateway.make()
        let output = file("served.mp3")
        try await test.run { baseURL in
            let environment = ["SPEECHROUTER_BASE_URL": baseURL, "SPEECHROUTER_API_KEY": test.key]
            let spoken = try await SpeechRouterCommand.run(
                ["say", "Spoken by the server.", "-m", "local/espeak-ng", "-v", "en-us", "-o", output],
                environment: environment)
            #expect(spoken.status == 0, "\(spoken.standardError)")
            let probe = try await AudioProbe.probe(output)
            #expect(probe.codec == "mp3" && probe.sampleRate == 24_000)

            let unknownVoice = try await SpeechRouterCommand.run(
                ["say", "Hi.", "-v", "zzz", "-o", file("no.mp3")], environment: environment)
            #expect(unknownVoice.status != 0)
            #expect(
                unknownVoice.standardError.contains("Voice 'zzz' is not available for local/flite; available voices:"),
                "\(unknownVoice.standardError)")
            #expect(!FileManager.default.fileExists(atPath: file("no.mp3")))

            let noKey = try await SpeechRouterCommand.run(
                ["say", "Hi.", "--base-url", baseURL, "-o", file("no.mp3")])
            #expect(noKey.status != 0)
            #expect(noKey.standardError.contains("Missing Authentication header"), "\(noKey.standardError)")
        }
    }

    @Test func modelsListsVoicesAndPricesFromTheCatalogOrAServer() async throws {
        let local = try await SpeechRouterCommand.run(["models"])
        #expect(local.status == 0, "\(local.standardError)")
        let lines = String(decoding: local.standardOutput, as: UTF8.self).split(separator: "\n")
        #expect(lines.first?.hasPrefix("MODEL") == true)
        let espeak = try #require(lines.first { $0.hasPrefix("local/espeak-ng") })
        #expect(espeak.contains("free") && espeak.contains("more)"), "\(espeak)")
        #expect(lines.contains { $0.hasPrefix("local/flite") })

        let all = try await SpeechRouterCommand.run(["models", "--all-voices"])
        #expect(String(decoding: all.standardOutput, as: UTF8.self).contains("en-us"))

        let test = try await LiveGateway.make(fliteCharacterPrice: "0.000015")
        try await test.run { baseURL in
            let served = try await SpeechRouterCommand.run(["models", "--base-url", baseURL])
            #expect(served.status == 0, "\(served.standardError)")
            let flite = try #require(
                String(decoding: served.standardOutput, as: UTF8.self).split(separator: "\n")
                    .first { $0.hasPrefix("local/flite") })
            // USD per million characters.
            #expect(flite.contains(" 15 "), "\(flite)")
        }
    }

    @Test func cacheStatsShowsTheHitsMissesAndEvictionsAServerCounted() async throws {
        // What a server's store counts: two misses stored, one hit, and one eviction to stay under 4 KiB.
        let store = try SpeechCacheStore(directory: directory.appendingPathComponent("cache"), limitBytes: 4_096)
        func lookup(_ text: String) -> CacheLookup {
            store.lookup(SpeechCacheKey(fields: [("input", text)]), source: "g", ttlSeconds: 300)
        }
        for text in ["a", "b"] {
            guard case .lead(let fill) = lookup(text) else {
                Issue.record("expected a miss for \(text)")
                return
            }
            fill.append(Array(repeating: 1, count: 3_000))
            fill.commit()
            if text == "a" {
                guard case .hit = lookup("a") else {
                    Issue.record("expected a hit")
                    return
                }
            }
        }
        let run = try await SpeechRouterCommand.run(["cache", "stats", "--data-dir", directory.path])
        #expect(run.status == 0, "\(run.standardError)")
        let output = String(decoding: run.standardOutput, as: UTF8.self)
        var figures: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { figures[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        #expect(figures["entries"] == "1" && figures["bytes"] == "3000", "\(output)")
        #expect(figures["hits"] == "1" && figures["misses"] == "2" && figures["evictions"] == "1", "\(output)")
        #expect(figures["coalesced"] == "0", "\(output)")
    }
}
