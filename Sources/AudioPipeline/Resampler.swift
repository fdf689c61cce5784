import CSoxr
public import SpeechCore

/// Streaming sample-rate conversion with libsoxr. Holds filter state between calls, so pieces
/// of one response join without clicks. One instance per response; not shared across threads
/// (a soxr_t may be used from one thread at a time).
public final class Resampler {
    private let handle: soxr_t
    public let inputRate: Int
    public let outputRate: Int

    public init(from inputRate: Int, to outputRate: Int) throws(SpeechError) {
        guard (1...768_000).contains(inputRate), (1...768_000).contains(outputRate) else {
            throw .engineFailure("cannot resample from \(inputRate) Hz to \(outputRate) Hz")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        var error: soxr_error_t?
        var io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I)
        // No dither: soxr's default adds random noise (seeded per instance) to 16-bit output, so
        // one request would give other samples each time it is made.
        io.flags |= UInt(SOXR_NO_DITHER)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        guard let handle = soxr_create(Double(inputRate), Double(outputRate), 1, &error, &io, &quality, nil),
            error == nil
        else {
            throw .engineFailure("soxr_create failed: \(error.map { String(cString: $0) } ?? "out of memory")")
        }
        self.handle = handle
    }

    deinit { soxr_delete(handle) }

    public func process(_ input: [Int16]) throws(SpeechError) -> [Int16] {
        guard !input.isEmpty else { return [] }
        var output: [Int16] = []
        output.reserveCapacity(input.count / inputRate * outputRate + outputRate / 10)
        try input.withUnsafeBufferPointer { (source) throws(SpeechError) in
            var offset = 0
            repeat {
                var consumed = 0
                let chunk = try drain { out, capacity, written in
                    soxr_process(
                        handle, source.baseAddress! + offset, source.count - offset, &consumed, out, capacity, &written)
                }
                // soxr either takes input or gives output on every call; neither means it is stuck.
                guard consumed > 0 || !chunk.isEmpty else { throw .engineFailure("soxr_process made no progress") }
                offset += consumed
                output.append(contentsOf: chunk)
            } while offset < source.count
        }
        return output
    }

    /// Returns the samples still held in the filter; call once at the end of the stream.
    public func flush() throws(SpeechError) -> [Int16] {
        var output: [Int16] = []
        while true {
            let chunk = try drain { out, capacity, written in
                soxr_process(handle, nil, 0, nil, out, capacity, &written)
            }
            if chunk.isEmpty { return output }
            output.append(contentsOf: chunk)
        }
    }

    private func drain(
        _ body: (UnsafeMutablePointer<Int16>, Int, inout Int) -> soxr_error_t?
    ) throws(SpeechError) -> [Int16] {
        let capacity = 8192
        var error: soxr_error_t?
        let samples = [Int16](unsafeUninitializedCapacity: capacity) { buffer, count in
            var written = 0
            error = body(buffer.baseAddress!, capacity, &written)
            count = min(max(written, 0), capacity)
        }
        if let error { throw .engineFailure("soxr_process failed: \(String(cString: error))") }
        return samples
    }
}
