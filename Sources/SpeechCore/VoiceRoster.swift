import Synchronization

/// The voices a built-in engine has installed right now, shared between the engine, which
/// replaces them when it reloads its voices, and the model the catalog lists, whose `voices`
/// read them; so `/models` and voice checks see a reload without rebuilding the catalog.
public final class VoiceRoster: Sendable {
    /// One voice as clients address it, and the language it speaks.
    public struct Voice: Sendable, Equatable {
        public var name: String
        public var language: String

        public init(name: String, language: String) {
            self.name = name
            self.language = language
        }
    }

    private let current: Mutex<[Voice]>

    public init(_ voices: [Voice]) {
        current = Mutex(voices)
    }

    public var voices: [Voice] { current.withLock { $0 } }

    public func replace(with voices: [Voice]) {
        current.withLock { $0 = voices }
    }
}
