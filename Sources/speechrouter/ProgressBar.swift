import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line of progress on standard error, drawn only when standard error is a terminal.
struct ProgressBar {
    private static let width = 30
    let isShown: Bool
    private var drawn = ""
    private var drawnAt = ContinuousClock.now

    init(shown: Bool) {
        isShown = shown && isatty(STDERR_FILENO) == 1
    }

    /// A bar for a known fraction done, with a note after it.
    mutating func update(fraction: Double, note: String) {
        let done = Int((min(max(fraction, 0), 1) * Double(Self.width)).rounded(.down))
        let bar = String(repeating: "#", count: done) + String(repeating: "-", count: Self.width - done)
        draw("[\(bar)] \(Int((fraction * 100).rounded(.down)))% \(note)")
    }

    /// A note alone, when the total is unknown.
    mutating func update(note: String) {
        draw(note)
    }

    mutating func clear() {
        guard isShown, !drawn.isEmpty else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = ""
    }

    private mutating func draw(_ line: String) {
        // A redraw at most every 100 ms: chunks can come far faster than a terminal is read.
        guard isShown, line != drawn, ContinuousClock.now - drawnAt >= .milliseconds(100) || drawn.isEmpty else {
            return
        }
        FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
        drawn = line
        drawnAt = .now
    }
}
