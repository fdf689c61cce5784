/// Everything that can go wrong with a speech request, in domain terms.
/// The server maps each case to an HTTP status and OpenRouter's error JSON in one place.
public enum SpeechError: Error, Sendable, Equatable {
    case malformedJSON(String)
    case missingField(String)
    case invalidField(name: String, reason: String)
    case unknownModel(String)
    case unknownVoice(model: String, voice: String, available: [String])
    case inputTooLong(model: String, limit: Int, actual: Int)
    case unsupportedFormat(String)
    case bodyTooLarge(limit: Int)
    case missingKey
    case invalidKey
    case unspeakableInput(model: String)
    case engineFailure(String)
}
