import Foundation
import Logging

/// What a C library prints on `stderr` while it runs, kept instead of written out.
///
/// eSpeak NG reports through `fprintf(stderr, …)` and has no handler to set: 1,200 characters
/// of Mandarin gave 2,076 lines of `espeak: No envelope`. During `capture`, the process's
/// `stderr` FILE is swapped for a memory stream. That global is shared by every thread, so:
/// call it from one thread at a time (eSpeak NG's own thread), and anything else printing
/// through C's `stderr` in that moment lands in the capture too (logged, not lost). swift-log's
/// default handler reads `stderr` once, on first use; it is made to read it here first, so that a
/// first log line written during a capture does not keep the memory stream forever.
enum StandardErrorCapture {
    private static let loggingPinned: Void = { _ = StreamLogHandler.standardError(label: "speechrouter") }()

    /// C's `stderr` variable, found by name: Swift 6 refuses the imported global outright.
    // nonisolated(unsafe): written only inside `capture`, which callers run on one thread.
    nonisolated(unsafe) private static let variable = dlsym(dlopen(nil, RTLD_NOW), "stderr")?
        .assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self)

    /// Runs `body` with `stderr` captured; returns its result and the lines it printed.
    static func capture<Result>(_ body: () throws -> Result) rethrows -> (Result, [String]) {
        _ = loggingPinned
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let variable, let memory = open_memstream(&buffer, &size) else { return (try body(), []) }
        let original = variable.pointee
        fflush(original)
        variable.pointee = memory
        defer {
            variable.pointee = original
            fclose(memory)  // sets `buffer` and `size`
            free(buffer)
        }
        let result = try body()
        fflush(memory)
        let text = buffer.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: size), as: UTF8.self) } ?? ""
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        return (result, lines.filter { !$0.isEmpty })
    }
}
