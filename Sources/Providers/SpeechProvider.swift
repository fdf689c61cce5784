import AsyncHTTPClient
import Foundation
import NIOCore
public import SpeechCore

/// What the gateway asks an upstream for: bytes already in the response's format, to pass
/// through (mp3 from every provider, opus/aac/flac from those whose `passthroughFormats` say
/// so), or pcm samples at the upstream's rate that the gateway resamples and encodes itself.
/// The raw value is OpenAI's `response_format` name.
public enum UpstreamFormat: String, Sendable {
    case mp3, opus, aac, flac, pcm

    /// The format to ask for to pass `format` through, if it can be.
    init?(passthrough format: AudioFormat) {
        switch format {
        case .mp3: self = .mp3
        case .opus: self = .opus
        case .aac: self = .aac
        case .flac: self = .flac
        case .wav, .pcm: return nil  // always decoded: the gateway's wav and pcm are 24 kHz mono
        }
    }
}

public enum UpstreamChunk: Sendable, Equatable {
    /// Bytes of the response's format, passed through as they are.
    case encoded([UInt8])
    case pcm([Int16], rate: Int)
}

/// One upstream request: a piece of the input, in the gateway's terms.
public struct UpstreamRequest: Sendable {
    public var model: String
    public var input: String
    public var voice: String
    public var format: UpstreamFormat
    /// Already clamped to the provider's range; nil when the provider has no speed.
    public var speed: Double?
    /// `provider.options[slug]` for this provider only, merged into the upstream body.
    public var options: [String: JSONValue]
    public var instructions: String?
    /// The voice to clone, for a provider whose `maxReferenceAudios` covers it.
    public var references: VoiceReferences? = nil
}

/// An upstream speech API behind one adapter.
public protocol SpeechProvider: Sendable {
    /// The slug clients use in `provider.options` (`openai`, `azure`, …).
    var slug: String { get }
    /// The name reported in errors and generation records (`OpenAI`, `Azure`, …).
    var name: String { get }
    /// The range of `speed` the upstream honours; nil when it has none (speed is then ignored).
    var speedRange: ClosedRange<Double>? { get }
    /// The most input characters one upstream request may carry; longer inputs are split.
    var maxInputCharacters: Int { get }
    /// The response formats the upstream makes itself, whose bytes can pass through untouched
    /// (mp3 at least). No default: a wrapper that forgot to pass it on would silently re-encode.
    var passthroughFormats: Set<AudioFormat> { get }
    /// Sends the request and returns the audio as it arrives. Throws `ProviderError` when the
    /// upstream refuses (non-2xx) or cannot be reached; the stream throws it for a bad body.
    func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream
    /// How many `input_references` recordings the upstream clones a voice from; 0: it cannot clone.
    var maxReferenceAudios: Int { get }
}

extension SpeechProvider {
    /// Most upstreams speak only their own voices. A wrapper must pass the wrapped one's on.
    public var maxReferenceAudios: Int { 0 }
}

/// The body of an upstream response, decoded chunk by chunk as it is read (pull-driven, so
/// the upstream is read no faster than the client takes the audio).
public struct UpstreamStream: AsyncSequence, Sendable {
    public typealias Element = UpstreamChunk

    let body: HTTPClientResponse.Body
    let decoder: any BodyDecoder
    let provider: String
    let secret: UpstreamSecret
    var firstAudio: FirstAudioWatch? = nil
    var breakOff: (@Sendable (any Error) -> Void)? = nil

    /// This stream, telling `report` once how its wait for the first audio ends: a chunk came,
    /// the body failed or ended before one, or the stream was dropped unread.
    public func watchingFirstAudio(_ report: @escaping @Sendable (FirstAudioOutcome) -> Void) -> UpstreamStream {
        var stream = self
        stream.firstAudio = FirstAudioWatch(report)
        return stream
    }

    /// This stream, telling `report` the error its body fails with once no first audio is
    /// awaited (`watchingFirstAudio` tells that one): the upstream broke off mid-stream.
    public func watchingBreakOff(_ report: @escaping @Sendable (any Error) -> Void) -> UpstreamStream {
        var stream = self
        stream.breakOff = report
        return stream
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(
            body: body.makeAsyncIterator(), decoder: decoder, provider: provider, secret: secret,
            firstAudio: firstAudio, breakOff: breakOff)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        var decoder: any BodyDecoder
        let provider: String
        let secret: UpstreamSecret
        var firstAudio: FirstAudioWatch?
        let breakOff: (@Sendable (any Error) -> Void)?
        var pending: [UpstreamChunk] = []
        var ended = false

        public mutating func next() async throws -> UpstreamChunk? {
            do {
                let chunk = try await decodedChunk()
                firstAudio?.tell(
                    chunk != nil
                        ? .audio : .failed(ProviderError(.malformed, provider: provider, message: "\(provider) sent no audio")))
                firstAudio = nil
                return chunk
            } catch {
                let error = (error as? ProviderError)?.redacting(secret) ?? error
                if let firstAudio {
                    firstAudio.tell(.failed(error))
                    self.firstAudio = nil
                } else {
                    breakOff?(error)
                }
                throw error
            }
        }

        private mutating func decodedChunk() async throws -> UpstreamChunk? {
            while pending.isEmpty {
                if ended { return nil }
                let buffer: ByteBuffer?
                do {
                    buffer = try await body.next()
                } catch {
                    throw ProviderError.from(transport: error, provider: provider)
                }
                do {
                    if let buffer {
                        pending = try decoder.feed(Array(buffer.readableBytesView))
                    } else {
                        ended = true
                        pending = try decoder.finish()
                    }
                } catch let error as ProviderError {
                    throw error
                } catch {
                    throw ProviderError(.malformed, provider: provider, message: "\(error)")
                }
                pending.removeAll { chunk in
                    switch chunk {
                    case .encoded(let bytes): bytes.isEmpty
                    case .pcm(let samples, _): samples.isEmpty
                    }
                }
            }
            return pending.removeFirst()
        }
    }
}

/// Turns an upstream's body framing (raw bytes, JSON with base64, SSE) into chunks.
protocol BodyDecoder: Sendable {
    mutating func feed(_ bytes: [UInt8]) throws -> [UpstreamChunk]
    mutating func finish() throws -> [UpstreamChunk]
}
