import CLame
public import SpeechCore

/// MPEG Layer III through LAME, constant bit rate and no Xing/VBR tag, so the stream can be
/// written front to back without seeking. A lame_t is used from one thread at a time.
public final class Mp3Encoder: AudioEncoder {
    private let lame: OpaquePointer

    public init(sampleRate: Int, bitrate: Int = 64) throws(SpeechError) {
        guard let lame = lame_init() else { throw .engineFailure("LAME could not allocate an encoder") }
        lame_set_in_samplerate(lame, Int32(clamping: sampleRate))
        lame_set_out_samplerate(lame, Int32(clamping: sampleRate))
        lame_set_num_channels(lame, 1)
        lame_set_mode(lame, MONO)
        lame_set_brate(lame, Int32(clamping: bitrate))
        // q=5 is LAME's "good speed/quality"; the default of 3 costs ~2× the time for no audible
        // difference on synthetic speech at 64 kbps.
        lame_set_quality(lame, 5)
        lame_set_bWriteVbrTag(lame, 0)
        let status = lame_init_params(lame)
        guard status >= 0 else {
            lame_close(lame)
            throw .engineFailure("LAME rejected \(sampleRate) Hz at \(bitrate) kbps (\(status))")
        }
        self.lame = lame
    }

    deinit { lame_close(lame) }

    public func begin() -> [UInt8] { [] }

    public func encode(_ samples: [Int16]) throws(SpeechError) -> [UInt8] {
        guard !samples.isEmpty else { return [] }
        guard let count = Int32(exactly: samples.count) else {
            throw .engineFailure("LAME takes at most \(Int32.max) samples at once, not \(samples.count)")
        }
        // LAME's documented worst case: 1.25 × samples + 7200 bytes.
        let capacity = samples.count / 4 * 5 + 7205
        var status: Int32 = 0
        let bytes = samples.withUnsafeBufferPointer { pcm in
            [UInt8](unsafeUninitializedCapacity: capacity) { out, written in
                status = lame_encode_buffer(
                    lame, pcm.baseAddress, pcm.baseAddress, count, out.baseAddress, Int32(clamping: capacity))
                written = max(Int(status), 0)
            }
        }
        guard status >= 0 else { throw Self.failure("lame_encode_buffer", status) }
        return bytes
    }

    public func finish() throws(SpeechError) -> [UInt8] {
        var status: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: 7200) { out, written in
            status = lame_encode_flush(lame, out.baseAddress, 7200)
            written = max(Int(status), 0)
        }
        guard status >= 0 else { throw Self.failure("lame_encode_flush", status) }
        return bytes
    }

    /// LAME's negative returns: -1 output buffer too small, -2 out of memory, -3 not
    /// initialized, -4 psychoacoustic model failure.
    private static func failure(_ call: String, _ status: Int32) -> SpeechError {
        .engineFailure("\(call) failed (\(status))")
    }
}
