import Foundation

/// ffmpeg's decode of a file to 24 kHz mono s16le, and what it said on stderr: the decoder's
/// view of our bytes, not ours.
struct FFmpegDecode {
    var samples: [Int16]
    var errors: String

    static func run(_ bytes: [UInt8], extension ext: String) throws -> FFmpegDecode {
        try withTemporaryFile(bytes, extension: ext) { url in try run(url) }
    }

    private static func run(_ url: URL) throws -> FFmpegDecode {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-nostdin", "-v", "error", "-i", url.path, "-f", "s16le", "-ac", "1", "-ar", "24000", "-",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let messages = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let samples = stride(from: 0, to: data.count - 1, by: 2).map { index in
            Int16(bitPattern: UInt16(data[index]) | UInt16(data[index + 1]) << 8)
        }
        var text = String(decoding: messages, as: UTF8.self)
        if process.terminationStatus != 0 { text += "\nffmpeg exited with \(process.terminationStatus)" }
        return FFmpegDecode(samples: samples, errors: text)
    }
}
