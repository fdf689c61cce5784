import AudioPipeline
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import SpeechCore
import Synchronization

/// Loopback stand-ins for the paid upstreams, each speaking its real contract from
/// PROVIDERS.md: auth headers, body shapes, SSE framing, error bodies. Tests choose a fault
/// per provider and read back exactly what the gateway sent.
final class FakeUpstream: Sendable {
    enum Fault: Sendable, Equatable {
        case none
        case status(Int)
        case rateLimited(retryAfter: String)
        /// A 503 at capacity with `Retry-After`, as SpeechRouter itself sends.
        case atCapacity(retryAfter: String)
        /// Accepts the request and answers nothing for this long (longer than the gateway waits).
        case hang(Duration)
        case slowFirstByte(Duration)
        case truncated
        /// A 200 with an audio content type and an empty body: synthesis failed after the head left.
        case noAudio
        case invalidBase64
        /// A 401 whose body quotes the key it got: as sent, percent-encoded and JSON-escaped.
        case echoingKey
        /// A 307 to another host (`localhost` for `127.0.0.1`), where `/stolen` records what arrives.
        case redirect
    }

    struct Received: Sendable {
        var path: String
        var query: String?
        var headers: HTTPFields
        var body: String
    }

    /// With characters that percent-encoding and JSON escaping change, so every form differs.
    static let key = "sk-upstream/secret+1234="
    /// One second of a 440 Hz tone at 24 kHz, the audio every fake returns.
    static let tone: [Int16] = (0..<24_000).map { Int16(8_000 * sin(2 * Double.pi * 440 * Double($0) / 24_000)) }
    static let mp3: [UInt8] = {
        // A fixed configuration on fixed samples: LAME cannot refuse it.
        let encoder = try! Mp3Encoder(sampleRate: 24_000)
        return try! encoder.encode(tone) + encoder.finish()
    }()
    static let pcm: [UInt8] = PCMEncoder().encode(tone)

    private let state = Mutex((faults: [String: Fault](), received: [String: [Received]]()))

    /// A file of a multipart upload, as it arrived.
    struct UploadedFile: Sendable, Equatable {
        var filename: String
        var contentType: String
        var bytes: [UInt8]
    }

    /// A voice made by ElevenLabs' instant voice cloning, and whether it was deleted since.
    struct ClonedVoice: Sendable {
        var id: String
        var name: String
        var files: [UploadedFile]
        var deleted = false
    }

    private let clones = Mutex([ClonedVoice]())
    func clonedVoices() -> [ClonedVoice] { clones.withLock { $0 } }

    func fault(_ provider: String, _ fault: Fault) { state.withLock { $0.faults[provider] = fault } }
    func received(_ provider: String) -> [Received] { state.withLock { $0.received[provider] ?? [] } }

