public import Foundation

public enum GenerationStatus: String, Sendable {
    case running
    case completed
    case failed
    case cancelled
}

/// One row per generation: who asked for what, what it cost, and how it ended.
public struct GenerationRecord: Sendable, Equatable {
    public var id: String
    public var keyHash: String
    public var model: String
    public var provider: String
    /// The model's id at the upstream provider that served it; nil for the built-in engines.
    public var upstreamModel: String?
    public var voice: String
    public var format: String
    /// Input characters of the request.
    public var characters: Int
    /// Characters actually spoken; fewer than `characters` when a stream ended early.
    public var spokenCharacters: Int
    public var pricePerCharacter: Nanodollars
    public var cost: Nanodollars
    public var startedAt: Date
    public var firstByteAt: Date?
    public var finishedAt: Date?
    public var status: GenerationStatus
    /// For a generation answered from the speech cache: the generation that made the audio.
    public var responseCacheSourceID: String?
    /// Every upstream request made for it, in order: OpenRouter's `provider_responses`.
    public var providerResponses: [ProviderAttempt] = []

    public init(
        id: String, keyHash: String, model: String, provider: String, voice: String, format: String,
        characters: Int, pricePerCharacter: Nanodollars = .zero, startedAt: Date
    ) {
        self.id = id
        self.keyHash = keyHash
        self.model = model
        self.provider = provider
        self.voice = voice
        self.format = format
        self.characters = characters
        self.spokenCharacters = 0
        self.pricePerCharacter = pricePerCharacter
        self.cost = .zero
        self.startedAt = startedAt
        self.status = .running
    }

    /// What the whole input costs; reserved against the key and the account before synthesis.
    public var fullCost: Nanodollars { pricePerCharacter * characters }
}
