import AudioPipeline
import Providers
import Routing
import SpeechCore

/// How a model is served: by a built-in engine in this process, or by upstream providers.
enum SpeechBackend: Sendable {
    case engine(any SpeechEngine)
    /// The model's deployments: all of them in the gateway's table, the ones to try in order
    /// once a request is routed (`FleetRouting`).
    case upstream([RoutedEndpoint])

    /// What serves the model, as the speech cache's key names it: the built-in engine's model,
    /// or the upstream deployments (by tag) and their model ids, in order.
    var deployment: String {
        switch self {
        case .engine(let engine): "local:\(engine.model.id)"
        case .upstream(let endpoints): endpoints.map { "\($0.deployment.tag):\($0.endpoint.model)" }.joined(separator: ",")
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
            let stream = UpstreamAudioStream(endpoints: endpoints.map(\.endpoint), speech: speech, progress: progress, serving: serving)
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
