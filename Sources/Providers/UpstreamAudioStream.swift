public import AudioPipeline
import Foundation
public import SpeechCore
import Synchronization

/// One way to reach a model: a provider and the model's id there.
public struct ProviderEndpoint: Sendable {
    public var provider: any SpeechProvider
    public var model: String

    public init(provider: any SpeechProvider, model: String) {
        self.provider = provider
        self.model = model
    }
}

/// Which provider is serving a stream, and the model's id there: the one being tried until one
/// yields audio, then that one.
public final class ServingProvider: Sendable {
    private let serving = Mutex<(name: String, model: String?)?>(nil)
    public init() {}
    public var value: String? { serving.withLock { $0?.name } }
    /// The model's id at the provider; nil for a built-in engine.
    public var model: String? { serving.withLock { $0?.model } }
    public func set(_ value: String, model: String? = nil) { serving.withLock { $0 = (value, model) } }
}

/// The audio of one response from upstream providers, in the response's format.
///
/// Endpoints are tried in order until one yields its first audio; a failure before that falls
/// back to the next (unless the failure is the request's own fault; routing chose which may be tried).
///
/// While another endpoint follows the one being tried, the input goes to it a sentence at a time,
/// as PCM the gateway encodes itself, with the next sentence's request sent while the current one
/// streams (no wait for a first byte between them). When the serving endpoint fails after its audio
/// has begun (its body breaks off, or a later sentence's request fails), the next endpoint goes on
/// from the first sentence whose audio was not complete, spoken again from its start if it was cut
/// partway, and the client's stream stays one continuous file. With no endpoint left, the error
/// ends the stream.
///
/// The last endpoint (the only one, or the one a fallback before any audio reached) is sent the
/// input in as few pieces as it takes, sentence-aligned, through one encoder. A format the provider
/// makes itself (`passthroughFormats`: mp3 from all, opus/aac/flac from OpenAI-compatible servers)
/// passes through untouched when one upstream request covers the input; otherwise the gateway asks
/// for PCM and encodes one continuous stream itself, so pieces join seamlessly.
public struct UpstreamAudioStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let endpoints: [ProviderEndpoint]
    let speech: ResolvedSpeech
    let progress: SpeechProgress?
    let serving: ServingProvider

    public init(
        endpoints: [ProviderEndpoint], speech: ResolvedSpeech, progress: SpeechProgress?, serving: ServingProvider
    ) {
        self.endpoints = endpoints
        self.speech = speech
        self.progress = progress
        self.serving = serving
    }

    public func makeAsyncIterator() -> Iterator { Iterator(state: UpstreamState(stream: self)) }

    /// @unchecked: owns C encoder state; advanced by one task at a time like any async iterator.
    public struct Iterator: AsyncIteratorProtocol, @unchecked Sendable {
        let state: UpstreamState
        public mutating func next() async throws -> [UInt8]? { try await state.next() }
    }

    /// Sends `piece` of the input to `endpoint`, asking for `format`.
    func open(_ endpoint: ProviderEndpoint, piece: String, format: UpstreamFormat) async throws -> UpstreamStream {
        let provider = endpoint.provider
        let request = speech.request
        let speed = provider.speedRange.flatMap { range -> Double? in
            request.speed == 1 ? nil : Swift.min(Swift.max(request.speed, range.lowerBound), range.upperBound)
        }
        var options: [String: JSONValue] = [:]
        if case .object(let fields)? = request.providerOptions[provider.slug] { options = fields }
        return try await provider.synthesize(
            UpstreamRequest(
                model: endpoint.model, input: piece, voice: speech.voice, format: format, speed: speed,
                options: options, instructions: request.instructions, references: request.references))
    }
}

