import Accounts
import AudioPipeline
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Providers
import SpeechCache
import SpeechCore

/// `POST /audio/speech`: validates, reserves the cost, and streams audio as it is made.
struct SpeechRoutes: Sendable {
    /// 1 MiB of request, plus room for three reference recordings of OpenRouter's 20 MiB of base64.
    static let maxBodyBytes = (1 << 20) + VoiceReferences.maxAudioParts * VoiceReferences.maxBase64Characters

    let catalog: ModelCatalog
    let backends: [String: SpeechBackend]
    let ledger: GenerationLedger
    let admission: StreamAdmission
    /// Orders an upstream model's deployments for each request.
    let routing: FleetRouting
    /// The speech cache, when the gateway has one.
    var caching: SpeechCaching? = nil

    func speak(_ request: Request, context: SpeechContext) async throws -> Response {
        try await respond(to: request, context: context, captioned: false)
    }

    /// `POST /audio/captioned_speech`: the same request, answered with the whole audio and its
    /// words' timings in one document (`Captions`).
    func caption(_ request: Request, context: SpeechContext) async throws -> Response {
        try await respond(to: request, context: context, captioned: true)
    }

    private func respond(to request: Request, context: SpeechContext, captioned: Bool) async throws -> Response {
        guard let key = context.key else { throw SpeechError.missingKey }
        // Found now, while the connection is surely open; asked once the response has ended.
        let end = context.connection.watchEnd()
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxBodyBytes {
            throw SpeechError.bodyTooLarge(limit: Self.maxBodyBytes)
        }
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        var parsed = try SpeechRequest.parse(json: body.readableBytesView)
        let captions = captioned ? try Captions.parse(json: body.readableBytesView) : nil
        if captions != nil { parsed.returnTimestamps = true }
        let id = GenerationID.make(now: Int(Date().timeIntervalSince1970))
        let candidates = try candidates(for: parsed, captions: captions, keyHash: key.hash, id: id)
        let servable = candidates.compactMap { try? $0.get() }
        // No model can take the request (its voice, its timings…): the last one's error.
        guard let primary = servable.first else { throw Self.lastError(of: candidates) }
        let speech = primary.speech
        // The cache keeps audio made from the input alone: a cloned voice's audio is the
        // reference's too, and a timed request needs timings the cache does not keep. A request
        // that may fall back to another model is not cached (its headers are still checked).
        let plan =
            try speech.request.references != nil || speech.request.returnTimestamps
            ? nil
            : caching?.plan(
                headers: request.headers, speech: speech, keyHash: key.hash, deployment: primary.backend.deployment)
        var fill: CacheFill?
        if let caching, let plan, servable.count == 1 {
            switch caching.store.lookup(plan.key, source: id.description, ttlSeconds: plan.ttlSeconds) {
            case .hit(let reader, let source), .follow(let reader, let source):
                // A generation of its own at the cache price, naming its source. Limits apply as to
                // any generation (402 before a byte); no engine slot is taken.
                let lease = try await ledger.begin(SpeechCaching.hitRecord(primary.record, source: source, plan: plan))
                context.summary.started(lease)
                let progress = SpeechProgress()
                let replay = CacheReplay(reader: reader, progress: progress, characters: speech.request.characterCount)
                let meter = Meter(lease: lease, progress: progress, billing: primary.billing, fill: nil)
                let first: (audio: [UInt8], rest: SpeechOutput)
                do {
                    first = try await meter.start(.cache(replay), framing: speech.request.streamFormat)
                } catch {
                    await lease.end(Self.status(after: error))
                    throw error
                }
                return response(
                    speech, first: first, meter: meter, cacheHeaders: SpeechCaching.headers(status: "HIT", plan: plan),
                    end: end, context: context)
            case .lead(let leading): fill = leading
            case .unavailable: break
            }
        }
        return try await generate(
            candidates, key: key, fill: fill,
            cacheHeaders: plan.flatMap { fill != nil ? SpeechCaching.headers(status: "MISS", plan: $0) : nil } ?? [:],
            captions: captions, end: end, context: context)
    }