    private func record(_ provider: String, _ request: Request, body: String) -> Fault {
        state.withLock {
            $0.received[provider, default: []].append(
                Received(path: request.uri.path, query: request.uri.query, headers: request.headers, body: body))
            return $0.faults[provider] ?? Fault.none
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/audio/speech") { request, context in try await self.openAI(request, context) }
        router.post("/mistral/v1/audio/speech") { request, context in try await self.mistral(request, context) }
        router.post("/cognitiveservices/v1") { request, context in try await self.azure(request, context) }
        router.post("/v1/text-to-speech/:voice/stream") { request, context in try await self.elevenLabs(request, context) }
        router.post("/v1/voices/add") { request, context in try await self.elevenLabsAddVoice(request, context) }
        router.delete("/v1/voices/:voice") { request, context in try await self.elevenLabsDeleteVoice(request, context) }
        router.post("/v1/text:synthesize") { request, context in try await self.google(request, context) }
        router.post("/stolen") { request, context in
            _ = self.record("stolen", request, body: String(buffer: try await request.body.collect(upTo: 1 << 20)))
            return Self.audio(Self.mp3, contentType: "audio/mpeg", fault: .none)
        }
        return router
    }

    /// The answer of a fault that comes before the request is even checked, if `fault` is one.
    private static func hostile(_ fault: Fault, _ request: Request, sentKey: String) -> Response? {
        switch fault {
        case .echoingKey:
            let encoded = sentKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? sentKey
            let escaped = sentKey.replacingOccurrences(of: "/", with: #"\/"#)
            return json(
                401,
                #"{"error":{"message":"Incorrect API key provided: \#(escaped) (\#(encoded), \#(encoded.lowercased()))","#
                    + #""type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#)
        case .redirect:
            let host = (request.head.authority ?? "").replacingOccurrences(of: "127.0.0.1", with: "localhost")
            return Response(status: .temporaryRedirect, headers: [.location: "http://\(host)/stolen"])
        default: return nil
        }
    }

    // MARK: OpenAI

    private func openAI(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let fault = record("openai", request, body: body)
        if case .hang(let delay) = fault { try await Task.sleep(for: delay) }
        let sentKey = String((request.headers[.authorization] ?? "").dropFirst("Bearer ".count))
        if let answer = Self.hostile(fault, request, sentKey: sentKey) { return answer }
        guard request.headers[.authorization] == "Bearer \(Self.key)" else {
            return Self.json(401, #"{"error":{"message":"Incorrect API key provided: \#(request.headers[.authorization] ?? "")","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#)
        }
        let json = try Self.object(body)
        guard case .string(let input)? = json["input"], !input.isEmpty, case .string? = json["voice"], case .string? = json["model"] else {
            return Self.json(400, #"{"error":{"message":"Missing required parameter","type":"invalid_request_error","param":"input","code":null}}"#)
        }
        if case .number(let speed)? = json["speed"], !(0.25...4).contains(speed) {
            return Self.json(400, #"{"error":{"message":"speed out of range","type":"invalid_request_error","param":"speed","code":null}}"#)
        }
        if let failure = Self.failure(fault, errorBody: #"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#) {
            return failure
        }
        switch json["response_format"] {
        case .string("mp3")?: return Self.audio(Self.mp3, contentType: "audio/mpeg", fault: fault)
        case .string("wav")?: return Self.audio(WAVEncoder(sampleRate: 24_000).begin() + Self.pcm, contentType: "audio/wav", fault: fault)
        default: return Self.audio(Self.pcm, contentType: "audio/pcm", fault: fault)
        }
    }

    // MARK: Mistral

    private func mistral(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        // Room for a base64 reference recording (`ref_audio`).
        let body = String(buffer: try await request.body.collect(upTo: 64 << 20))
        let fault = record("mistral", request, body: body)
        guard request.headers[.authorization] == "Bearer \(Self.key)" else {
            return Self.json(401, #"{"message":"Unauthorized","request_id":"c61f2f15"}"#)
        }
        let json = try Self.object(body)
        guard case .string(let input)? = json["input"], !input.isEmpty else {
            return Self.json(422, #"{"detail":[{"loc":["body","input"],"msg":"Field required","type":"missing"}]}"#)
        }
        // `ref_audio`: base64 reference audio, which takes precedence over `voice_id`.
        if let reference = json["ref_audio"], reference != .null {
            guard case .string(let text) = reference, let audio = Data(base64Encoded: text), !audio.isEmpty else {
                return Self.json(422, #"{"detail":[{"loc":["body","ref_audio"],"msg":"Invalid base64","type":"value_error"}]}"#)
            }
        }
        if let failure = Self.failure(fault, errorBody: #"{"object":"error","message":"Service unavailable","type":"internal_error","param":null,"code":null}"#) {
            return failure
        }
        let mp3 = json["response_format"] == .string("mp3")
        // pcm is float32 little-endian, as Mistral documents.
        let audio = mp3 ? Self.mp3 : Self.tone.flatMap { sample -> [UInt8] in
            let bits = (Float(sample) / 32767).bitPattern
            return [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
        }
        let encode = { (bytes: ArraySlice<UInt8>) in fault == .invalidBase64 ? "!!not-base64!!" : Data(bytes).base64EncodedString() }
        guard json["stream"] == .bool(true) else {
            return Self.json(200, #"{"audio_data":"\#(encode(audio[...]))"}"#)
        }
        var events = ""
        for start in stride(from: 0, to: audio.count, by: 9_600) {
            let piece = audio[start..<min(start + 9_600, audio.count)]
            events += "event: speech.audio.delta\ndata: {\"type\":\"speech.audio.delta\",\"audio_data\":\"\(encode(piece))\"}\n\n"
        }
        if fault != .truncated {
            events += "event: speech.audio.done\ndata: {\"type\":\"speech.audio.done\",\"usage\":{\"prompt_tokens\":4,\"total_tokens\":4}}\n\n"
        }
        return Self.audio(Array(events.utf8), contentType: "text/event-stream", fault: fault == .truncated ? .none : fault)
    }

    // MARK: Azure

    private func azure(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let fault = record("azure", request, body: body)
        guard request.headers[HTTPField.Name("Ocp-Apim-Subscription-Key")!] == Self.key else {
            return Self.json(401, #"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}"#)
        }
        guard request.headers[.contentType] == "application/ssml+xml" else { return Response(status: .unsupportedMediaType) }
        let format = request.headers[HTTPField.Name("X-Microsoft-OutputFormat")!]
        guard format == "audio-24khz-48kbitrate-mono-mp3" || format == "raw-24khz-16bit-mono-pcm" else {
            return Response(status: .badRequest)  // Azure answers an unknown format with an empty 400
        }
        let parser = XMLParser(data: Data(body.utf8))
        let structure = SSMLStructure()
        parser.delegate = structure
        guard parser.parse(), structure.voiceName != nil else { return Response(status: .badRequest) }
        if structure.prosodyUnderSpeak {
            return Self.text(500, "Node [speak] with type [RootSpeak] should not contain node [prosody] with type [Others].")
        }
        if let failure = Self.failure(fault, errorBody: "") { return failure }
        return Self.audio(format!.hasSuffix("mp3") ? Self.mp3 : Self.pcm, contentType: "audio/mpeg", fault: fault)
    }

    // MARK: ElevenLabs

    private func elevenLabs(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let fault = record("elevenlabs", request, body: body)
        let sentKey = request.headers[HTTPField.Name("xi-api-key")!] ?? ""
        if let answer = Self.hostile(fault, request, sentKey: sentKey) { return answer }
        guard request.headers[HTTPField.Name("xi-api-key")!] == Self.key else {
            return Self.json(401, #"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#)
        }
        let json = try Self.object(body)
        guard case .string? = json["text"] else {
            return Self.json(422, #"{"detail":[{"loc":["body","text"],"msg":"field required","type":"value_error.missing"}]}"#)
        }
        if let failure = Self.failure(fault, errorBody: #"{"detail":{"status":"too_many_concurrent_requests","message":"Too many concurrent requests"}}"#) {
            return failure
        }
        let voice = context.parameters.get("voice") ?? ""
        let clone = clones.withLock { $0.first { $0.id == voice } }
        if voice.hasPrefix("cloned"), clone == nil || clone?.deleted == true {
            return Self.json(400, #"{"detail":{"status":"voice_not_found","message":"A voice with the voice_id was not found."}}"#)
        }
        let format = request.uri.queryParameters.get("output_format")
        return Self.audio(format == "mp3_24000_48" ? Self.mp3 : Self.pcm, contentType: "audio/mpeg", fault: fault)
    }

    /// `POST /v1/voices/add`: multipart `name` and one or more `files`; answers the new `voice_id`.
    private func elevenLabsAddVoice(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 20)
        _ = record("elevenlabs-clone", request, body: "")
        guard request.headers[HTTPField.Name("xi-api-key")!] == Self.key else {
            return Self.json(401, #"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#)
        }
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.hasPrefix("multipart/form-data"), let range = contentType.range(of: "boundary=") else {
            return Self.json(400, #"{"detail":{"status":"invalid_content_type","message":"Expected multipart/form-data"}}"#)
        }
        let parts = Self.multipart(Array(body.readableBytesView), boundary: String(contentType[range.upperBound...]))
        let name = parts.first { $0.name == "name" && $0.filename == nil }.map { String(decoding: $0.bytes, as: UTF8.self) }
        let files = parts.filter { $0.name == "files" }.compactMap { part in
            part.filename.map { UploadedFile(filename: $0, contentType: part.contentType ?? "", bytes: part.bytes) }
        }
        guard let name, !name.isEmpty, !files.isEmpty else {
            return Self.json(422, #"{"detail":[{"loc":["body","files"],"msg":"field required","type":"value_error.missing"}]}"#)
        }
        let id = clones.withLock { voices in
            let id = "cloned\(voices.count + 1)"  // alphanumeric, as ElevenLabs ids are
            voices.append(ClonedVoice(id: id, name: name, files: files))
            return id
        }
        return Self.json(200, #"{"voice_id":"\#(id)","requires_verification":false}"#)
    }

    /// `DELETE /v1/voices/{voice_id}`.
    private func elevenLabsDeleteVoice(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard request.headers[HTTPField.Name("xi-api-key")!] == Self.key else {
            return Self.json(401, #"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#)
        }
        let voice = context.parameters.get("voice") ?? ""
        let found = clones.withLock { voices in
            guard let index = voices.firstIndex(where: { $0.id == voice && !$0.deleted }) else { return false }
            voices[index].deleted = true
            return true
        }
        return found
            ? Self.json(200, #"{"status":"ok"}"#)
            : Self.json(400, #"{"detail":{"status":"voice_not_found","message":"A voice with the voice_id was not found."}}"#)
    }

    /// The parts of a multipart/form-data body: each one's name, filename, type and bytes.
    static func multipart(
        _ body: [UInt8], boundary: String
    ) -> [(name: String?, filename: String?, contentType: String?, bytes: [UInt8])] {
        let delimiter = Array("--\(boundary)".utf8)
        var starts: [Int] = []
        var index = 0
        while index + delimiter.count <= body.count {
            if body[index..<index + delimiter.count].elementsEqual(delimiter) {
                starts.append(index)
                index += delimiter.count
            } else {
                index += 1
            }
        }
        let separator = Array("\r\n\r\n".utf8)
        return zip(starts, starts.dropFirst()).compactMap { start, end in
            guard end - start >= delimiter.count + 8 else { return nil }
            let part = Array(body[(start + delimiter.count + 2)..<(end - 2)])  // past the delimiter's CRLF, before the next's
            guard let split = (0...(part.count - separator.count)).first(where: { part[$0..<$0 + 4].elementsEqual(separator) })
            else { return nil }
            let head = String(decoding: part[..<split], as: UTF8.self)
            func value(_ key: String) -> String? {
                guard let range = head.range(of: "\(key)=\"") else { return nil }
                return String(head[range.upperBound...].prefix { $0 != "\"" })
            }
            let type = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-type:") }
                .map { $0.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces) }
            return (value(" name"), value("filename"), type, Array(part[(split + 4)...]))
        }
    }

    // MARK: Google

    private func google(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let fault = record("google", request, body: body)
        guard request.headers[HTTPField.Name("X-Goog-Api-Key")!] == Self.key else {
            return Self.json(403, #"{"error":{"code":403,"message":"API key not valid.","status":"PERMISSION_DENIED"}}"#)
        }
        if let failure = Self.failure(fault, errorBody: #"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#) {
            return failure
        }
        let json = try Self.object(body)
        guard case .object(let config)? = json["audioConfig"], case .string(let encoding)? = config["audioEncoding"] else {
            return Self.json(400, #"{"error":{"code":400,"message":"audioConfig is required","status":"INVALID_ARGUMENT"}}"#)
        }
        let audio = encoding == "MP3" ? Self.mp3 : WAVEncoder(sampleRate: 24_000).begin().enumerated().map { index, byte in
            // A real LINEAR16 header carries the real data size.
            (4...7).contains(index) ? [UInt8](withUnsafeBytes(of: UInt32(36 + Self.pcm.count).littleEndian, Array.init))[index - 4]
                : (40...43).contains(index) ? [UInt8](withUnsafeBytes(of: UInt32(Self.pcm.count).littleEndian, Array.init))[index - 40]
                : byte
        } + Self.pcm
        let content = fault == .invalidBase64 ? "%%%" : Data(audio).base64EncodedString()
        let text = #"{"audioContent":"\#(content)"}"#
        return Self.audio(Array((fault == .truncated ? String(text.prefix(text.count / 2)) : text).utf8),
                          contentType: "application/json", fault: .none)
    }

    // MARK: Responses

    static func object(_ body: String) throws -> [String: JSONValue] {
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)) else {
            throw HTTPError(.badRequest)
        }
        return fields
    }

    static func failure(_ fault: Fault, errorBody: String) -> Response? {
        switch fault {
        case .status(let code): return errorBody.isEmpty ? Response(status: .init(code: code)) : json(code, errorBody)
        case .rateLimited(let retryAfter):
            var response = json(429, errorBody.isEmpty ? #"{"error":"rate limited"}"# : errorBody)
            response.headers[.retryAfter] = retryAfter
            return response
        case .atCapacity(let retryAfter):
            var response = json(503, #"{"error":{"code":503,"message":"at capacity"}}"#)
            response.headers[.retryAfter] = retryAfter
            return response
        default: return nil
        }
    }

    static func json(_ status: Int, _ body: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func text(_ status: Int, _ body: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Streams `bytes` in several chunks; a fault may delay the first or cut the body short.
    static func audio(_ bytes: [UInt8], contentType: String, fault: Fault) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody { writer in
                if case .slowFirstByte(let delay) = fault { try await Task.sleep(for: delay) }
                let end = fault == .truncated ? bytes.count / 2 + 1 : fault == .noAudio ? 0 : bytes.count
                for start in stride(from: 0, to: end, by: 4_096) {
                    try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 4_096, end)]))
                }
                if fault == .truncated { throw CancellationError() }  // drop the connection mid-body
                try await writer.finish(nil)
            })
    }
}

/// Just enough SSML reading to check what Azure checks: a voice name, and no prosody at the top.
final class SSMLStructure: NSObject, XMLParserDelegate, @unchecked Sendable {
    var voiceName: String?
    var prosodyUnderSpeak = false
    var stack: [String] = []
    var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "voice" { voiceName = attributes["name"] }
        if name == "prosody" && stack.last == "speak" { prosodyUnderSpeak = true }
        stack.append(name)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}
