import Hummingbird
import SpeechCore

/// A speech model in OpenRouter's `Model` shape, as `GET /models` and `GET /models/{id}` list it.
struct OpenRouterModel: Encodable, Sendable {
    struct Architecture: Encodable, Sendable {
        var modality = "text->speech"
        var inputModalities = ["text"]
        var outputModalities = ["speech"]
        var tokenizer = "Other"
        @Nullable var instructType: String? = nil

        enum CodingKeys: String, CodingKey {
            case modality, tokenizer
            case inputModalities = "input_modalities"
            case outputModalities = "output_modalities"
            case instructType = "instruct_type"
        }
    }

    struct Pricing: Encodable, Sendable {
        /// USD per input character, as a decimal string.
        var prompt: String
        var completion = "0"
    }

    struct TopProvider: Encodable, Sendable {
        var contextLength: Int
        @Nullable var maxCompletionTokens: Int? = nil
        var isModerated = false

        enum CodingKeys: String, CodingKey {
            case contextLength = "context_length"
            case maxCompletionTokens = "max_completion_tokens"
            case isModerated = "is_moderated"
        }
    }

    struct DefaultParameters: Encodable, Sendable {
        var voice: String
    }

    struct Links: Encodable, Sendable {
        var details: String
    }

    var id: String
    var canonicalSlug: String
    var name: String
    var created: Int
    var description: String
    var contextLength: Int
    var architecture = Architecture()
    var pricing: Pricing
    var topProvider: TopProvider
    @Nullable var perRequestLimits: [String: String]? = nil
    var supportedParameters: [String]
    var defaultParameters: DefaultParameters
    var supportedVoices: [String]
    var links: Links

    enum CodingKeys: String, CodingKey {
        case id, name, created, description, architecture, pricing, links
        case canonicalSlug = "canonical_slug"
        case contextLength = "context_length"
        case topProvider = "top_provider"
        case perRequestLimits = "per_request_limits"
        case supportedParameters = "supported_parameters"
        case defaultParameters = "default_parameters"
        case supportedVoices = "supported_voices"
    }

    /// Aliases are not models of their own: their target's description names them. A model
    /// with installed voices names each with its language there too (the shape has no field
    /// for a voice's language).
    init(_ model: SpeechModel, aliases: [String]) {
        var description = model.description
        if let roster = model.roster {
            let voices = roster.voices.map { "\($0.name) (\($0.language))" }
            description += " Installed voices (eSpeak NG language): \(voices.joined(separator: ", "))."
        }
        if !aliases.isEmpty {
            description += " Also answers to \(aliases.joined(separator: ", "))."
        }
        id = model.id
        canonicalSlug = model.id
        name = model.name
        created = model.created
        self.description = description
        contextLength = model.contextLength
        pricing = Pricing(prompt: model.pricePerCharacter)
        topProvider = TopProvider(contextLength: model.contextLength)
        supportedParameters = model.supportedParameters
        defaultParameters = DefaultParameters(voice: model.defaultVoice)
        supportedVoices = model.voices
        links = Links(details: "/api/v1/models/\(model.id)/endpoints")
    }
}

/// `GET /models`: OpenRouter's list, one page holding every model.
struct OpenRouterModelList: ResponseEncodable, Sendable {
    struct Links: Encodable, Sendable {
        @Nullable var next: String? = nil
    }

    var data: [OpenRouterModel]
    var totalCount: Int
    var links = Links()

    init(_ models: [OpenRouterModel]) {
        data = models
        totalCount = models.count
    }

    enum CodingKeys: String, CodingKey {
        case data, links
        case totalCount = "total_count"
    }
}
