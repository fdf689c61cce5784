import AudioPipeline
import BuiltinEngines
import SpeechCore
import SpeechServer

/// Speech made in this process by the built-in engines, checked as the server checks a request
/// and failing with the server's messages.
struct LocalSynthesis {
    var model: String
    var input: String
    var voice: String?
    var speed: Double?
    var format: String

    /// Calls `receive` with each encoded chunk and the fraction of the input spoken so far;
    /// returns what the engine's C library printed meanwhile, in one line, if anything.
    func speak(_ receive: ([UInt8], Double) throws -> Void) async throws -> String? {
        do {
            guard let format = AudioFormat(rawValue: format) else { throw SpeechError.unsupportedFormat(format) }
            if let speed, !SpeechRequest.speedRange.contains(speed) {
                throw SpeechError.invalidField(name: "speed", reason: "must be between 0.25 and 4.0, got \(speed)")
            }
            if input.allSatisfy(\.isWhitespace) {
                throw SpeechError.invalidField(name: "input", reason: "must contain text to speak")
            }
            let engines = try await LocalEngines.start().engines
            let catalog = ModelCatalog(models: engines.map(\.model))
            let speech = try catalog.resolve(
                SpeechRequest(model: model, input: input, voice: voice, responseFormat: format, speed: speed ?? 1))
            guard let engine = engines.first(where: { $0.model.id == speech.model.id }) else {
                throw SpeechError.unknownModel(model)
            }
            let progress = SpeechProgress()
            let total = Double(max(speech.request.characterCount, 1))
            let stream = SpeechAudioStream(
                engine: engine, text: input, voice: speech.voice, speed: speech.request.speed, format: format,
                progress: progress)
            for try await chunk in stream {
                try receive(chunk, Double(progress.spokenCharacters) / total)
            }
            return progress.libraryMessages.map { "\(speech.model.id): \($0)" }
        } catch let error as SpeechError {
            throw CommandFailure(APIError(error).message)
        }
    }
}
