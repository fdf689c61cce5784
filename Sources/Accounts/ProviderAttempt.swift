/// One upstream request of a generation: which deployment, how it answered, how fast.
public struct ProviderAttempt: Codable, Sendable, Equatable {
    /// The provider's name (`OpenAI`), and the deployment's slug (`openai/box-a`).
    public var providerName: String
    public var tag: String
    /// The model's id at the provider.
    public var model: String
    /// The upstream's HTTP status: 200 once it answered with audio; nil when no answer came.
    public var status: Int?
    /// Milliseconds from sending the request to its answer (or its failure).
    public var latencyMilliseconds: Int

    public init(providerName: String, tag: String, model: String, status: Int?, latencyMilliseconds: Int) {
        self.providerName = providerName
        self.tag = tag
        self.model = model
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case tag, model, status
        case providerName = "provider_name"
        case latencyMilliseconds = "latency_ms"
    }
}
