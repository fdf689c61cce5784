import CZlib
import Foundation
import SpeechCore

/// Reads gzip-compressed files through zlib. hibari ships its lexicons and tagger compressed
/// (3.4 MB for 17 MB of JSON); reading them at start costs less than keeping a decompressed
/// copy next to the installed package, and `scripts/install-hibari` stays a plain pip install.
enum GzipFile {
    /// The decompressed bytes of the file at `path`.
    static func contents(of path: String) throws -> Data {
        guard let file = gzopen(path, "rb") else { throw SpeechError.engineFailure("\(path) could not be opened") }
        defer { gzclose(file) }
        var data = Data()
        let chunk = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(chunk)) }
            if count < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
                throw SpeechError.engineFailure("\(path) is not valid gzip: \(message)")
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<Int(count)])
        }
        return data
    }
}
