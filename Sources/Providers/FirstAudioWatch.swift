import Synchronization

/// How an upstream stream's wait for its first audio ended.
public enum FirstAudioOutcome: Sendable {
    /// A chunk of audio arrived.
    case audio
    /// The body failed, or ended, before any audio.
    case failed(any Error)
    /// The stream was dropped before either.
    case abandoned
}

/// Tells its report, once, how a stream's wait for its first audio ended: an upstream that
/// answers 200 and then sends nothing (an empty body, a stall, a dropped connection) has not
/// served, which its response head alone cannot say.
final class FirstAudioWatch: Sendable {
    private let report: Mutex<(@Sendable (FirstAudioOutcome) -> Void)?>

    init(_ report: @escaping @Sendable (FirstAudioOutcome) -> Void) {
        self.report = Mutex(report)
    }

    deinit { tell(.abandoned) }

    /// Tells `outcome` if nothing was told yet; later calls change nothing.
    func tell(_ outcome: FirstAudioOutcome) {
        let report = report.withLock { report in
            defer { report = nil }
            return report
        }
        report?(outcome)
    }
}
