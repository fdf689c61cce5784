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
/// After the first byte there is no retry: an error ends the stream. Input longer than the
/// provider accepts is sent as consecutive sentence-aligned pieces through the same provider.
/// A format the provider makes itself (`passthroughFormats`: mp3 from all, opus/aac/flac from
/// OpenAI-compatible servers) passes through untouched when one upstream request covers the
/// input; otherwise the gateway asks for PCM and encodes one continuous stream itself, so pieces
/// join seamlessly.
public struct UpstreamAudioStream: AsyncSequence {
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
}

final class UpstreamState: AudioProducer {
    let stream: UpstreamAudioStream
    var endpoint: ProviderEndpoint?
    var pieces: [String] = []
    var index = 0
    /// Pieces counted as incurred: each once its first audio arrived.
    var incurredPieces = 0
    var upstream: UpstreamStream.Iterator?
    var upstreamFormat = UpstreamFormat.pcm
    var sink: AudioSink?
    var finished = false

    init(stream: UpstreamAudioStream) {
        self.stream = stream
    }

    func produce() async throws -> [UInt8]? {
        guard let endpoint, let sink else { return try await start() }
        while true {
            if let chunk = try await upstream?.next() {
                incurFirstAudio()
                let bytes = try convert(chunk, into: sink)
                if !bytes.isEmpty { return bytes }
                continue
            }
            sink.spoke(characters: pieces[index].unicodeScalars.count)
            index += 1
            if index < pieces.count {
                upstream = try await open(endpoint, piece: pieces[index]).makeAsyncIterator()
                continue
            }
            finished = true
            if upstreamFormat != .pcm { return nil }  // passed through: nothing of ours to flush
            let tail = try sink.finish()
            return tail.isEmpty ? nil : tail
        }
    }

    /// Tries each endpoint until one answers with audio.
    private func start() async throws -> [UInt8] {
        guard !stream.endpoints.isEmpty else {
            throw ProviderError(.unavailable, provider: "SpeechRouter", message: "no provider is available for this model")
        }
        let request = stream.speech.request
        var lastError: (any Error)?
        for (position, candidate) in stream.endpoints.enumerated() {
            // The last provider tried is the one a failed generation is recorded against.
            stream.serving.set(candidate.provider.name, model: candidate.model)
            do {
                pieces = SentenceSplitter.packed(request.input, maxLength: candidate.provider.maxInputCharacters)
                guard !pieces.isEmpty else { throw SpeechError.unspeakableInput(model: candidate.model) }
                upstreamFormat = .pcm
                if pieces.count == 1, candidate.provider.passthroughFormats.contains(request.responseFormat),
                    let passthrough = UpstreamFormat(passthrough: request.responseFormat)
                {
                    upstreamFormat = passthrough
                }
                var iterator = try await open(candidate, piece: pieces[0]).makeAsyncIterator()
                guard let first = try await iterator.next() else {
                    throw ProviderError(
                        .malformed, provider: candidate.provider.name, message: "\(candidate.provider.name) sent no audio")
                }
                let sink = AudioSink(format: request.responseFormat, progress: stream.progress)
                endpoint = candidate
                upstream = iterator
                self.sink = sink
                incurFirstAudio()
                // Passed-through audio has no header of ours, and so needs no encoder.
                return (upstreamFormat != .pcm ? [] : try sink.begin()) + (try convert(first, into: sink))
            } catch let error as ProviderError {
                lastError = error
                let more = position + 1 < stream.endpoints.count
                // Which endpoints a request may fall back to (`allow_fallbacks`) is routing's
                // choice: every endpoint here is one it may try.
                guard error.allowsFallback, more else { throw error }
            }
        }
        throw lastError!
    }

    /// Counts the current piece as incurred, once: the upstream bills a piece whose audio has started.
    private func incurFirstAudio() {
        guard incurredPieces == index else { return }
        incurredPieces += 1
        stream.progress?.incur(pieces[index].unicodeScalars.count)
    }

    private func open(_ endpoint: ProviderEndpoint, piece: String) async throws -> UpstreamStream {
        let provider = endpoint.provider
        let request = stream.speech.request
        let speed = provider.speedRange.flatMap { range -> Double? in
            request.speed == 1 ? nil : min(max(request.speed, range.lowerBound), range.upperBound)
        }
        var options: [String: JSONValue] = [:]
        if case .object(let fields)? = request.providerOptions[provider.slug] { options = fields }
        return try await provider.synthesize(
            UpstreamRequest(
                model: endpoint.model, input: piece, voice: stream.speech.voice, format: upstreamFormat, speed: speed,
                options: options, instructions: request.instructions, references: request.references))
    }

    private func convert(_ chunk: UpstreamChunk, into sink: AudioSink) throws -> [UInt8] {
        switch chunk {
        case .encoded(let bytes): bytes
        case .pcm(let samples, let rate): try sink.write(PCMAudio(samples: samples, sampleRate: rate))
        }
    }
}
