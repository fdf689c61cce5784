/// A model as `GET /models` describes it (OpenRouter's `Model`, the fields a speech client uses).
public struct Model: Sendable, Hashable, Identifiable, Decodable {
    public var id: String
    public var name: String
    public var description: String
    /// The most input characters one request may carry, when the server says.
    public var contextLength: Int?
    public var pricing: Pricing
    public var inputModalities: [String]
    public var outputModalities: [String]
    /// Empty for models that do not speak.
    public var supportedVoices: [String]
    public var supportedParameters: [String]

    public struct Pricing: Sendable, Hashable, Decodable {
        /// USD per input unit (a character, for speech), as a decimal string such as `"0.000015"`.
        public var prompt: String
        public var completion: String
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, description, pricing, architecture
        case contextLength = "context_length"
        case supportedVoices = "supported_voices"
        case supportedParameters = "supported_parameters"
    }

    private struct Architecture: Decodable {
        var input_modalities: [String]?
        var output_modalities: [String]?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? id
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        contextLength = try container.decodeIfPresent(Int.self, forKey: .contextLength)
        pricing = try container.decode(Pricing.self, forKey: .pricing)
        let architecture = try container.decodeIfPresent(Architecture.self, forKey: .architecture)
        inputModalities = architecture?.input_modalities ?? []
        outputModalities = architecture?.output_modalities ?? []
        supportedVoices = try container.decodeIfPresent([String].self, forKey: .supportedVoices) ?? []
        supportedParameters = try container.decodeIfPresent([String].self, forKey: .supportedParameters) ?? []
    }
}
