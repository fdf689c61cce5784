import Foundation
import SpeechCore

/// Encoded bytes (mp3, opus, aac, flac), passed through as they arrive.
struct EncodedPassthrough: BodyDecoder {
    mutating func feed(_ bytes: [UInt8]) throws -> [UpstreamChunk] { [.encoded(bytes)] }
    mutating func finish() throws -> [UpstreamChunk] { [] }
}

/// Headerless signed 16-bit little-endian samples; a sample split across reads is kept for the next.
struct PCM16Decoder: BodyDecoder {
    let rate: Int
    var carry: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) throws -> [UpstreamChunk] {
        let data = carry + bytes
        let usable = data.count & ~1
        carry = Array(data[usable...])
        return [.pcm(samples(fromS16LE: data[..<usable]), rate: rate)]
    }

    mutating func finish() throws -> [UpstreamChunk] {
        guard carry.isEmpty else { throw DecodeError("the PCM body ended inside a sample") }
        return []
    }
}

/// Float32 little-endian samples (Mistral's `pcm`), converted as Pipecat does:
/// `int16(clamp(f × 32767, −32768, 32767))`.
func samples(fromFloat32LE bytes: ArraySlice<UInt8>) throws -> [Int16] {
    guard bytes.count % 4 == 0 else { throw DecodeError("float32 PCM of \(bytes.count) bytes is not whole samples") }
    var result: [Int16] = []
    result.reserveCapacity(bytes.count / 4)
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let bits = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
            | UInt32(bytes[index + 3]) << 24
        let scaled = (Float(bitPattern: bits) * 32767).rounded()
        result.append(Int16(scaled.isNaN ? 0 : min(max(scaled, -32768), 32767)))
        index += 4
    }
    return result
}

func samples(fromS16LE bytes: ArraySlice<UInt8>) -> [Int16] {
    var result: [Int16] = []
    result.reserveCapacity(bytes.count / 2)
    var index = bytes.startIndex
    while index + 1 < bytes.endIndex {
        result.append(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8))
        index += 2
    }
    return result
}

/// The samples of a whole RIFF/WAVE file (Google's LINEAR16 carries one), and their rate.
func samples(fromWAV bytes: [UInt8]) throws -> ([Int16], Int) {
    guard let header = try WAVHeader.parse(bytes) else { throw DecodeError("the WAVE file has no data chunk") }
    let end = header.dataSize.map { min(header.dataStart + $0, bytes.count) } ?? bytes.count
    let data = bytes[header.dataStart..<end]
    switch header.encoding {
    case .s16le: return (samples(fromS16LE: data), header.rate)
    case .float32le: return (try samples(fromFloat32LE: data.prefix(data.count - data.count % 4)), header.rate)
    }
}

/// A whole JSON body holding base64 audio at `path` (Mistral's `audio_data`, Google's
/// `audioContent`). The body is small (one piece of text), so it is read whole.
struct Base64JSONDecoder: BodyDecoder {
    let path: [String]
    let format: UpstreamFormat
    let pcm: PCMEncoding
    var body: [UInt8] = []

    init(path: [String], format: UpstreamFormat, pcm: PCMEncoding) {
        self.path = path
        self.format = format
        self.pcm = pcm
    }

    mutating func feed(_ bytes: [UInt8]) throws -> [UpstreamChunk] {
        body += bytes
        guard body.count <= 64 << 20 else { throw DecodeError("the JSON body is over 64 MiB") }
        return []
    }

    mutating func finish() throws -> [UpstreamChunk] {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
            throw DecodeError("the body is not JSON")
        }
        var value = json
        for key in path {
            guard case .object(let fields) = value, let next = fields[key] else {
                throw DecodeError("the JSON has no \(path.joined(separator: "."))")
            }
            value = next
        }
        guard case .string(let text) = value else { throw DecodeError("\(path.joined(separator: ".")) is not a string") }
        return [try decodeAudio(base64: text, format: format, pcm: pcm)]
    }
}

