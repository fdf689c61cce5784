import Foundation
import SpeechCore

/// A folder of Piper voices, `NAME.onnx` beside `NAME.onnx.json`, each served by `local/piper`
/// under `NAME` (a multi-speaker voice as `NAME:SPEAKER` per speaker). hibari's voices may share
/// the folder (`HibariVoiceFolder`).
///
/// A scan reads every config and checks that every model is a whole ONNX file, so a broken or
/// half-copied voice is skipped with its reason instead of reaching ONNX Runtime.
public struct PiperVoiceFolder: Sendable, Equatable {
    public var directory: String
    /// Files another engine serves from the same folder (hibari's voices), passed over.
    public var otherEnginesFiles: Set<String> = []

    public init(directory: String) {
        self.directory = directory
    }

    /// A voice file that is not served, and why.
    public struct Skipped: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var reason: String

        public var description: String { "\(file): \(reason)" }
    }

    /// What a scan found: the voices that can be loaded, by name, and the files skipped.
    public struct Scan: Sendable {
        public var voices: [(name: String, voice: PiperVoice)]
        public var skipped: [Skipped]
    }

    /// The longest voice name, in characters.
    static let nameLimit = 64

    /// Reads the folder. A folder that does not exist holds no voices; files whose names start
    /// with `.` (a copy in progress) are passed over.
    public func scan() -> Scan {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".") && !otherEnginesFiles.contains($0) }.sorted()
        var scan = Scan(voices: [], skipped: [])
        for file in files where file.hasSuffix(".onnx.json") {
            let model = String(file.dropLast(".json".count))
            if !files.contains(model) {
                scan.skipped.append(Skipped(file: path(file), reason: "no \(model) beside it"))
            }
        }
        for file in files where file.hasSuffix(".onnx") {
            let name = String(file.dropLast(".onnx".count))
            do {
                try Self.checkName(name)
                let voice = try PiperVoice(modelPath: path(file))
                try ONNXFile.checkWhole(at: path(file))
                scan.voices.append((name, voice))
            } catch {
                scan.skipped.append(Skipped(file: path(file), reason: Self.reason(error)))
            }
        }
        return scan
    }

    private func path(_ file: String) -> String { directory + "/" + file }

    /// A name a request can carry as its voice: letters, digits, `-`, `_` and `.`, at most 64.
    static func checkName(_ name: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard !name.isEmpty, name.count <= nameLimit, name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw ONNXFile.Problem("the voice name must be 1-\(nameLimit) letters, digits, '-', '_' or '.'")
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case let problem as ONNXFile.Problem: problem.reason
        case SpeechError.engineFailure(let message): message
        default: "\(error)"
        }
    }
}

/// The shape of an ONNX file: one protobuf `ModelProto`, whose top-level fields must run to
/// the end of the file exactly and include the graph (field 7). A file cut short ends inside a
/// field, which is what a half-copied model looks like.
enum ONNXFile {
    struct Problem: Error, CustomStringConvertible {
        var reason: String
        init(_ reason: String) { self.reason = reason }
        var description: String { reason }
    }

    static func checkWhole(at path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem("the model is unreadable") }
        try checkWhole(Array(data))
    }

    static func checkWhole(_ bytes: [UInt8]) throws {
        var offset = 0
        var hasGraph = false
        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard offset < bytes.count else { throw Problem("the model ends inside a field (truncated)") }
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte & 0x80 == 0 { return value }
            }
            throw Problem("the model is not an ONNX file (bad varint)")
        }
        func skip(_ count: UInt64) throws {
            guard count <= UInt64(bytes.count - offset) else {
                throw Problem("the model ends inside a field (truncated)")
            }
            offset += Int(count)
        }
        while offset < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: _ = try varint()
            case 1: try skip(8)
            case 2: try skip(try varint())
            case 5: try skip(4)
            default: throw Problem("the model is not an ONNX file (wire type \(key & 7))")
            }
            if key >> 3 == 7 { hasGraph = true }
        }
        guard hasGraph else { throw Problem("the model is not an ONNX file (it has no graph)") }
    }
}
