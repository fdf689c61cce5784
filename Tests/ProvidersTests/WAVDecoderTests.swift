import AudioPipeline
import Testing

@testable import Providers

/// An upstream's audio at its true rate: the WAV header's rate, else the rate its response states.
@Suite struct WAVDecoderTests {
    static let samples: [Int16] = (0..<2_205).map { Int16(truncatingIfNeeded: $0 * 37) }
    static let pcm = PCMEncoder().encode(samples)

    /// Feeds `body` in pieces of `size` bytes and joins what comes out.
    private func decode(_ body: [UInt8], rate: Int = 24_000, size: Int) throws -> (samples: [Int16], rates: Set<Int>) {
        var decoder = WAVDecoder(rate: rate)
        var chunks: [UpstreamChunk] = []
        for start in stride(from: 0, to: body.count, by: size) {
            chunks += try decoder.feed(Array(body[start..<min(start + size, body.count)]))
        }
        chunks += try decoder.finish()
        var samples: [Int16] = []
        var rates = Set<Int>()
        for case .pcm(let piece, let rate) in chunks where !piece.isEmpty {
            samples += piece
            rates.insert(rate)
        }
        return (samples, rates)
    }

    @Test(arguments: [1, 3, 7, 44, 4_096])
    func aStreamedWAVIsReadAtItsHeadersRate(size: Int) throws {
        let body = WAVEncoder(sampleRate: 22_050).begin() + Self.pcm
        let decoded = try decode(body, size: size)
        #expect(decoded.samples == Self.samples)
        #expect(decoded.rates == [22_050])
    }

    @Test func aSizedDataChunkEndsTheSamplesAndOtherChunksAreSkipped() throws {
        func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let format: [UInt8] = [1, 0, 1, 0] + u32(16_000) + u32(32_000) + [2, 0, 16, 0]
        let body = Array("RIFF".utf8) + u32(0) + Array("WAVE".utf8) + Array("LIST".utf8) + u32(3) + [1, 2, 3, 0]
            + Array("fmt ".utf8) + u32(16) + format + Array("data".utf8) + u32(Self.pcm.count) + Self.pcm
            + Array("junk".utf8)
        let decoded = try decode(body, size: 5)
        #expect(decoded.samples == Self.samples)
        #expect(decoded.rates == [16_000])
    }

    @Test func aBodyThatIsNotWAVIsPCMAtTheStatedRate() throws {
        let decoded = try decode(Self.pcm, rate: 22_050, size: 3)
        #expect(decoded.samples == Self.samples)
        #expect(decoded.rates == [22_050])
    }

    @Test func unsupportedOrTruncatedWAVIsAnError() throws {
        var stereo = WAVEncoder(sampleRate: 22_050).begin()
        stereo[22] = 2
        #expect(throws: DecodeError.self) { try decode(stereo + Self.pcm, size: 64) }
        var tooFast = WAVEncoder(sampleRate: 22_050).begin()
        tooFast.replaceSubrange(24..<28, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: DecodeError.self) { try decode(tooFast + Self.pcm, size: 64) }
        let header = WAVEncoder(sampleRate: 22_050).begin()
        #expect(throws: DecodeError.self) { try decode(Array(header.prefix(30)), size: 64) }
        #expect(throws: DecodeError.self) { try decode(header + Self.pcm + [1], size: 64) }
        // Small chunks forever, never a data chunk: refused, not buffered without end.
        let endless = Array(header.prefix(12)) + Array(repeating: Array("pad ".utf8) + [0, 0, 0, 0], count: 140_000).flatMap { $0 }
        #expect(throws: DecodeError.self) { try decode(endless, size: 262_144) }
    }

    @Test func theRateAResponseStates() {
        #expect(statedRate(contentType: "audio/pcm;rate=22050", sampleRate: nil) == 22_050)
        #expect(statedRate(contentType: "audio/L16; rate=16000; channels=1", sampleRate: nil) == 16_000)
        #expect(statedRate(contentType: "audio/pcm", sampleRate: " 22050 ") == 22_050)
        #expect(statedRate(contentType: "audio/pcm;rate=0", sampleRate: "44100") == 44_100)
        #expect(statedRate(contentType: "audio/pcm;rate=99999999999999999999999", sampleRate: "-5") == nil)
        #expect(statedRate(contentType: nil, sampleRate: nil) == nil)
    }
}
