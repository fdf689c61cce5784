import SpeechCore

extension SpeechModel {
    /// A model served by a built-in engine: free, offline, up to 100,000 characters a request,
    /// speed supported, and OpenAI's voice names accepted after the engine's own `voices`.
    static func builtin(
        id: String, name: String, description: String, voices: [String], defaultVoice: String,
        voiceVariants: [String] = [], roster: VoiceRoster? = nil
    ) -> SpeechModel {
        SpeechModel(
            id: id, name: name, description: description, created: 1_767_225_600, contextLength: 100_000,
            pricePerCharacter: "0", voices: voices + openAIVoiceNames.filter { !voices.contains($0) }, defaultVoice: defaultVoice, supportsSpeed: true,
            voiceVariants: voiceVariants, roster: roster)
    }
}