    /// The models `request` may be served by, in the order they are tried, each resolved for it
    /// or with the error that keeps it from serving (its voice, its timings, a voice to clone…).
    /// An id that names no model is a 400 at once, whichever place it has.
    private func candidates(
        for request: SpeechRequest, captions: Captions?, keyHash: String, id: GenerationID
    ) throws(SpeechError) -> [Result<Candidate, any Error>] {
        for name in request.listedModels where catalog.model(named: name) == nil {
            throw .invalidField(
                name: "models", reason: "\(name) is not a model of this gateway; GET /api/v1/models lists them")
        }
        guard catalog.model(named: request.model) != nil else { throw .unknownModel(request.model) }
        let startedAt = Date()
        var seen: Set<String> = []
        var candidates: [Result<Candidate, any Error>] = []
        // An alias and the model it leads to are one model, tried once.
        for name in request.models where seen.insert(catalog.model(named: name)?.id ?? name).inserted {
            var request = request
            request.model = name
            candidates.append(
                Result {
                    try candidate(for: request, captions: captions, keyHash: keyHash, id: id, startedAt: startedAt)
                })
        }
        return candidates
    }

    /// `request` as its `model` would serve it, or why that model cannot.
    private func candidate(
        for request: SpeechRequest, captions: Captions?, keyHash: String, id: GenerationID, startedAt: Date
    ) throws(SpeechError) -> Candidate {
        let speech = try catalog.resolve(request)
        guard let configured = backends[speech.model.id] else { throw .unknownModel(speech.model.id) }
        let backend = try configured.serving(speech.request, model: speech.model.id)
        try Self.checkTimings(of: speech, backend: backend, captions: captions)
        let billing = Billing(speech: speech, backend: backend)
        let record = GenerationRecord(
            id: id.description, keyHash: keyHash, model: speech.model.id,
            provider: { if case .engine = backend { "local" } else { "pending" } }(),
            voice: speech.voice, format: speech.request.responseFormat.rawValue,
            characters: billing.characters(spoken: speech.request.characterCount),
            pricePerCharacter: Nanodollars(usd: speech.model.pricePerCharacter) ?? .zero, startedAt: startedAt)
        return Candidate(speech: speech, backend: backend, billing: billing, record: record)
    }

    /// The error of the last of `candidates`, none of which can serve.
    private static func lastError(of candidates: [Result<Candidate, any Error>]) -> any Error {
        guard case .failure(let error)? = candidates.last else { return SpeechError.engineFailure("no model to try") }
        return error
    }

    /// One generation, whatever happens: `candidates` are tried in turn until one makes its first
    /// audio (OpenRouter's model fallbacks; one model without `models`), each with its own routing
    /// and admission ticket, given back when it fails. The generation begins (its cost reserved:
    /// the dearest model's, so no later model can fail for money; 402 when that cannot be) with
    /// the first model admitted; a model that fails before its first audio hands the generation
    /// to the next, and the last one's error is the answer. 404/429/503 at once, and nothing
    /// recorded, when no model is admitted at all.
    private func generate(
        _ candidates: [Result<Candidate, any Error>], key: APIKey, fill: CacheFill?, cacheHeaders: HTTPFields,
        captions: Captions?, end: ResponseEnd, context: SpeechContext
    ) async throws -> Response {
        let reservation = candidates.compactMap { try? $0.get().record.fullCost }.max()
        let attempts = AttemptLog()
        var lease: GenerationLease?
        var failure: any Error = SpeechError.engineFailure("no model to try")
        for result in candidates {
            let candidate: Candidate
            do {
                candidate = try result.get()
            } catch {
                failure = error
                continue
            }
            let model = candidate.speech.model.id
            lease?.fallBack(to: candidate.record)
            var routed = candidate.backend
            let ticket: AdmissionTicket
            do {
                // 404/429/503 when no deployment may serve (preferences, breakers, capacity), and
                // 503 or 429 when the engine or the key has no stream to spare.
                if case .upstream(let endpoints) = routed {
                    routed = .upstream(
                        try routing.route(
                            endpoints, model: model, preferences: candidate.speech.request.routing, attempts: attempts))
                }
                do {
                    ticket = try admission.admit(model: model, key: key.hash, keyLimit: key.maxStreams)
                } catch {
                    throw APIError(error)
                }
            } catch {
                failure = error
                continue
            }
            let current: GenerationLease
            if let lease {
                current = lease
            } else {
                do {
                    // 402 here, before any synthesis, when the key or the account cannot cover the input.
                    // From here on the lease records exactly one end, whichever way the request goes.
                    current = try await ledger.begin(candidate.record, reserving: reservation)
                } catch {
                    ticket.release()
                    fill?.abandon()
                    throw error
                }
                lease = current
                context.summary.started(current)
                attempts.record(to: current)
                // A miss is stored only when its stream completed (`Delivery`); any other end drops it.
                current.whenEnded { [fill, routing] in
                    fill?.abandon()
                    routing.release(attempts)
                }
            }
            current.whenEnded { ticket.release() }
            let progress = SpeechProgress(timesWords: candidate.speech.request.returnTimestamps)
            let (output, serving) = routed.audio(for: candidate.speech, progress: progress)
            let meter = Meter(lease: current, progress: progress, billing: candidate.billing, fill: fill, serving: serving)
            do {
                let first = try await meter.start(output, framing: candidate.speech.request.streamFormat)
                return response(
                    candidate.speech, first: first, meter: meter, cacheHeaders: cacheHeaders, captions: captions,
                    end: end, context: context)
            } catch {
                ticket.release()
                failure = error
                if Self.status(after: error) == .cancelled { break }
            }
        }
        if let lease {
            await lease.end(Self.status(after: failure))
        } else {
            fill?.abandon()
        }
        throw failure
    }

