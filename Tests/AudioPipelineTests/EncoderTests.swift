import Foundation
import SpeechCore
import Testing

@testable import AudioPipeline

func tone(seconds: Double, rate: Int, frequency: Double = 440) -> [Int16] {
    (0..<Int(seconds * Double(rate))).map { index in
        Int16(12_000 * sin(2 * Double.pi * frequency * Double(index) / Double(rate)))
    }
}

/// Counts sign changes: 2 per period, so it measures a tone's frequency after resampling.
func zeroCrossings(_ samples: [Int16]) -> Int {
    zip(samples, samples.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
}

@Suite struct EncoderTests {
    @Test func resamplerKeepsDurationAndPitch() throws {
        let resampler = try Resampler(from: 16_000, to: 24_000)
        let input = tone(seconds: 2, rate: 16_000)
        // Fed in uneven pieces, as sentences arrive.
        var output = try resampler.process(Array(input[..<7_001]))
        output += try resampler.process(Array(input[7_001...]))
        output += try resampler.flush()
        #expect(abs(output.count - 48_000) <= 48)
        // 440 Hz for 2 s: 1,760 crossings whatever the rate.
        #expect(abs(zeroCrossings(output) - 1_760) <= 8)
    }

    /// The same input resamples to the same samples every time: no random dither (the speech
    /// cache and a client comparing two answers rely on one request giving one audio).
    @Test func resamplingIsDeterministic() throws {
        let input = tone(seconds: 1, rate: 16_000, frequency: 220).map { $0 / 7 }
        func resampled() throws -> [Int16] {
            let resampler = try Resampler(from: 16_000, to: 24_000)
            return try resampler.process(input) + resampler.flush()
        }
        let first = try resampled()
        for _ in 0..<3 { #expect(try resampled() == first) }
    }

    @Test func mp3DecodesAsMonoAt24kHzWithTheSameDuration() throws {
        let encoder = try Mp3Encoder(sampleRate: 24_000)
        var bytes = encoder.begin()
        let samples = tone(seconds: 3, rate: 24_000)
        for start in stride(from: 0, to: samples.count, by: 5_000) {
            bytes += try encoder.encode(Array(samples[start..<min(start + 5_000, samples.count)]))
        }
        bytes += try encoder.finish()
        #expect(bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0, "starts with an MPEG frame sync")
        let probe = try Probe.run(bytes, extension: "mp3")
        #expect(probe.streams.first?.codec_name == "mp3")
        #expect(probe.streams.first?.sample_rate == "24000")
        #expect(probe.streams.first?.channels == 1)
        #expect(abs(probe.duration - 3.0) < 0.1)
    }

    @Test func wavHeaderDescribes24kHzMono16Bit() throws {
        let encoder = WAVEncoder(sampleRate: 24_000)
        let bytes = encoder.begin() + encoder.encode(tone(seconds: 1, rate: 24_000)) + encoder.finish()
        #expect(Array(bytes[0..<4]) == Array("RIFF".utf8))
        #expect(Array(bytes[8..<12]) == Array("WAVE".utf8))
        #expect(Array(bytes[36..<40]) == Array("data".utf8))
        #expect(bytes.count == 44 + 48_000)
        let probe = try Probe.run(bytes, extension: "wav")
        #expect(probe.streams.first?.codec_name == "pcm_s16le")
        #expect(probe.streams.first?.sample_rate == "24000")
    }

    @Test func pcmIsLittleEndianSigned16() {
        #expect(PCMEncoder().encode([1, -2, 0x1234]) == [0x01, 0x00, 0xFE, 0xFF, 0x34, 0x12])
    }

    @Test func ratesOutsideWhatSoxrTakesAreAnErrorNotATrap() {
        #expect(throws: SpeechError.self) { try Resampler(from: 0, to: 24_000) }
        #expect(throws: SpeechError.self) { try Resampler(from: -16_000, to: 24_000) }
        #expect(throws: SpeechError.self) { try AudioSink(format: .pcm, progress: nil).write(PCMAudio(samples: [1], sampleRate: 0)) }
    }

    @Test func nonFiniteFloatSamplesBecomeSilenceOrFullScale() {
        #expect(Int16(sample: .nan) == 0)
        #expect(Int16(sample: .infinity) == 32_767)
        #expect(Int16(sample: -.infinity) == -32_768)
        #expect(Int16(sample: 2) == 32_767)
        #expect(Int16(sample: 0.5) == 16_384)
    }

    @Test func theSinkJoinsPiecesAtAnyRateIntoOneStreamAndCountsWhatWasSpoken() throws {
        let progress = SpeechProgress()
        let sink = AudioSink(format: .pcm, progress: progress)
        var bytes = try sink.begin()
        bytes += try sink.write(PCMAudio(samples: tone(seconds: 1, rate: 16_000), sampleRate: 16_000))
        sink.spoke(characters: 12)
        bytes += try sink.write(PCMAudio(samples: tone(seconds: 1, rate: 16_000), sampleRate: 16_000))
        sink.spoke(characters: 8)
        bytes += try sink.finish()
        #expect(abs(bytes.count / 2 - 48_000) <= 48)
        #expect(progress.spokenCharacters == 20)
    }
}
