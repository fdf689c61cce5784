/// `gen-tts-<unix seconds>-<random>`, the format OpenRouter uses for speech generations.
public struct GenerationID: Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ value: String) { description = value }

    public static func make(now seconds: Int) -> GenerationID {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let suffix = String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
        return GenerationID("gen-tts-\(seconds)-\(suffix)")
    }
}
