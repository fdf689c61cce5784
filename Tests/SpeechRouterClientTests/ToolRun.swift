import Foundation

/// A finished run of a command-line program, with everything it wrote.
struct ToolRun {
    var status: Int32
    var standardOutput: Data
    var standardError: String

    /// Runs `executable` to its end. Output goes through files, so a program that writes a lot
    /// cannot block on a full pipe.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil
    ) async throws -> ToolRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (out, err, inp) = (
            directory.appendingPathComponent("out"), directory.appendingPathComponent("err"),
            directory.appendingPathComponent("in")
        )
        try Data((input ?? "").utf8).write(to: inp)
        try Data().write(to: out)
        try Data().write(to: err)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = try FileHandle(forReadingFrom: inp)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return ToolRun(
            status: status, standardOutput: try Data(contentsOf: out),
            standardError: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}

/// What ffprobe says of an audio file.
struct AudioProbe: Decodable {
    struct Stream: Decodable {
        var codec_name: String
        var sample_rate: String?
        var channels: Int?
    }
    struct Format: Decodable { var duration: String? }
    var streams: [Stream]
    var format: Format

    var codec: String? { streams.first?.codec_name }
    var sampleRate: Int? { streams.first?.sample_rate.flatMap { Int($0) } }
    var seconds: Double { Double(format.duration ?? "") ?? 0 }

    static func probe(_ path: String) async throws -> AudioProbe {
        let run = try await ToolRun.run(
            "/usr/bin/ffprobe",
            [
                "-v", "error", "-show_entries", "format=duration:stream=codec_name,sample_rate,channels", "-of", "json",
                path,
            ])
        guard run.status == 0 else { throw TestFailure("ffprobe \(path): \(run.standardError)") }
        return try JSONDecoder().decode(AudioProbe.self, from: run.standardOutput)
    }
}
