import Foundation

public enum GenerationStatus: String, Sendable {
    case running
    case completed
    case failed
    case cancelled
}

/// One row per generation: who asked for what, and how it ended.
public struct GenerationRecord: Sendable, Equatable {
    public var id: String
    public var keyID: String
    public var model: String
    public var provider: String
    public var voice: String
    public var format: String
    /// Input characters of the request.
    public var characters: Int
    /// Characters actually spoken; less than `characters` when a stream ended early.
    public var spokenCharacters: Int
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: GenerationStatus

    public init(
        id: String, keyID: String, model: String, provider: String, voice: String, format: String,
        characters: Int, spokenCharacters: Int = 0, startedAt: Date, finishedAt: Date? = nil, status: GenerationStatus = .running
    ) {
        self.id = id
        self.keyID = keyID
        self.model = model
        self.provider = provider
        self.voice = voice
        self.format = format
        self.characters = characters
        self.spokenCharacters = spokenCharacters
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
    }
}
