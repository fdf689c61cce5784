import COgg
import COpus
public import SpeechCore

/// Opus in an Ogg container as RFC 7845 lays it out: an `OpusHead` page, an `OpusTags` page,
/// then 20 ms packets whose granule positions count 48 kHz samples, pre-skip included. Pages are
/// flushed after every call, so audio leaves as soon as it is encoded. The last packet carries
/// the end-of-stream flag and a granule position that trims the padding of the final frame.
///
/// An OpusEncoder and an ogg_stream_state are plain memory without global state: each is used
/// from one thread at a time, as this class is (one encoder per response).
public final class OggOpusEncoder: AudioEncoder {
    private let opus: OpaquePointer
    private let ogg: UnsafeMutablePointer<ogg_stream_state>
    private let sampleRate: Int
    /// Input samples per packet: 20 ms, Opus's usual frame.
    private let frameSamples: Int
    /// 48 kHz samples per input sample (Opus granule positions are always at 48 kHz).
    private let granuleScale: Int64
    /// The encoder's delay at 48 kHz, which decoders drop from the start.
    private let preSkip: Int
    private var pending: [Int16] = []
    private var samplesIn: Int64 = 0
    /// Packets in the stream so far, the two headers included.
    private var packets: Int64 = 0
    private var audioPackets: Int64 = 0

    /// Opus's input rates; 24 kHz is the gateway's.
    static let sampleRates: Set<Int> = [8_000, 12_000, 16_000, 24_000, 48_000]

    public init(sampleRate: Int, bitrate: Int = 32_000) throws(SpeechError) {
        guard Self.sampleRates.contains(sampleRate), let rate = Int32(exactly: sampleRate) else {
            throw .engineFailure("Opus cannot encode \(sampleRate) Hz")
        }
        var status: Int32 = 0
        guard let opus = opus_encoder_create(rate, 1, OPUS_APPLICATION_AUDIO, &status), status == OPUS_OK else {
            throw Self.failure("opus_encoder_create", status)
        }
        var lookahead: opus_int32 = 0
        status = speechrouter_opus_set_bitrate(opus, Int32(clamping: bitrate))
        if status == OPUS_OK { status = speechrouter_opus_get_lookahead(opus, &lookahead) }
        guard status == OPUS_OK else {
            opus_encoder_destroy(opus)
            throw Self.failure("opus_encoder_ctl", status)
        }
        let ogg = UnsafeMutablePointer<ogg_stream_state>.allocate(capacity: 1)
        guard ogg_stream_init(ogg, Int32.random(in: 1...Int32.max)) == 0 else {
            ogg.deallocate()
            opus_encoder_destroy(opus)
            throw .engineFailure("ogg_stream_init failed")
        }
        self.opus = opus
        self.ogg = ogg
        self.sampleRate = sampleRate
        self.frameSamples = sampleRate / 50
        self.granuleScale = Int64(48_000 / sampleRate)
        self.preSkip = Int(lookahead) * (48_000 / sampleRate)
    }

    deinit {
        ogg_stream_clear(ogg)
        ogg.deallocate()
        opus_encoder_destroy(opus)
    }

    /// The two header pages: identification (`OpusHead`) and comments (`OpusTags`).
    public func begin() throws(SpeechError) -> [UInt8] {
        var head = Array("OpusHead".utf8)
        head.append(1)  // version
        head.append(1)  // channels
        head += littleEndian(UInt16(clamping: preSkip))
        head += littleEndian(UInt32(clamping: sampleRate))
        head += littleEndian(UInt16(0))  // output gain
        head.append(0)  // channel mapping family: mono/stereo, no table
        let vendor = Array("SpeechRouter".utf8)
        let tags = Array("OpusTags".utf8) + littleEndian(UInt32(vendor.count)) + vendor + littleEndian(UInt32(0))
        // Each header is alone on its page; the audio starts on a page of its own.
        try submit(head, granule: 0, first: true)
        var bytes = try pages()
        try submit(tags, granule: 0)
        bytes += try pages()
        return bytes
    }

    public func encode(_ samples: [Int16]) throws(SpeechError) -> [UInt8] {
        pending += samples
        samplesIn += Int64(samples.count)
        var start = 0
        while pending.count - start >= frameSamples {
            try encodeFrame(pending[start..<start + frameSamples], last: false)
            start += frameSamples
        }
        pending.removeFirst(start)
        return try pages()
    }

    /// Encodes what is left plus enough silence to push the encoder's delay out, and ends the stream.
    public func finish() throws(SpeechError) -> [UInt8] {
        let lookahead = preSkip / Int(granuleScale)
        pending += [Int16](repeating: 0, count: lookahead)
        let frames = max((pending.count + frameSamples - 1) / frameSamples, 1)
        pending += [Int16](repeating: 0, count: frames * frameSamples - pending.count)
        for frame in 0..<frames {
            try encodeFrame(pending[frame * frameSamples..<(frame + 1) * frameSamples], last: frame == frames - 1)
        }
        pending = []
        return try pages()
    }

    private func encodeFrame(_ frame: ArraySlice<Int16>, last: Bool) throws(SpeechError) {
        // 1275 bytes is the largest Opus frame (RFC 6716 §3.2.1); a little slack on top.
        let capacity = 1_500
        var status: Int32 = 0
        let packet = frame.withUnsafeBufferPointer { pcm in
            [UInt8](unsafeUninitializedCapacity: capacity) { out, written in
                guard let input = pcm.baseAddress, let output = out.baseAddress else { return }
                status = opus_encode(opus, input, Int32(frameSamples), output, Int32(capacity))
                written = max(Int(status), 0)
            }
        }
        guard status > 0 else { throw Self.failure("opus_encode", status) }
        audioPackets += 1
        // Granule positions count the pre-skip; the last one stops where the input did (end trimming).
        let granule =
            last ? Int64(preSkip) + samplesIn * granuleScale : audioPackets * Int64(frameSamples) * granuleScale
        try submit(packet, granule: granule, last: last)
    }

    private func submit(_ data: [UInt8], granule: Int64, first: Bool = false, last: Bool = false) throws(SpeechError) {
        var bytes = data
        let status = bytes.withUnsafeMutableBufferPointer { buffer in
            var packet = ogg_packet(
                packet: buffer.baseAddress, bytes: buffer.count, b_o_s: first ? 1 : 0, e_o_s: last ? 1 : 0,
                granulepos: granule, packetno: packets)
            return ogg_stream_packetin(ogg, &packet)
        }
        guard status == 0 else { throw .engineFailure("ogg_stream_packetin failed") }
        packets += 1
    }

    /// Every page libogg holds, flushed.
    private func pages() throws(SpeechError) -> [UInt8] {
        var bytes: [UInt8] = []
        var page = ogg_page()
        while ogg_stream_flush(ogg, &page) != 0 {
            bytes += UnsafeBufferPointer(start: page.header, count: page.header_len)
            bytes += UnsafeBufferPointer(start: page.body, count: page.body_len)
        }
        guard ogg_stream_check(ogg) == 0 else { throw .engineFailure("libogg's stream state is in error") }
        return bytes
    }

    private static func failure(_ call: String, _ status: Int32) -> SpeechError {
        .engineFailure("\(call) failed: \(String(cString: opus_strerror(status)))")
    }
}

func littleEndian<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
