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
    /// The voices a request may name: the roster's, then OpenAI's names, when the model has a
    /// roster; else the fixed list. Setting it replaces the roster with the fixed list.
    public var voices: [String] {
        get {
            guard let roster else { return fixedVoices }
            let installed = roster.voices.map(\.name)
            return installed + openAIVoiceNames.filter { !installed.contains($0) }
        }
        set {
            fixedVoices = newValue
            roster = nil
        }
    }
    private var fixedVoices: [String]
    /// The engine's installed voices, read anew each time, for engines that reload them.
    public private(set) var roster: VoiceRoster?
    public var defaultVoice: String
    public var supportsSpeed: Bool
    /// Variants a voice may carry after a `+` (eSpeak NG's `en-us+f3`); empty where none exist.
    public var voiceVariants: [String]
    /// Whether a request may carry `input_references`: some provider of the model clones voices.
    public var supportsVoiceCloning = false

    public init(
        id: String, name: String, description: String, created: Int, contextLength: Int,
        pricePerCharacter: String, voices: [String], defaultVoice: String, supportsSpeed: Bool, voiceVariants: [String] = [],
        roster: VoiceRoster? = nil
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.created = created
        self.contextLength = contextLength
        self.pricePerCharacter = pricePerCharacter
        self.fixedVoices = voices
        self.roster = roster
        self.defaultVoice = defaultVoice
        self.supportsSpeed = supportsSpeed
        self.voiceVariants = voiceVariants
    }

    public static func == (left: SpeechModel, right: SpeechModel) -> Bool {
        left.id == right.id && left.name == right.name && left.description == right.description
            && left.created == right.created && left.contextLength == right.contextLength
            && left.pricePerCharacter == right.pricePerCharacter && left.fixedVoices == right.fixedVoices
            && left.roster === right.roster && left.defaultVoice == right.defaultVoice
            && left.supportsSpeed == right.supportsSpeed && left.voiceVariants == right.voiceVariants
            && left.supportsVoiceCloning == right.supportsVoiceCloning
    }

    public func accepts(voice: String) -> Bool {
        if voices.contains(voice) { return true }
        guard !voiceVariants.isEmpty, let plus = voice.firstIndex(of: "+") else { return false }
        return voices.contains(String(voice[..<plus]))
            && voiceVariants.contains(String(voice[voice.index(after: plus)...]))
    }

    public var supportedParameters: [String] {
        (supportsSpeed ? ["voice", "speed", "response_format"] : ["voice", "response_format"])
            + (supportsVoiceCloning ? ["input_references"] : [])
    }
}

/// The 13 voice names of OpenAI's speech API, accepted by every built-in model.
public let openAIVoiceNames = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
    "marin", "cedar",
]