    /// The response of a generation whose lease `meter` holds, once its `first` piece is made
    /// (before the status line leaves, so a request that cannot be spoken at all still gets a
    /// proper error instead of an empty 200): `Delivery` writes the rest (for captioned speech,
    /// the `captions` document once the audio is complete).
    private func response(
        _ speech: ResolvedSpeech, first: (audio: [UInt8], rest: SpeechOutput), meter: Meter,
        cacheHeaders: HTTPFields, captions: Captions? = nil, end: ResponseEnd, context: SpeechContext
    ) -> Response {
        let lease = meter.lease
        let framing = speech.request.streamFormat
        let stream = Delivery(
            meter: meter, framing: framing, first: first.audio, spokenWithFirst: meter.progress.spokenCharacters,
            rest: first.rest, end: end, logger: context.logger, captions: captions.map { ($0, speech) })
        var headers: HTTPFields = [
            .contentType: captions?.contentType ?? framing.contentType(for: speech.request.responseFormat),
            .generationID: lease.record.id,
        ]
        if framing == .sse { headers[.cacheControl] = "no-cache" }
        headers.append(contentsOf: cacheHeaders)
        // If the head cannot be written (the client reset), Hummingbird never runs this body:
        // the lease, dropped with it, records the generation as cancelled.
        return Response(
            status: .ok, headers: headers, body: ResponseBody { writer in try await stream.send(to: &writer) })
    }

    /// Word timings come from the built-in engines only, and as events of an SSE stream or as
    /// one captioned document.
    static func checkTimings(of speech: ResolvedSpeech, backend: SpeechBackend, captions: Captions?) throws(SpeechError)
    {
        guard speech.request.returnTimestamps else { return }
        let field = captions == nil ? "return_timestamps" : "model"
        guard case .engine = backend else {
            throw .invalidField(
                name: field,
                reason: "\(speech.model.id) is served by upstream providers, which report no word timings; "
                    + "the local/ models do")
        }
        switch (captions, speech.request.streamFormat) {
        case (nil, .audio):
            throw .invalidField(
                name: "return_timestamps",
                reason: "needs stream_format \"sse\"; for a whole file use POST /audio/captioned_speech")
        case (_?, .sse):
            throw .invalidField(
                name: "stream_format",
                reason: "captioned speech is one document; for a stream use POST /audio/speech with return_timestamps")
        default: break
        }
    }

    /// How a generation that threw `error` ended: cancelled when its task was, else failed.
    static func status(after error: any Error) -> GenerationStatus {
        error is CancellationError || Task.isCancelled ? .cancelled : .failed
    }
}

/// One model a request may be served by, resolved for it: the speech it makes, what serves it,
/// what it bills, and the record of its generation.
private struct Candidate: Sendable {
    let speech: ResolvedSpeech
    let backend: SpeechBackend
    let billing: Billing
    let record: GenerationRecord
}

/// What a generation bills: the input's characters, and for a model served upstream the
/// instructions sent along with it (OpenAI bills them too), counted with its first piece.
struct Billing: Sendable {
    let instructionCharacters: Int

    init(speech: ResolvedSpeech, backend: SpeechBackend) {
        if case .upstream = backend {
            instructionCharacters = speech.request.instructionCharacters
        } else {
            instructionCharacters = 0  // the built-in engines ignore instructions
        }
    }

    /// The billed characters once the first `spoken` characters of the input are spoken.
    func characters(spoken: Int) -> Int { spoken > 0 ? spoken + instructionCharacters : 0 }
}

/// Tells a generation's lease what its audio has cost so far.
private struct Meter: Sendable {
    let lease: GenerationLease
    let progress: SpeechProgress
    let billing: Billing
    /// Where a cached miss writes its audio as it is made; stored once the stream completed.
    let fill: CacheFill?
    /// The deployment speaking the stream now: another one after a failover mid-stream.
    var serving: ServingProvider? = nil