/// How an upstream writes `pcm`.
enum PCMEncoding: Sendable {
    case s16le(rate: Int)
    case float32le(rate: Int)
    case wav
}

func decodeAudio(base64 text: String, format: UpstreamFormat, pcm: PCMEncoding) throws -> UpstreamChunk {
    guard let data = Data(base64Encoded: text) else { throw DecodeError("the audio is not valid base64") }
    let bytes = [UInt8](data)
    switch format {
    case .mp3, .opus, .aac, .flac: return .encoded(bytes)
    case .pcm:
        switch pcm {
        case .s16le(let rate):
            guard bytes.count % 2 == 0 else { throw DecodeError("16-bit PCM of odd length") }
            return .pcm(samples(fromS16LE: bytes[...]), rate: rate)
        case .float32le(let rate): return .pcm(try samples(fromFloat32LE: bytes[...]), rate: rate)
        case .wav:
            let (samples, rate) = try samples(fromWAV: bytes)
            return .pcm(samples, rate: rate)
        }
    }
}

/// Server-sent events whose `data:` JSON carries base64 audio in `field` when `type` (or the
/// `event:` line) is `delta`; the stream ends at `done` or when the body closes.
struct SSEAudioDecoder: BodyDecoder {
    let delta: String
    let done: String
    let field: String
    let format: UpstreamFormat
    let pcm: PCMEncoding
    var buffer: [UInt8] = []
    var event: String?
    var data: [String] = []
    var sawDone = false
    /// Float32 samples may be split across events; bytes that do not make a whole sample wait here.
    var carry: [UInt8] = []

    init(delta: String, done: String, field: String, format: UpstreamFormat, pcm: PCMEncoding) {
        self.delta = delta
        self.done = done
        self.field = field
        self.format = format
        self.pcm = pcm
    }

    mutating func feed(_ bytes: [UInt8]) throws -> [UpstreamChunk] {
        buffer += bytes
        var chunks: [UpstreamChunk] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty {
                if let chunk = try dispatch() { chunks.append(chunk) }
            } else if line.hasPrefix("event:") {
                event = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("data:") {
                data.append(String(line.dropFirst(5).drop(while: { $0 == " " })))
            }
        }
        return chunks
    }

    mutating func finish() throws -> [UpstreamChunk] {
        let last = try dispatch()
        guard carry.isEmpty else { throw DecodeError("the stream ended inside a sample") }
        return last.map { [$0] } ?? []
    }

    private mutating func dispatch() throws -> UpstreamChunk? {
        defer {
            event = nil
            data = []
        }
        guard !data.isEmpty else { return nil }
        let payload = data.joined(separator: "\n")
        if payload == "[DONE]" { return nil }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8)), case .object(let fields) = json
        else { throw DecodeError("an event's data is not JSON") }
        var type = event
        if case .string(let named)? = fields["type"] { type = named }
        if type == done {
            sawDone = true
            return nil
        }
        guard type == delta else { return nil }
        guard case .string(let text)? = fields[field], let decoded = Data(base64Encoded: text) else {
            throw DecodeError("a \(delta) event has no valid base64 \(field)")
        }
        switch (format, pcm) {
        case (.mp3, _), (.opus, _), (.aac, _), (.flac, _): return .encoded([UInt8](decoded))
        case (.pcm, .float32le(let rate)):
            let bytes = carry + [UInt8](decoded)
            let usable = bytes.count & ~3
            carry = Array(bytes[usable...])
            return .pcm(try samples(fromFloat32LE: bytes[..<usable]), rate: rate)
        case (.pcm, .s16le(let rate)):
            let bytes = carry + [UInt8](decoded)
            let usable = bytes.count & ~1
            carry = Array(bytes[usable...])
            return .pcm(samples(fromS16LE: bytes[..<usable]), rate: rate)
        case (.pcm, .wav):
            throw DecodeError("WAV cannot arrive in pieces")
        }
    }
}

struct DecodeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
