import CFLAC
public import SpeechCore

/// FLAC through libFLAC's stream encoder, 16-bit mono, written front to back through a write
/// callback. There is no seek callback, so STREAMINFO keeps the values it had when it left:
/// total samples, frame sizes and MD5 "unknown", which decoders accept for a stream (the MD5 is
/// computed all the same: libFLAC's public API has no switch for it).
///
/// A FLAC__StreamEncoder has no global state and is used from one thread at a time, as this
/// class is (one encoder per response). Its write callback runs inside the libFLAC call that
/// produced the bytes, on the same thread, and appends them to `output`.
public final class FLACEncoder: AudioEncoder {
    private let flac: UnsafeMutablePointer<FLAC__StreamEncoder>
    /// Where the write callback puts the bytes, until the call that made them returns them.
    private let output = Output()

    private final class Output {
        var bytes: [UInt8] = []

        func take() -> [UInt8] {
            defer { bytes = [] }
            return bytes
        }
    }

    public init(sampleRate: Int, compressionLevel: Int = 5) throws(SpeechError) {
        guard let rate = UInt32(exactly: sampleRate), (1...655_350).contains(sampleRate) else {
            throw .engineFailure("FLAC cannot encode \(sampleRate) Hz")
        }
        guard let flac = FLAC__stream_encoder_new() else {
            throw .engineFailure("libFLAC could not allocate an encoder")
        }
        let configured =
            FLAC__stream_encoder_set_channels(flac, 1) != 0
            && FLAC__stream_encoder_set_bits_per_sample(flac, 16) != 0
            && FLAC__stream_encoder_set_sample_rate(flac, rate) != 0
            && FLAC__stream_encoder_set_compression_level(flac, UInt32(clamping: compressionLevel)) != 0
            && FLAC__stream_encoder_set_streamable_subset(flac, 1) != 0
        guard configured else {
            FLAC__stream_encoder_delete(flac)
            throw .engineFailure("libFLAC rejected 16-bit mono at \(sampleRate) Hz")
        }
        let status = FLAC__stream_encoder_init_stream(
            flac,
            { _, buffer, count, _, _, client in
                guard let buffer, let client else { return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR }
                Unmanaged<Output>.fromOpaque(client).takeUnretainedValue().bytes +=
                    UnsafeBufferPointer(start: buffer, count: count)
                return FLAC__STREAM_ENCODER_WRITE_STATUS_OK
            }, nil, nil, nil, Unmanaged.passUnretained(output).toOpaque())
        guard status == FLAC__STREAM_ENCODER_INIT_STATUS_OK else {
            FLAC__stream_encoder_delete(flac)
            throw .engineFailure("FLAC__stream_encoder_init_stream failed (\(status.rawValue))")
        }
        self.flac = flac
    }

    // Deleting an unfinished encoder finishes it first, writing into `output`, which lives as
    // long as this object does.
    deinit { FLAC__stream_encoder_delete(flac) }

    /// The `fLaC` marker and STREAMINFO, written when the encoder was made.
    public func begin() -> [UInt8] { output.take() }

    public func encode(_ samples: [Int16]) throws(SpeechError) -> [UInt8] {
        guard !samples.isEmpty else { return output.take() }
        guard let count = UInt32(exactly: samples.count) else {
            throw .engineFailure("libFLAC takes at most \(UInt32.max) samples at once, not \(samples.count)")
        }
        let wide = samples.map { FLAC__int32($0) }
        guard FLAC__stream_encoder_process_interleaved(flac, wide, count) != 0 else { throw failure("process") }
        return output.take()
    }

    public func finish() throws(SpeechError) -> [UInt8] {
        guard FLAC__stream_encoder_finish(flac) != 0 else { throw failure("finish") }
        return output.take()
    }

    private func failure(_ call: String) -> SpeechError {
        .engineFailure(
            "FLAC__stream_encoder_\(call) failed: \(String(cString: FLAC__stream_encoder_get_resolved_state_string(flac)))"
        )
    }
}
