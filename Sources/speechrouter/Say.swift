import ArgumentParser
import Foundation
import SpeechRouterClient
import NIOCore

struct Say: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speak text into an audio file, through a server or the built-in engines.",
        discussion: """
            With --base-url or $SPEECHROUTER_BASE_URL the text goes to that server (key: --api-key or \
            $SPEECHROUTER_API_KEY); otherwise the built-in engines speak it in this process.
            """)

    static let formats = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
    /// Inputs at least this long get a progress bar.
    static let longInput = 200

    @Argument(help: "The text to speak (default: standard input).")
    var text: String?

    @Option(name: .shortAndLong, help: "The model.")
    var model = "local/flite"

    @Option(name: .shortAndLong, help: "The voice (default: the model's).")
    var voice: String?

    @Option(help: "Speaking rate, 0.25 to 4.0 (default: 1.0).")
    var speed: Double?

    @Option(
        name: .shortAndLong, help: "The audio file, .mp3, .opus, .aac, .flac, .wav or .pcm; - for standard output (default: speech.mp3).")
    var output: String?

    @Option(help: "mp3, opus, aac, flac, wav or pcm (default: from the file's extension; mp3 for standard output).")
    var format: String?

    @OptionGroup var server: ServerAddress

    func validate() throws {
        _ = try outputFormat()
        if let speed, !(0.25...4.0).contains(speed) {
            throw ValidationError("--speed must be from 0.25 to 4.0, not \(speed)")
        }
    }

    /// The format named by --format, else by the output's extension.
    func outputFormat() throws -> String {
        let path = output ?? "speech.\(format ?? "mp3")"
        let fileExtension = path == "-" ? nil : URL(fileURLWithPath: path).pathExtension.lowercased()
        if let format {
            guard Self.formats.contains(format) else {
                throw ValidationError("--format must be one of \(Self.formats.joined(separator: ", "))")
            }
            if let fileExtension, Self.formats.contains(fileExtension), fileExtension != format {
                throw ValidationError("--format \(format) does not match \(path)")
            }
            return format
        }
        guard let fileExtension else { return "mp3" }
        guard Self.formats.contains(fileExtension) else {
            throw ValidationError("cannot tell the format of \(path): name a .mp3, .opus, .aac, .flac, .wav or .pcm file, or give --format")
        }
        return fileExtension
    }

    func run() async throws {
        let format = try outputFormat()
        let input = try text ?? Self.readStandardInput()
        var destination = AudioOutput(path: output ?? "speech.\(format)")
        var progress = ProgressBar(shown: input.unicodeScalars.count >= Self.longInput)
        var libraryMessages: String?
        do {
            if let client = try server.client() {
                try await speak(input, format: format, with: client, into: &destination, progress: &progress)
            } else {
                let synthesis = LocalSynthesis(model: model, input: input, voice: voice, speed: speed, format: format)
                libraryMessages = try await synthesis.speak { chunk, fraction in
                    try destination.write(chunk)
                    progress.update(fraction: fraction, note: Self.size(destination.bytesWritten))
                }
            }
            try destination.finish()
            progress.clear()
        } catch {
            progress.clear()
            destination.discard()
            throw error
        }
        if let libraryMessages { FileHandle.standardError.write(Data("\(libraryMessages)\n".utf8)) }
        if !destination.isStandardOutput {
            FileHandle.standardError.write(
                Data("Wrote \(destination.path) (\(Self.size(destination.bytesWritten)))\n".utf8))
        }
    }

    private func speak(
        _ input: String, format: String, with client: SpeechRouter, into destination: inout AudioOutput,
        progress: inout ProgressBar
    ) async throws {
        let request = SpeechRequest(
            model: model, input: input, voice: voice, responseFormat: ResponseFormat(rawValue: format), speed: speed)
        do {
            // The server does not say how long the audio will be, so the bar shows what arrived.
            for try await chunk in try await client.tts.createSpeech(request) {
                try destination.write(chunk.readableBytesView)
                progress.update(note: "received \(Self.size(destination.bytesWritten))")
            }
        } catch let error as APIError {
            throw CommandFailure(error.message)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure("\(client.baseURL): \(error)")
        }
    }

    private static func readStandardInput() throws -> String {
        guard let text = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) else {
            throw CommandFailure("standard input is not UTF-8 text")
        }
        return text
    }

    private static func size(_ bytes: Int) -> String {
        switch bytes {
        case ..<10_000: "\(bytes) bytes"
        case ..<10_000_000: "\(bytes / 1000) KB"
        default: "\(bytes / 1_000_000) MB"
        }
    }
}