final class UpstreamState: AudioProducer {
    let stream: UpstreamAudioStream
    /// The place in `stream.endpoints` of the endpoint serving the stream, once one yielded audio.
    var serving = 0
    var pieces: [String] = []
    /// Whether `pieces` are single sentences, each its own request, so that another endpoint can
    /// go on from any of them.
    var resumable = false
    var index = 0
    /// Characters of the pieces whose audio is complete.
    var spoken = 0
    /// Characters counted as incurred, from the input's start: through each piece once its first
    /// audio arrived, and a piece spoken again by another endpoint only once.
    var incurred = 0
    var upstream: UpstreamStream.Iterator?
    /// The next piece's request, sent while the current one streams (resumable pieces only).
    var prefetch: Task<UpstreamStream, any Error>?
    var upstreamFormat = UpstreamFormat.pcm
    /// MP3 pieces passed through one after another: each after the first loses its ID3 tag.
    var joinedTags = LeadingID3Tag()
    var sink: AudioSink?
    var finished = false

    init(stream: UpstreamAudioStream) {
        self.stream = stream
    }

    deinit { prefetch?.cancel() }

    func produce() async throws -> [UInt8]? {
        guard let sink else { return try await start() }
        while let chunk = try await nextChunk() {
            incurFirstAudio()
            let bytes = try convert(chunk, into: sink)
            if !bytes.isEmpty { return bytes }
        }
        finished = true
        if upstreamFormat != .pcm { return nil }  // passed through: nothing of ours to flush
        let tail = try sink.finish()
        return tail.isEmpty ? nil : tail
    }

    private func start() async throws -> [UInt8] {
        let first = try await connect(from: 0)
        let sink = AudioSink(format: stream.speech.request.responseFormat, progress: stream.progress)
        self.sink = sink
        incurFirstAudio()
        // Passed-through audio has no header of ours, and so needs no encoder.
        return (upstreamFormat != .pcm ? [] : try sink.begin()) + (try convert(first, into: sink))
    }

    /// The next chunk of the current piece, the pieces after it in turn; nil after the last.
    private func nextChunk() async throws -> UpstreamChunk? {
        while true {
            do {
                if let chunk = try await upstream?.next() { return chunk }
                sink?.spoke(characters: pieces[index].unicodeScalars.count)
                spoken += pieces[index].unicodeScalars.count
                index += 1
                guard index < pieces.count else { return nil }
                upstream = try await openNext()
                joinedTags.pieceBegins()
            } catch {
                return try await failOver(after: error)
            }
        }
    }

    /// Sends the current piece to each endpoint from `position` on until one answers with audio;
    /// that one serves the stream from now on. Returns its first chunk.
    private func connect(from position: Int) async throws -> UpstreamChunk {
        for candidate in stream.endpoints.indices.dropFirst(position) {
            let endpoint = stream.endpoints[candidate]
            let more = candidate + 1 < stream.endpoints.count
            // The last provider tried is the one a failed generation is recorded against.
            stream.serving.set(endpoint.provider.name, model: endpoint.model)
            // Until audio has left, each endpoint is sent the input as suits it.
            if sink == nil { try plan(for: endpoint, fallbackFollows: more) }
            do {
                var iterator = try await stream.open(endpoint, piece: pieces[index], format: upstreamFormat)
                    .makeAsyncIterator()
                guard let first = try await iterator.next() else {
                    throw ProviderError(
                        .malformed, provider: endpoint.provider.name, message: "\(endpoint.provider.name) sent no audio")
                }
                serving = candidate
                upstream = iterator
                prefetchNext()
                // A piece after the first (a failover mid-stream) joins the stream already sent.
                if sink != nil { joinedTags.pieceBegins() }
                return first
            } catch let error as ProviderError {
                // Which endpoints a request may fall back to (`allow_fallbacks`) is routing's
                // choice: every endpoint here is one it may try.
                guard error.allowsFallback, more else { throw error }
            }
        }
        // Reached with no endpoint to try: each one tried either serves or, the last, throws.
        throw ProviderError(.unavailable, provider: "SpeechRouter", message: "no provider is available for this model")
    }

