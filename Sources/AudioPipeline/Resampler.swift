import CSoxr

/// Streaming sample-rate conversion with libsoxr. Holds filter state between calls, so pieces
/// of one response join without clicks. One instance per response; not shared across threads
/// (a soxr_t may be used from one thread at a time).
public final class Resampler {
    private let handle: soxr_t
    public let inputRate: Int
    public let outputRate: Int

    public init(from inputRate: Int, to outputRate: Int) {
        self.inputRate = inputRate
        self.outputRate = outputRate
        var error: soxr_error_t?
        var io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        guard let handle = soxr_create(Double(inputRate), Double(outputRate), 1, &error, &io, &quality, nil)
        else {
            // Only invalid rates or out-of-memory fail here; rates come from our own engines.
            fatalError("soxr_create failed: \(error.map { String(cString: $0) } ?? "unknown")")
        }
        self.handle = handle
    }

    deinit { soxr_delete(handle) }

    public func process(_ input: [Int16]) -> [Int16] {
        guard !input.isEmpty else { return [] }
        var output: [Int16] = []
        output.reserveCapacity(input.count * outputRate / inputRate + 64)
        input.withUnsafeBufferPointer { source in
            var offset = 0
            repeat {
                let chunk = drain { out, capacity, written in
                    var consumed = 0
                    soxr_process(
                        handle, source.baseAddress! + offset, source.count - offset, &consumed,
                        out, capacity, &written)
                    offset += consumed
                }
                output.append(contentsOf: chunk)
            } while offset < source.count
        }
        return output
    }

    /// Returns the samples still held in the filter; call once at the end of the stream.
    public func flush() -> [Int16] {
        var output: [Int16] = []
        while true {
            let chunk = drain { out, capacity, written in
                soxr_process(handle, nil, 0, nil, out, capacity, &written)
            }
            if chunk.isEmpty { return output }
            output.append(contentsOf: chunk)
        }
    }

    private func drain(_ body: (UnsafeMutablePointer<Int16>, Int, inout Int) -> Void) -> [Int16] {
        let capacity = 8192
        return [Int16](unsafeUninitializedCapacity: capacity) { buffer, count in
            var written = 0
            body(buffer.baseAddress!, capacity, &written)
            count = written
        }
    }
}
