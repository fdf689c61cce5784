import Foundation

/// What ffprobe (from ffmpeg) says of a file: the decoder's view, not ours.
struct Probe: Decodable {
    struct Stream: Decodable {
        var codec_name: String
        var sample_rate: String?
        var channels: Int?
    }
    struct Format: Decodable { var duration: String? }
    var streams: [Stream]
    var format: Format

    var duration: Double { Double(format.duration ?? "") ?? 0 }

    static func run(_ bytes: [UInt8], extension ext: String) throws -> Probe {
        try withTemporaryFile(bytes, extension: ext) { url in try run(url) }
    }

    private static func run(_ url: URL) throws -> Probe {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,sample_rate,channels",
            "-of", "json", url.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(Probe.self, from: output)
    }
}

/// Calls `body` with a temporary file holding `bytes`, removed afterwards.
func withTemporaryFile<Result>(
    _ bytes: [UInt8], extension ext: String, _ body: (URL) throws -> Result
) throws -> Result {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("audio-\(UUID().uuidString).\(ext)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}
