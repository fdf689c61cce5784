/// The models this gateway serves, looked up by id or by one of OpenAI's model names.
public struct ModelCatalog: Sendable {
    public private(set) var models: [SpeechModel]
    /// Other names a model answers to, mapped to the id of the model that serves them.
    public private(set) var aliases: [String: String]

    /// OpenAI's speech model names, so that the OpenAI SDK's own examples work unchanged.
    public static let openAIModelNames = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    /// The built-in models OpenAI's names go to, best first: the first one served wins.
    public static let aliasPreference = ["local/hibari", "local/piper", "local/flite"]

    /// A catalog of `models`, with OpenAI's model names pointing at the best one of them
    /// unless `aliases` says otherwise.
    public init(models: [SpeechModel], aliases: [String: String]? = nil) {
        self.models = models.sorted { $0.id < $1.id }
        let ids = Set(models.map(\.id))
        if let aliases {
            self.aliases = aliases.filter { ids.contains($0.value) }
        } else if let best = Self.aliasPreference.first(where: ids.contains) {
            self.aliases = Dictionary(uniqueKeysWithValues: Self.openAIModelNames.map { ($0, best) })
        } else {
            self.aliases = [:]
        }
    }

    public func model(id: String) -> SpeechModel? {
        models.first { $0.id == id }
    }

    /// The model a request's `model` names: a model id, or an alias of one.
    public func model(named name: String) -> SpeechModel? {
        model(id: name) ?? aliases[name].flatMap(model(id:))
    }

    /// The aliases that lead to `id`, sorted.
    public func aliases(of id: String) -> [String] {
        aliases.filter { $0.value == id }.map(\.key).sorted()
    }

    /// Checks a request against its model: the model exists (by id or alias), the voice is one
    /// of its voices (or its default when omitted), and the input fits its context length.
    public func resolve(_ request: SpeechRequest) throws(SpeechError) -> ResolvedSpeech {
        guard let model = model(named: request.model) else { throw .unknownModel(request.model) }
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

/// A request whose model and voice are known to exist. `model` is the model that serves it,
/// also when the request named an alias.
public struct ResolvedSpeech: Sendable {
    public var model: SpeechModel
    public var voice: String
    public var request: SpeechRequest
}