    /// The next chunk of `output`; however that ends, the lease learns what an upstream has
    /// billed us for by then, and which deployment is speaking.
    func next(of output: inout SpeechOutput) async throws -> [UInt8]? {
        defer {
            lease.incurred(characters: billing.characters(spoken: progress.incurredCharacters))
            if let serving { lease.served(by: serving.value, model: serving.model) }
        }
        let chunk = try await output.next()
        if let chunk { fill?.append(chunk) }
        return chunk
    }

    /// The first piece of `output`, framed, and the rest of it.
    func start(_ output: SpeechOutput, framing: StreamFormat) async throws -> (audio: [UInt8], rest: SpeechOutput) {
        var output = output
        let first = try framed(await next(of: &output) ?? [], as: framing)
        return (first, output)
    }

    /// `audio` framed as `framing` says, followed (SSE) by the `speech.word` events of the
    /// words whose audio has been written by now.
    func framed(_ audio: [UInt8], as framing: StreamFormat) throws(SpeechError) -> [UInt8] {
        try framing.frame(audio) + wordEvents(as: framing, all: false)
    }

    /// The events (SSE) of the words timed and not yet sent: those whose audio has been
    /// written, or `all` of them once the audio has ended.
    func wordEvents(as framing: StreamFormat, all: Bool) throws(SpeechError) -> [UInt8] {
        guard framing == .sse && progress.timesWords else { return [] }
        return try framing.events(for: progress.takeWords(all: all))
    }

    /// Audio covering the first `spoken` characters of the input has reached the client.
    func delivered(spoken: Int) { lease.delivered(characters: billing.characters(spoken: spoken)) }
}

/// The rest of one response after its head: writes the audio as it is made (raw, or as
/// server-sent events) and tells the lease what reached the client and how the stream ended.
private struct Delivery: Sendable {
    let meter: Meter
    let framing: StreamFormat
    var lease: GenerationLease { meter.lease }
    let first: [UInt8]
    /// The characters covered by `first`: a stream cut short is charged for what was delivered.
    let spokenWithFirst: Int
    let rest: SpeechOutput
    let end: ResponseEnd
    let logger: Logger
    /// For captioned speech: the document the audio goes into, and the request it answers. The
    /// audio is then gathered, and the document written once it is complete.
    let captions: (Captions, ResolvedSpeech)?

    func send(to writer: inout any ResponseBodyWriter) async throws {
        defer {
            // What the engine's C library printed, once per request instead of once per complaint.
            if let messages = meter.progress.libraryMessages {
                logger.notice(
                    "speech engine messages", metadata: ["generation": "\(lease.record.id)", "messages": "\(messages)"])
            }
        }
        var iterator = rest
        var chunk: [UInt8]? = first
        var spoken = spokenWithFirst
        var ended = false
        // Captioned speech gathers the audio and writes only the document, at the end.
        var gathered: [UInt8] = captions == nil ? [] : first
        while let bytes = chunk {
            let writes = captions == nil || ended
            do {
                if writes && !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
            } catch {
                // The client went away: stop synthesizing (dropping the iterator cancels the
                // pieces in flight) and charge only what was delivered.
                await lease.end(.cancelled)
                throw error
            }
            if writes { meter.delivered(spoken: spoken) }
            if ended { break }
            do {
                if let next = try await meter.next(of: &iterator) {
                    chunk = try meter.framed(next, as: framing)
                } else {
                    // What closes the stream: SSE's done event with the usage, nothing for raw audio.
                    chunk =
                        try meter.wordEvents(as: framing, all: true)
                        + framing.closing(
                            characters: meter.billing.characters(spoken: meter.progress.spokenCharacters))
                    ended = true
                }
                if case (let document, let speech)? = captions, let bytes = chunk {
                    gathered += bytes
                    if ended {
                        chunk = try document.render(
                            audio: gathered, format: speech.request.responseFormat,
                            words: meter.progress.takeWords(all: true), input: speech.request.input)
                    }
                }
                spoken = meter.progress.spokenCharacters
            } catch {
                // Bytes already left with a 200: cut the stream, as the contract says.
                let status = SpeechRoutes.status(after: error)
                if status == .failed {
                    logger.error(
                        "synthesis failed mid-stream",
                        metadata: ["generation": "\(lease.record.id)", "error": "\(error)"])
                }
                await lease.end(status)
                throw error
            }
        }
        do {
            try await writer.finish(nil)
        } catch {
            await lease.end(.cancelled)
            throw error
        }
        let completed = await end.kept()
        if completed { meter.fill?.commit() }
        await lease.end(completed ? .completed : .cancelled)
    }
}

extension HTTPField.Name {
    static let generationID = Self("X-Generation-Id")!
}
