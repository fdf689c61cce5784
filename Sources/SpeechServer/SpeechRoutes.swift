import Accounts
import AudioPipeline
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Providers
import SpeechCore

/// `POST /audio/speech`: validates, reserves the cost, and streams audio as it is made.
struct SpeechRoutes: Sendable {
    static let maxBodyBytes = 1 << 20

    let catalog: ModelCatalog
    let backends: [String: SpeechBackend]
    let store: AccountStore

    func speak(_ request: Request, context: SpeechContext) async throws -> Response {
        guard let key = context.key else { throw SpeechError.missingKey }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxBodyBytes {
            throw SpeechError.bodyTooLarge(limit: Self.maxBodyBytes)
        }
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        let speech = try catalog.resolve(try SpeechRequest.parse(json: body.readableBytesView))
        guard let backend = backends[speech.model.id] else { throw SpeechError.unknownModel(speech.model.id) }

        let id = GenerationID.make(now: Int(Date().timeIntervalSince1970))
        let record = GenerationRecord(
            id: id.description, keyHash: key.hash, model: speech.model.id,
            provider: { if case .engine = backend { "local" } else { "pending" } }(),
            voice: speech.voice, format: speech.request.responseFormat.rawValue,
            characters: speech.request.characterCount,
            pricePerCharacter: Nanodollars(usd: speech.model.pricePerCharacter) ?? .zero, startedAt: Date())
        // 402 here, before any synthesis, when the key or the account cannot cover the whole input.
        try await store.begin(record)

        let progress = SpeechProgress()
        let (output, serving) = backend.audio(for: speech, progress: progress)
        var iterator = output
        // The first piece is made before the status line leaves, so a request that cannot be
        // spoken at all still gets a proper error instead of an empty 200.
        let first: [UInt8]
        do {
            first = try await iterator.next() ?? []
        } catch {
            await finish(
                Outcome(record: record, progress: progress, serving: serving, firstByteAt: nil), .failed,
                logger: context.logger)
            throw error
        }

        let rest = iterator
        let headers: HTTPFields = [
            .contentType: speech.request.responseFormat.contentType,
            .generationID: id.description,
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await send(
                    first: first, rest: rest, to: &writer,
                    outcome: Outcome(record: record, progress: progress, serving: serving), logger: context.logger)
            })
    }

    private struct Outcome {
        var record: GenerationRecord
        var progress: SpeechProgress
        var serving: ServingProvider
        var firstByteAt: Date?
    }

    private func send(
        first: [UInt8], rest iterator: SpeechOutput, to writer: inout any ResponseBodyWriter,
        outcome: Outcome, logger: Logger
    ) async throws {
        var iterator = iterator
        var outcome = outcome
        let record = outcome.record
        var chunk: [UInt8]? = first
        while let bytes = chunk {
            do {
                try await writer.write(ByteBuffer(bytes: bytes))
                if outcome.firstByteAt == nil { outcome.firstByteAt = Date() }
            } catch {
                // The client went away: stop synthesizing (dropping the iterator cancels the
                // pieces in flight) and charge only what was spoken.
                await finish(outcome, .cancelled, logger: logger)
                throw error
            }
            do {
                chunk = try await iterator.next()
            } catch {
                // Bytes already left with a 200: cut the stream, as the contract says.
                logger.error("synthesis failed mid-stream", metadata: ["generation": "\(record.id)", "error": "\(error)"])
                await finish(outcome, .failed, logger: logger)
                throw error
            }
        }
        do {
            try await writer.finish(nil)
        } catch {
            await finish(outcome, .cancelled, logger: logger)
            throw error
        }
        await finish(outcome, .completed, logger: logger)
    }

    /// Records how a generation ended. A stream that ended early is charged for the pieces
    /// already spoken; a completed one for its whole input (spaces between pieces too).
    private func finish(_ outcome: Outcome, _ status: GenerationStatus, logger: Logger) async {
        let spoken = status == .completed ? outcome.record.characters : outcome.progress.spokenCharacters
        do {
            try await store.finish(
                id: outcome.record.id, status: status, spokenCharacters: spoken, firstByteAt: outcome.firstByteAt,
                provider: outcome.serving.value)
        } catch {
            logger.error("could not record generation end", metadata: ["generation": "\(outcome.record.id)", "error": "\(error)"])
        }
    }
}

extension HTTPField.Name {
    static let generationID = Self("X-Generation-Id")!
}
