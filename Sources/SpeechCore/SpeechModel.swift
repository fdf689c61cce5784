/// A model as clients see it in `/models` and address it in `model`.
public struct SpeechModel: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var created: Int
    /// The most input characters one request may carry.
    public var contextLength: Int
    /// USD per input character, as a decimal string (`"0"` for free).
    public var pricePerCharacter: String
    public var voices: [String]
    public var defaultVoice: String
    public var supportsSpeed: Bool
    /// Variants a voice may carry after a `+` (eSpeak NG's `en-us+f3`); empty where none exist.
    public var voiceVariants: [String]

    public init(
        id: String, name: String, description: String, created: Int, contextLength: Int,
        pricePerCharacter: String, voices: [String], defaultVoice: String, supportsSpeed: Bool, voiceVariants: [String] = []
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.created = created
        self.contextLength = contextLength
        self.pricePerCharacter = pricePerCharacter
        self.voices = voices
        self.defaultVoice = defaultVoice
        self.supportsSpeed = supportsSpeed
        self.voiceVariants = voiceVariants
    }

    public func accepts(voice: String) -> Bool {
        if voices.contains(voice) { return true }
        guard !voiceVariants.isEmpty, let plus = voice.firstIndex(of: "+") else { return false }
        return voices.contains(String(voice[..<plus]))
            && voiceVariants.contains(String(voice[voice.index(after: plus)...]))
    }

    public var supportedParameters: [String] {
        supportsSpeed ? ["voice", "speed", "response_format"] : ["voice", "response_format"]
    }
}

/// The 13 voice names of OpenAI's speech API, accepted by every built-in model.
public let openAIVoiceNames = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
    "marin", "cedar",
]
