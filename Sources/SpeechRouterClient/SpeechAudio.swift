import AsyncHTTPClient
public import NIOCore

/// Audio as it streams in: the response body's chunks in order, as they arrive.
///
/// Iterate it once. Ending the iteration early, cancelling its task, or dropping it without
/// iterating cancels the request and closes the connection.
public struct SpeechAudio: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    let body: HTTPClientResponse.Body
    /// The response's `Content-Type`, such as `audio/mpeg`.
    public let contentType: String?
    /// `X-Generation-Id`, for `SpeechRouter.generation(id:)`.
    public let generationID: String?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: body.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPClientResponse.Body.AsyncIterator

        public mutating func next() async throws -> ByteBuffer? {
            try await base.next()
        }
    }
}
