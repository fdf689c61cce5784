import AudioPipeline
import Providers
import SpeechCore

/// How a model is served: by a built-in engine in this process, or by upstream providers.
enum SpeechBackend: Sendable {
    case engine(any SpeechEngine)
    case upstream([ProviderEndpoint])

    /// The encoded audio of one request, with where it came from once known.
    func audio(for speech: ResolvedSpeech, progress: SpeechProgress) -> (SpeechOutput, ServingProvider) {
        let request = speech.request
        let serving = ServingProvider()
        switch self {
        case .engine(let engine):
            let stream = SpeechAudioStream(
                engine: engine, text: request.input, voice: speech.voice, speed: request.speed,
                format: request.responseFormat, progress: progress)
            return (.engine(stream.makeAsyncIterator()), serving)
        case .upstream(let endpoints):
            let job = UpstreamAudioStream.Job(
                text: request.input, voice: speech.voice, speed: request.speed, format: request.responseFormat,
                options: request.providerOptions, instructions: request.instructions,
                allowFallbacks: request.allowFallbacks)
            let stream = UpstreamAudioStream(endpoints: endpoints, job: job, progress: progress, serving: serving)
            return (.upstream(stream.makeAsyncIterator()), serving)
        }
    }
}

/// Either backend's chunks behind one iterator.
enum SpeechOutput: AsyncIteratorProtocol, Sendable {
    case engine(SpeechAudioStream.Iterator)
    case upstream(UpstreamAudioStream.Iterator)

    mutating func next() async throws -> [UInt8]? {
        switch self {
        case .engine(var iterator):
            defer { self = .engine(iterator) }
            return try await iterator.next()
        case .upstream(var iterator):
            defer { self = .upstream(iterator) }
            return try await iterator.next()
        }
    }
}
