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

    /// The backend for `request`: with a voice to clone, only the endpoints whose provider clones
    /// from that many recordings; a 400 naming `input_references` when none does.
    func serving(_ request: SpeechRequest, model: String) throws(SpeechError) -> SpeechBackend {
        guard let references = request.references else { return self }
        let endpoints: [RoutedEndpoint] =
            switch self {
            case .engine: []
            case .upstream(let endpoints): endpoints
            }
        let cloning = endpoints.filter { $0.endpoint.provider.maxReferenceAudios >= references.audio.count }
        guard cloning.isEmpty else { return .upstream(cloning) }
        let most = endpoints.map(\.endpoint.provider.maxReferenceAudios).max() ?? 0
        throw .invalidField(
            name: "input_references",
            reason: most == 0
                ? "\(model) cannot clone a voice; models that can list input_references in supported_parameters"
                : "\(model) clones from at most \(most) input_audio part(s), got \(references.audio.count)")
    }

    /// Whether any provider of this backend clones voices (`input_references`).
    var clonesVoices: Bool {
        guard case .upstream(let endpoints) = self else { return false }
        return endpoints.contains { $0.endpoint.provider.maxReferenceAudios > 0 }
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
