public import SpeechCore

/// Turns 24 kHz mono samples into the bytes of one response format, a piece at a time.
/// One encoder per response, so the stream is one continuous file however it was cut.
public protocol AudioEncoder: AnyObject {
    /// Bytes that open the stream (a WAV header, Ogg Opus's header pages), before any audio.
    func begin() throws(SpeechError) -> [UInt8]
    func encode(_ samples: [Int16]) throws(SpeechError) -> [UInt8]
    /// Bytes still buffered inside the encoder; call once at the end.
    func finish() throws(SpeechError) -> [UInt8]
}

extension AudioFormat {
    public func makeEncoder(sampleRate: Int = AudioFormat.outputSampleRate) throws(SpeechError) -> any AudioEncoder {
        switch self {
        case .mp3: try Mp3Encoder(sampleRate: sampleRate)
        case .opus: try OggOpusEncoder(sampleRate: sampleRate)
        case .aac: try AACEncoder(sampleRate: sampleRate)
        case .flac: try FLACEncoder(sampleRate: sampleRate)
        case .pcm: PCMEncoder()
        case .wav: WAVEncoder(sampleRate: sampleRate)
        }
    }
}

/// Headerless signed 16-bit little-endian samples.
public final class PCMEncoder: AudioEncoder {
    public init() {}
    public func begin() -> [UInt8] { [] }
    public func encode(_ samples: [Int16]) -> [UInt8] { littleEndianBytes(samples) }
    public func finish() -> [UInt8] { [] }
}

/// RIFF/WAVE with the streaming header OpenAI sends: the sizes are 0xFFFFFFFF because the
/// length is not known when the header leaves.
public final class WAVEncoder: AudioEncoder {
    let sampleRate: UInt32

    public init(sampleRate: Int) { self.sampleRate = UInt32(clamping: sampleRate) }

    public func begin() -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(44)
        func append(_ text: String) { header.append(contentsOf: Array(text.utf8)) }
        func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        func append16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        append("RIFF")
        append32(0xFFFF_FFFF)
        append("WAVE")
        append("fmt ")
        append32(16)
        append16(1)
        append16(1)
        append32(sampleRate)
        append32(sampleRate &* 2)
        append16(2)
        append16(16)
        append("data")
        append32(0xFFFF_FFFF)
        return header
    }

    public func encode(_ samples: [Int16]) -> [UInt8] { littleEndianBytes(samples) }
    public func finish() -> [UInt8] { [] }
}

func littleEndianBytes(_ samples: [Int16]) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: samples.count * 2) { bytes, count in
        for (index, sample) in samples.enumerated() {
            let value = UInt16(bitPattern: sample)
            bytes[2 * index] = UInt8(truncatingIfNeeded: value)
            bytes[2 * index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }
        count = samples.count * 2
    }
}
