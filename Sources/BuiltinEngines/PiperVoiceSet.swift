import SpeechCore

/// The Piper voices served at one moment: the packaged one (the default) and the folder's, each
/// under its names (one per speaker), with the language each speaks.
struct PiperVoiceSet: Sendable {
    let packaged: LoadedPiperVoice
    /// The folder's voices by file name, sorted.
    let folder: [(name: String, voice: LoadedPiperVoice)]
    /// Every name a request may give, packaged voice first, with its voice and speaker id.
    private let served: [(name: String, voice: LoadedPiperVoice, speaker: Int)]

    init(packaged: LoadedPiperVoice, folder: [(name: String, voice: LoadedPiperVoice)]) {
        self.packaged = packaged
        self.folder = folder
        served = ([(PiperEngine.nativeVoice, packaged)] + folder).flatMap { name, voice in
            voice.voice.names(as: name).map { ($0.name, voice, $0.speaker) }
        }
    }

    /// The voices as the model lists them, with their eSpeak NG language.
    var roster: [VoiceRoster.Voice] {
        served.map {
            VoiceRoster.Voice(name: $0.name, language: $0.voice.voice.espeakVoice, identity: $0.voice.identity)
        }
    }

    /// The voice and speaker `name` asks for: an installed voice by its name, else one of
    /// OpenAI's voice names, mapped as `openAIVoice` says.
    func resolve(_ name: String) -> (LoadedPiperVoice, speaker: Int)? {
        let mapped = served.contains { $0.name == name } ? name : Self.openAIVoice(name, among: roster)
        return served.first { $0.name == mapped }.map { ($0.voice, $0.speaker) }
    }

    /// The installed voice one of OpenAI's voice names speaks with: OpenAI's voices speak the
    /// default voice's language (the first voice's, joe's English), so the 13 names are dealt
    /// in turn over the installed voices whose language is that language (same language
    /// before any `-`: `en-us` and `en-gb` are both English), in the roster's order. Nil for a
    /// name that is not one of OpenAI's.
    static func openAIVoice(_ name: String, among voices: [VoiceRoster.Voice]) -> String? {
        guard let index = openAIVoiceNames.firstIndex(of: name), let first = voices.first else { return nil }
        func language(_ voice: VoiceRoster.Voice) -> Substring {
            voice.language.lowercased().split(separator: "-").first ?? ""
        }
        let candidates = voices.filter { language($0) == language(first) }
        return candidates[index % candidates.count].name
    }
}
