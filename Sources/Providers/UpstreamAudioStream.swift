import AudioPipeline
import Foundation
import SpeechCore
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

/// Which provider is serving a stream: the one being tried until one yields audio, then that one.
public final class ServingProvider: Sendable {
    private let name = Mutex<String?>(nil)
    public init() {}
    public var value: String? { name.withLock { $0 } }
    func set(_ value: String) { name.withLock { $0 = value } }
}

/// The audio of one response from upstream providers, in the response's format.
///
/// Endpoints are tried in order until one yields its first audio; a failure before that falls
/// back to the next (unless the request forbids it or the failure is the request's own fault).
/// After the first byte there is no retry: an error ends the stream. Input longer than the
/// provider accepts is sent as consecutive sentence-aligned pieces through the same provider.
/// MP3 passes through untouched when one upstream request covers the input; otherwise the
/// gateway asks for PCM and encodes one continuous stream itself, so pieces join seamlessly.
public struct UpstreamAudioStream: AsyncSequence {
    public typealias Element = [UInt8]

    public struct Job: Sendable {
        public var text: String
        public var voice: String
        public var speed: Double
        public var format: AudioFormat
        public var options: [String: JSONValue]
        public var instructions: String?
        public var allowFallbacks: Bool

        public init(
            text: String, voice: String, speed: Double, format: AudioFormat, options: [String: JSONValue],
            instructions: String?, allowFallbacks: Bool
        ) {
            self.text = text
            self.voice = voice
            self.speed = speed
            self.format = format
            self.options = options
            self.instructions = instructions
            self.allowFallbacks = allowFallbacks
        }
    }

    let endpoints: [ProviderEndpoint]
    let job: Job
    let progress: SpeechProgress?
    let serving: ServingProvider

    public init(endpoints: [ProviderEndpoint], job: Job, progress: SpeechProgress?, serving: ServingProvider) {
        self.endpoints = endpoints
        self.job = job
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

final class UpstreamState {
    let stream: UpstreamAudioStream
    var endpoint: ProviderEndpoint?
    var pieces: [String] = []
    var index = 0
    var upstream: UpstreamStream.Iterator?
    var upstreamFormat = UpstreamFormat.pcm
    var encoder: any AudioEncoder
    var resampler: Resampler?
    var finished = false

    init(stream: UpstreamAudioStream) {
        self.stream = stream
        self.encoder = stream.job.format.makeEncoder()
    }

    func next() async throws -> [UInt8]? {
        if finished { return nil }
        if endpoint == nil { return try await start() }
        while true {
            if let chunk = try await upstream?.next() {
                let bytes = convert(chunk)
                if !bytes.isEmpty { return bytes }
                continue
            }
            stream.progress?.add(pieces[index].unicodeScalars.count)
            index += 1
            if index < pieces.count {
                upstream = try await open(endpoint!, piece: pieces[index]).makeAsyncIterator()
                continue
            }
            finished = true
            if upstreamFormat == .mp3 { return nil }  // passed through: nothing of ours to flush
            let tail = encoder.encode(resampler?.flush() ?? []) + encoder.finish()
            return tail.isEmpty ? nil : tail
        }
    }

    /// Tries each endpoint until one answers with audio.
    private func start() async throws -> [UInt8] {
        guard !stream.endpoints.isEmpty else {
            throw ProviderError(.unavailable, provider: "SpeechRouter", message: "no provider is available for this model")
        }
        var lastError: (any Error)?
        for (position, candidate) in stream.endpoints.enumerated() {
            // The last provider tried is the one a failed generation is recorded against.
            stream.serving.set(candidate.provider.name)
            do {
                pieces = SentenceSplitter.packed(stream.job.text, maxLength: candidate.provider.maxInputCharacters)
                guard !pieces.isEmpty else { throw SpeechError.unspeakableInput(model: candidate.model) }
                upstreamFormat = stream.job.format == .mp3 && pieces.count == 1 ? .mp3 : .pcm
                var iterator = try await open(candidate, piece: pieces[0]).makeAsyncIterator()
                guard let first = try await iterator.next() else {
                    throw ProviderError(
                        .malformed, provider: candidate.provider.name, message: "\(candidate.provider.name) sent no audio")
                }
                endpoint = candidate
                upstream = iterator
                return encoder.begin() + convert(first)
            } catch let error as ProviderError {
                lastError = error
                let more = position + 1 < stream.endpoints.count
                guard error.allowsFallback, stream.job.allowFallbacks, more else { throw error }
            }
        }
        throw lastError!
    }

    private func open(_ endpoint: ProviderEndpoint, piece: String) async throws -> UpstreamStream {
        let provider = endpoint.provider
        let job = stream.job
        let speed = provider.speedRange.flatMap { range -> Double? in
            job.speed == 1 ? nil : min(max(job.speed, range.lowerBound), range.upperBound)
        }
        var options: [String: JSONValue] = [:]
        if case .object(let fields)? = job.options[provider.slug] { options = fields }
        return try await provider.synthesize(
            UpstreamRequest(
                model: endpoint.model, input: piece, voice: job.voice, format: upstreamFormat, speed: speed,
                options: options, instructions: job.instructions))
    }

    private func convert(_ chunk: UpstreamChunk) -> [UInt8] {
        switch chunk {
        case .mp3(let bytes):
            return bytes
        case .pcm(let samples, let rate):
            if rate == AudioFormat.outputSampleRate { return encoder.encode(samples) }
            if resampler?.inputRate != rate { resampler = Resampler(from: rate, to: AudioFormat.outputSampleRate) }
            return encoder.encode(resampler!.process(samples))
        }
    }
}
