import Foundation

/// Where `say` writes audio: standard output for `-`, else a file that is created with the
/// first chunk, so a request refused up front leaves any existing file alone, and removed again
/// if the audio breaks off.
struct AudioOutput {
    let path: String
    private var file: FileHandle?
    private(set) var bytesWritten = 0

    init(path: String) { self.path = path }

    var isStandardOutput: Bool { path == "-" }

    mutating func write(_ bytes: some Sequence<UInt8>) throws {
        let data = Data(bytes)
        if isStandardOutput {
            try FileHandle.standardOutput.write(contentsOf: data)
        } else {
            try open().write(contentsOf: data)
        }
        bytesWritten += data.count
    }

    mutating func finish() throws {
        guard !isStandardOutput else { return }
        try open().close()
        file = nil
    }

    mutating func discard() {
        guard !isStandardOutput, let file else { return }
        try? file.close()
        try? FileManager.default.removeItem(atPath: path)
        self.file = nil
    }

    private mutating func open() throws -> FileHandle {
        if let file { return file }
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CommandFailure("cannot write \(path)") }
        file = handle
        return handle
    }
}
