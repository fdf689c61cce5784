/// The models this gateway serves, looked up by id.
public struct ModelCatalog: Sendable {
    public private(set) var models: [SpeechModel]

    public init(models: [SpeechModel]) {
        self.models = models.sorted { $0.id < $1.id }
    }

    public func model(id: String) -> SpeechModel? {
        models.first { $0.id == id }
    }

    /// Checks a request against its model: the model exists, the voice is one of its voices
    /// (or its default when omitted), and the input fits its context length.
    public func resolve(_ request: SpeechRequest) throws(SpeechError) -> ResolvedSpeech {
        guard let model = model(id: request.model) else { throw .unknownModel(request.model) }
        let voice = request.voice ?? model.defaultVoice
        guard model.accepts(voice: voice) else {
            throw .unknownVoice(model: model.id, voice: voice, available: model.voices)
        }
        let characters = request.characterCount
        guard characters <= model.contextLength else {
            throw .inputTooLong(model: model.id, limit: model.contextLength, actual: characters)
        }
        return ResolvedSpeech(model: model, voice: voice, request: request)
    }
}

/// A request whose model and voice are known to exist.
public struct ResolvedSpeech: Sendable {
    public var model: SpeechModel
    public var voice: String
    public var request: SpeechRequest
}
