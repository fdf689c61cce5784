import CLame

/// MPEG Layer III through LAME, constant bit rate and no Xing/VBR tag, so the stream can be
/// written front to back without seeking. A lame_t is used from one thread at a time.
public final class Mp3Encoder: AudioEncoder {
    private let lame: OpaquePointer

    public init(sampleRate: Int, bitrate: Int = 64) {
        guard let lame = lame_init() else { fatalError("lame_init: out of memory") }
        lame_set_in_samplerate(lame, Int32(sampleRate))
        lame_set_out_samplerate(lame, Int32(sampleRate))
        lame_set_num_channels(lame, 1)
        lame_set_mode(lame, MONO)
        lame_set_brate(lame, Int32(bitrate))
        // q=5 is LAME's "good speed/quality"; the default of 3 costs ~2× the time for no audible
        // difference on synthetic speech at 64 kbps.
        lame_set_quality(lame, 5)
        lame_set_bWriteVbrTag(lame, 0)
        precondition(lame_init_params(lame) >= 0, "lame_init_params rejected a fixed configuration")
        self.lame = lame
    }

    deinit { lame_close(lame) }

    public func begin() -> [UInt8] { [] }

    public func encode(_ samples: [Int16]) -> [UInt8] {
        guard !samples.isEmpty else { return [] }
        // LAME's documented worst case: 1.25 × samples + 7200 bytes.
        let capacity = samples.count * 5 / 4 + 7200
        return samples.withUnsafeBufferPointer { pcm in
            [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
                let written = lame_encode_buffer(
                    lame, pcm.baseAddress, pcm.baseAddress, Int32(pcm.count), out.baseAddress, Int32(capacity))
                count = max(Int(written), 0)
            }
        }
    }

    public func finish() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 7200) { out, count in
            count = max(Int(lame_encode_flush(lame, out.baseAddress, 7200)), 0)
        }
    }
}
