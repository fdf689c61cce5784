import AudioPipeline
import Providers
import SpeechCore

/// How a model is served: by a built-in engine in this process, or by upstream providers.
enum SpeechBackend: Sendable {
    case engine(any SpeechEngine)
    case upstream([ProviderEndpoint])

    /// What serves the model, as the speech cache's key names it: the built-in engine's model,
    /// or the upstream providers and their model ids, in order.
    var deployment: String {
        switch self {
        case .engine(let engine): "local:\(engine.model.id)"
        case .upstream(let endpoints): endpoints.map { "\($0.provider.slug):\($0.model)" }.joined(separator: ",")
        }
    }

    /// The encoded audio of one request, with where it came from once known.
    func audio(for speech: ResolvedSpeech, progress: SpeechProgress) -> (SpeechOutput, ServingProvider) {
        let serving = ServingProvider()
        switch self {
        case .engine(let engine):
            serving.set("local")
            let stream = SpeechAudioStream(engine: engine, speech: speech, progress: progress)
            return (.engine(stream.makeAsyncIterator()), serving)
        case .upstream(let endpoints):
            let stream = UpstreamAudioStream(endpoints: endpoints, speech: speech, progress: progress, serving: serving)
            return (.upstream(stream.makeAsyncIterator()), serving)
        }
    }
}

/// Either backend's chunks, or the speech cache's, behind one iterator.
enum SpeechOutput: AsyncIteratorProtocol, Sendable {
    case engine(SpeechAudioStream.Iterator)
    case upstream(UpstreamAudioStream.Iterator)
    case cache(CacheReplay)

    mutating func next() async throws -> [UInt8]? {
        switch self {
        case .engine(var iterator):
            defer { self = .engine(iterator) }
            return try await iterator.next()
        case .upstream(var iterator):
            defer { self = .upstream(iterator) }
            return try await iterator.next()
        case .cache(var replay):
            defer { self = .cache(replay) }
            return try await replay.next()
        }
    }
}
