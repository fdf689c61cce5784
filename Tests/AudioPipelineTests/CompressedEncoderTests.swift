import Foundation
import SpeechCore
import Testing

@testable import AudioPipeline

/// The Opus, AAC and FLAC encoders, checked by their headers and by ffmpeg decoding them back.
@Suite struct CompressedEncoderTests {
    /// 2.5 s of 440 Hz fed in uneven pieces, as sentences arrive, through one encoder.
    static let input = tone(seconds: 2.5, rate: 24_000)

    static func encode(_ encoder: any AudioEncoder, pieces: [Int] = [7_001, 333, 20_000]) throws -> [UInt8] {
        var bytes = try encoder.begin()
        var start = 0
        for size in pieces + [input.count] where start < input.count {
            let end = min(start + size, input.count)
            bytes += try encoder.encode(Array(input[start..<end]))
            start = end
        }
        return bytes + (try encoder.finish())
    }

    /// Ogg pages: (header type flags, granule position, body).
    static func oggPages(_ bytes: [UInt8]) -> [(flags: UInt8, granule: Int64, body: [UInt8])] {
        var pages: [(UInt8, Int64, [UInt8])] = []
        var offset = 0
        while offset + 27 <= bytes.count, bytes[offset..<offset + 4].elementsEqual("OggS".utf8) {
            let granule = (0..<8).reduce(Int64(0)) { $0 | Int64(bytes[offset + 6 + $1]) << (8 * $1) }
            let segments = Int(bytes[offset + 26])
            let size = bytes[offset + 27..<offset + 27 + segments].reduce(0) { $0 + Int($1) }
            let start = offset + 27 + segments
            pages.append((bytes[offset + 5], granule, Array(bytes[start..<start + size])))
            offset = start + size
        }
        #expect(offset == bytes.count, "the stream is whole Ogg pages")
        return pages
    }

    @Test func oggOpusHasItsHeaderPagesAndEndsWhereTheInputDid() throws {
        let bytes = try Self.encode(OggOpusEncoder(sampleRate: 24_000))
        let pages = Self.oggPages(bytes)
        try #require(pages.count >= 3)
        #expect(pages[0].flags == 2, "the first page begins the stream")
        #expect(Array(pages[0].body.prefix(8)) == Array("OpusHead".utf8))
        #expect(pages[0].body[9] == 1, "mono")
        let preSkip = Int64(pages[0].body[10]) | Int64(pages[0].body[11]) << 8
        #expect(preSkip > 0)
        let rate = pages[0].body[12..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(rate == 24_000)
        #expect(Array(pages[1].body.prefix(8)) == Array("OpusTags".utf8))
        #expect(pages[1].granule == 0)
        #expect(pages.last!.flags & 4 == 4, "the last page ends the stream")
        // Granule positions count 48 kHz samples from the start, pre-skip included, and never go back.
        #expect(pages.last!.granule == preSkip + 2 * Int64(Self.input.count))
        #expect(zip(pages.dropFirst(2), pages.dropFirst(3)).allSatisfy { $0.granule <= $1.granule })

        let decoded = try FFmpegDecode.run(bytes, extension: "opus")
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
        #expect(abs(decoded.samples.count - Self.input.count) <= 24)
        #expect(abs(zeroCrossings(decoded.samples) - 2_200) <= 20)
        let probe = try Probe.run(bytes, extension: "opus")
        #expect(probe.streams.first?.codec_name == "opus")
        #expect(probe.streams.first?.channels == 1)
    }

    @Test func flacDecodesBackToTheSameSamples() throws {
        let bytes = try Self.encode(FLACEncoder(sampleRate: 24_000))
        #expect(Array(bytes.prefix(4)) == Array("fLaC".utf8))
        let decoded = try FFmpegDecode.run(bytes, extension: "flac")
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
        #expect(decoded.samples == Self.input, "FLAC is lossless")
        let probe = try Probe.run(bytes, extension: "flac")
        #expect(probe.streams.first?.codec_name == "flac")
        #expect(probe.streams.first?.sample_rate == "24000")
        #expect(probe.streams.first?.channels == 1)
    }

    @Test func aacIsADTSFramesThatDecodeToTheSameToneAndLength() throws {
        let bytes = try Self.encode(AACEncoder(sampleRate: 24_000))
        // Walk the ADTS frames: each starts with the sync word and says its own length.
        var offset = 0
        var frames = 0
        while offset + 7 <= bytes.count {
            #expect(bytes[offset] == 0xFF && bytes[offset + 1] == 0xF1, "ADTS sync at \(offset)")
            #expect(bytes[offset + 2] >> 2 & 0xF == 6, "24 kHz sampling frequency index")
            let length = Int(bytes[offset + 3] & 3) << 11 | Int(bytes[offset + 4]) << 3 | Int(bytes[offset + 5]) >> 5
            guard length >= 7 else { break }
            offset += length
            frames += 1
        }
        #expect(offset == bytes.count, "the stream is whole ADTS frames")
        // 1024 samples a frame, plus the encoder's priming frame.
        #expect(frames >= Self.input.count / 1_024)

        let decoded = try FFmpegDecode.run(bytes, extension: "aac")
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
        // ADTS cannot say how much priming to drop: up to two frames more than the input.
        #expect(decoded.samples.count >= Self.input.count && decoded.samples.count <= Self.input.count + 2_048 + 1_024)
        // The priming is near-silence that crosses zero at random: the pitch is measured on one
        // second past it, 440 Hz being 880 crossings.
        try #require(decoded.samples.count >= 4_096 + 24_000)
        #expect(abs(zeroCrossings(Array(decoded.samples[4_096..<28_096])) - 880) <= 4)
        let probe = try Probe.run(bytes, extension: "aac")
        #expect(probe.streams.first?.codec_name == "aac")
        #expect(probe.streams.first?.sample_rate == "24000")
        #expect(probe.streams.first?.channels == 1)
    }

    /// (An AAC stream with no audio is no bytes at all: ADTS has no header of its own.)
    @Test func aStreamWithNoAudioIsStillAWholeFile() throws {
        for format in [AudioFormat.opus, .flac] {
            let encoder = try format.makeEncoder()
            let bytes = try encoder.begin() + encoder.encode([]) + encoder.finish()
            let decoded = try FFmpegDecode.run(bytes, extension: format.rawValue)
            #expect(decoded.errors.isEmpty, "\(format): \(decoded.errors)")
            #expect(decoded.samples.isEmpty, "\(format)")
        }
    }

    @Test func ratesTheCodecsCannotTakeAreAnErrorNotATrap() {
        #expect(throws: SpeechError.self) { try OggOpusEncoder(sampleRate: 22_050) }
        #expect(throws: SpeechError.self) { try AACEncoder(sampleRate: 23_000) }
        #expect(throws: SpeechError.self) { try FLACEncoder(sampleRate: 0) }
        #expect(throws: SpeechError.self) { try FLACEncoder(sampleRate: -1) }
    }

    @Test func adtsHeaderCarriesTheFrameLength() throws {
        let header = try #require(ADTSHeader(sampleRate: 24_000))
        #expect(try header.bytes(payload: 100) == [0xFF, 0xF1, 0x58, 0x40, 0x0D, 0x7F, 0xFC])
        #expect(throws: SpeechError.self) { try header.bytes(payload: 8_185) }
    }
}
