/// One generation's statistics (`GET /generation`), the fields that mean something for speech.
public struct Generation: Sendable, Hashable, Decodable {
    public var id: String
    public var model: String
    public var providerName: String?
    /// ISO 8601.
    public var createdAt: String
    /// USD charged.
    public var totalCost: Double
    /// Input characters, for speech.
    public var tokensPrompt: Int?
    /// `"tts"` for speech.
    public var apiType: String?
    public var streamed: Bool?
    public var cancelled: Bool?
    /// Milliseconds from the request to the first audio byte.
    public var latency: Double?
    /// Milliseconds from the request to the last audio byte.
    public var generationTime: Double?
    /// `"stop"` when all the input was spoken.
    public var finishReason: String?

    private enum CodingKeys: String, CodingKey {
        case id, model, streamed, cancelled, latency
        case providerName = "provider_name"
        case createdAt = "created_at"
        case totalCost = "total_cost"
        case tokensPrompt = "tokens_prompt"
        case apiType = "api_type"
        case generationTime = "generation_time"
        case finishReason = "finish_reason"
    }
}
