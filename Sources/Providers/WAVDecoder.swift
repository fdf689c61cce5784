import Foundation

/// The header of a RIFF/WAVE file: its sample format and where its samples start, found by
/// walking the chunks rather than assuming a 44-byte header.
struct WAVHeader: Equatable, Sendable {
    enum Encoding: Equatable, Sendable {
        case s16le
        case float32le
    }

    var encoding: Encoding
    var rate: Int
    /// The offset of the first sample.
    var dataStart: Int
    /// The bytes of samples, or nil when the header does not say (0 or 0xFFFFFFFF: a stream).
    var dataSize: Int?

    /// The rates a WAV from an upstream may state.
    static let rates = 1_000...384_000
    /// The most bytes read looking for the data chunk (and the largest chunk skipped before it).
    static let maxHeaderBytes = 1 << 20

    /// The header at the start of `bytes`, or nil when more bytes are needed to find it.
    /// Throws for what is not a mono 16-bit or float32 RIFF/WAVE file.
    static func parse(_ bytes: [UInt8]) throws -> WAVHeader? {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard bytes.count >= 12 else {
            guard "RIFF".utf8.starts(with: bytes.prefix(4)) else { throw DecodeError("audio is not a RIFF/WAVE file") }
            return nil
        }
        guard bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw DecodeError("audio is not a RIFF/WAVE file")
        }
        var offset = 12
        var format: (encoding: Encoding, rate: Int)?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = u32(offset + 4)
            let start = offset + 8
            if id == "data" {
                guard let format else { throw DecodeError("the WAVE file has no fmt chunk before its data") }
                return WAVHeader(
                    encoding: format.encoding, rate: format.rate, dataStart: start,
                    dataSize: size == 0 || size == 0xFFFF_FFFF ? nil : size)
            }
            guard size <= maxHeaderBytes else { throw DecodeError("the WAVE file has a \(size)-byte \(id) chunk before its data") }
            guard start + size <= bytes.count else { return nil }
            if id == "fmt " {
                guard size >= 16 else { throw DecodeError("the WAVE fmt chunk is \(size) bytes") }
                format = try Self.format(tag: u16(start), channels: u16(start + 2), rate: u32(start + 4), bits: u16(start + 14))
            }
            offset = start + size + (size & 1)
        }
        return nil
    }

    private static func format(tag: Int, channels: Int, rate: Int, bits: Int) throws -> (Encoding, Int) {
        guard channels == 1 else { throw DecodeError("WAVE audio with \(channels) channels is not supported (mono only)") }
        guard rates.contains(rate) else { throw DecodeError("a WAVE rate of \(rate) Hz is outside \(rates)") }
        // 0xFFFE (extensible) carries its real tag in a sub-format; its bit depth tells the two apart.
        switch (tag, bits) {
        case (1, 16), (0xFFFE, 16): return (.s16le, rate)
        case (3, 32), (0xFFFE, 32): return (.float32le, rate)
        default: throw DecodeError("WAVE format \(tag) with \(bits)-bit samples is not supported")
        }
    }
}

/// A WAV body read as it arrives: the header's rate wins over anything else. A body that is not
/// WAV at all (an upstream that ignored the format asked for) is headerless 16-bit PCM at
/// `rate`, the rate the response stated or the upstream's default.
struct WAVDecoder: BodyDecoder {
    let rate: Int
    private var header: WAVHeader?
    /// Bytes not yet decoded: the header while it is incomplete, then a partial sample.
    private var pending: [UInt8] = []
    /// Sample bytes still to come when the header gave a size; later bytes are not samples.
    private var remaining: Int?

    init(rate: Int) { self.rate = rate }

    mutating func feed(_ bytes: [UInt8]) throws -> [UpstreamChunk] {
        guard header == nil else {
            accept(bytes[...])
            return try decodedSamples()
        }
        pending += bytes
        // Up to four bytes that could still begin "RIFF" decide nothing yet.
        if pending.count < 4 && "RIFF".utf8.starts(with: pending) { return [] }
        if !pending.starts(with: "RIFF".utf8) {
            header = WAVHeader(encoding: .s16le, rate: rate, dataStart: 0, dataSize: nil)
            return try decodedSamples()
        }
        guard let found = try WAVHeader.parse(pending) else {
            guard pending.count <= WAVHeader.maxHeaderBytes else {
                throw DecodeError("no WAVE data chunk in the first \(WAVHeader.maxHeaderBytes) bytes")
            }
            return []
        }
        let data = pending[found.dataStart...]
        header = found
        remaining = found.dataSize
        pending = []
        accept(data)
        return try decodedSamples()
    }

    mutating func finish() throws -> [UpstreamChunk] {
        guard pending.isEmpty else {
            throw DecodeError(header == nil ? "the WAVE body ended inside its header" : "the body ended inside a sample")
        }
        return []
    }

    private mutating func accept(_ bytes: ArraySlice<UInt8>) {
        guard let left = remaining else {
            pending += bytes
            return
        }
        let taken = bytes.prefix(left)
        remaining = left - taken.count
        pending += taken
    }

    /// The whole samples in `pending`; a partial one waits for the next bytes.
    private mutating func decodedSamples() throws -> [UpstreamChunk] {
        guard let header else { return [] }
        let width = header.encoding == .s16le ? 2 : 4
        let usable = pending.count - pending.count % width
        let bytes = pending[..<usable]
        defer { pending.removeFirst(usable) }
        switch header.encoding {
        case .s16le: return [.pcm(samples(fromS16LE: bytes), rate: header.rate)]
        case .float32le: return [.pcm(try samples(fromFloat32LE: bytes), rate: header.rate)]
        }
    }
}
