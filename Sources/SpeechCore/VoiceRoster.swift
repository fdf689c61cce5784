import Synchronization

/// The voices a built-in engine has installed right now, shared between the engine, which
/// replaces them when it reloads its voices, and the model the catalog lists, whose `voices`
/// read them; so `/models` and voice checks see a reload without rebuilding the catalog.
public final class VoiceRoster: Sendable {
    /// One voice as clients address it, the language it speaks, and what it was loaded from
    /// (the files and their sizes and times), which changes when its files are replaced.
    public struct Voice: Sendable, Equatable {
        public var name: String
        public var language: String
        public var identity: String

        public init(name: String, language: String, identity: String = "") {
            self.name = name
            self.language = language
            self.identity = identity
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

    /// What the audio of `name` is made from now: its voice's identity, or for a name that is not
    /// one of the voices (an OpenAI name, dealt over the roster), every voice's.
    public func identity(of name: String) -> String {
        let voices = self.voices
        if let voice = voices.first(where: { $0.name == name }) { return voice.identity }
        return voices.map { "\($0.name)=\($0.identity)" }.joined(separator: "\n")
    }
}