    /// How the input goes to `endpoint`: a sentence at a time when another endpoint could take
    /// over midway (as MP3 passed through and joined when the response is MP3 and every endpoint
    /// makes it, else as PCM); otherwise in as few pieces as it accepts, passed through when one
    /// covers it.
    private func plan(for endpoint: ProviderEndpoint, fallbackFollows: Bool) throws {
        let request = stream.speech.request
        upstreamFormat = .pcm
        resumable = fallbackFollows
        if fallbackFollows {
            // Sentences every endpoint accepts, so any of them can take over at any one.
            let limit =
                stream.endpoints.map(\.provider.maxInputCharacters).min() ?? endpoint.provider.maxInputCharacters
            pieces = SentenceSplitter(request.input, maxLength: limit, firstMaxLength: limit).map(String.init)
            // MPEG audio frames join as they are: no decoding and encoding again in the gateway.
            if request.responseFormat == .mp3,
                stream.endpoints.allSatisfy({ $0.provider.passthroughFormats.contains(.mp3) })
            {
                upstreamFormat = .mp3
            }
        } else {
            pieces = SentenceSplitter.packed(request.input, maxLength: endpoint.provider.maxInputCharacters)
            if pieces.count == 1, endpoint.provider.passthroughFormats.contains(request.responseFormat),
                let passthrough = UpstreamFormat(passthrough: request.responseFormat)
            {
                upstreamFormat = passthrough
            }
        }
        guard !pieces.isEmpty else { throw SpeechError.unspeakableInput(model: endpoint.model) }
    }

    /// After the serving endpoint failed with its audio begun: the next endpoints in order, from
    /// the current piece (spoken again from its start), when the pieces allow it and the failure
    /// is not the request's own fault; otherwise the error ends the stream.
    private func failOver(after error: any Error) async throws -> UpstreamChunk {
        prefetch?.cancel()
        prefetch = nil
        upstream = nil
        guard resumable, serving + 1 < stream.endpoints.count, (error as? ProviderError)?.allowsFallback == true,
            !Task.isCancelled
        else { throw error }
        return try await connect(from: serving + 1)
    }

    /// The request of the piece after the current one, sent now so that its audio is on its way
    /// when the current piece ends. Only for resumable pieces: otherwise a stream holds one
    /// upstream connection at a time.
    private func prefetchNext() {
        prefetch = nil
        guard resumable, index + 1 < pieces.count else { return }
        let audio = stream
        let endpoint = stream.endpoints[serving]
        let (piece, format) = (pieces[index + 1], upstreamFormat)
        prefetch = Task { try await audio.open(endpoint, piece: piece, format: format) }
    }

    /// The current piece's stream from the serving endpoint: the request sent ahead, if any.
    private func openNext() async throws -> UpstreamStream.Iterator {
        let opened: UpstreamStream
        if let prefetch {
            self.prefetch = nil
            opened = try await withTaskCancellationHandler {
                try await prefetch.value
            } onCancel: {
                prefetch.cancel()
            }
        } else {
            opened = try await stream.open(stream.endpoints[serving], piece: pieces[index], format: upstreamFormat)
        }
        prefetchNext()
        return opened.makeAsyncIterator()
    }

    /// Counts the input through the current piece as incurred, once: the upstream bills a piece
    /// whose audio has started; a piece another endpoint speaks again is not counted twice.
    private func incurFirstAudio() {
        let through = spoken + pieces[index].unicodeScalars.count
        guard through > incurred else { return }
        stream.progress?.incur(through - incurred)
        incurred = through
    }

    private func convert(_ chunk: UpstreamChunk, into sink: AudioSink) throws -> [UInt8] {
        switch chunk {
        case .encoded(let bytes): joinedTags.strip(bytes)
        case .pcm(let samples, let rate): try sink.write(PCMAudio(samples: samples, sampleRate: rate))
        }
    }
}
