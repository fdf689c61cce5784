import CAVCodec
public import SpeechCore

/// AAC-LC through libavcodec's native `aac` encoder, each packet behind a 7-byte ADTS header
/// (ISO/IEC 13818-7 §6.2), so the stream plays from any frame and needs no container.
///
/// An AVCodecContext and its AVFrame/AVPacket are used from one thread at a time, as this
/// class is (one encoder per response); libavcodec needs no global initialisation since 4.0.
public final class AACEncoder: AudioEncoder {
    private let context: UnsafeMutablePointer<AVCodecContext>
    private let frame: UnsafeMutablePointer<AVFrame>
    private let packet: UnsafeMutablePointer<AVPacket>
    /// Samples per AAC frame (1024 for AAC-LC).
    private let frameSamples: Int
    private let header: ADTSHeader
    private var pending: [Int16] = []
    private var nextPTS: Int64 = 0

    public init(sampleRate: Int, bitrate: Int = 64_000) throws(SpeechError) {
        guard let header = ADTSHeader(sampleRate: sampleRate), let rate = Int32(exactly: sampleRate) else {
            throw .engineFailure("AAC cannot encode \(sampleRate) Hz")
        }
        guard let codec = avcodec_find_encoder_by_name("aac") else {
            throw .engineFailure("this libavcodec has no aac encoder")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw .engineFailure("libavcodec could not allocate an encoder")
        }
        context.pointee.sample_rate = rate
        context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP  // the native encoder's only input format
        context.pointee.bit_rate = Int64(bitrate)
        context.pointee.time_base = AVRational(num: 1, den: rate)
        av_channel_layout_default(&context.pointee.ch_layout, 1)
        var status = avcodec_open2(context, codec, nil)
        guard status >= 0, context.pointee.frame_size > 0 else {
            Self.free(context: context)
            throw Self.failure("avcodec_open2", status)
        }
        guard let frame = av_frame_alloc() else {
            Self.free(context: context)
            throw .engineFailure("libavutil could not allocate a frame")
        }
        frame.pointee.nb_samples = context.pointee.frame_size
        frame.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        frame.pointee.sample_rate = rate
        status = av_channel_layout_copy(&frame.pointee.ch_layout, &context.pointee.ch_layout)
        if status >= 0 { status = av_frame_get_buffer(frame, 0) }
        guard status >= 0, let packet = av_packet_alloc() else {
            Self.free(context: context, frame: frame)
            throw status < 0 ? Self.failure("av_frame_get_buffer", status) : .engineFailure("av_packet_alloc failed")
        }
        self.context = context
        self.frame = frame
        self.packet = packet
        self.frameSamples = Int(context.pointee.frame_size)
        self.header = header
    }

    deinit { Self.free(context: context, frame: frame, packet: packet) }

    private static func free(
        context: UnsafeMutablePointer<AVCodecContext>, frame: UnsafeMutablePointer<AVFrame>? = nil,
        packet: UnsafeMutablePointer<AVPacket>? = nil
    ) {
        var (context, frame, packet) = (Optional(context), frame, packet)
        av_packet_free(&packet)
        av_frame_free(&frame)
        avcodec_free_context(&context)
    }

    public func begin() -> [UInt8] { [] }

    public func encode(_ samples: [Int16]) throws(SpeechError) -> [UInt8] {
        pending += samples
        var bytes: [UInt8] = []
        var start = 0
        while pending.count - start >= frameSamples {
            bytes += try send(pending[start..<start + frameSamples])
            start += frameSamples
        }
        pending.removeFirst(start)
        return bytes
    }

    /// Encodes the last, short frame and drains the encoder's delay.
    public func finish() throws(SpeechError) -> [UInt8] {
        var bytes = pending.isEmpty ? [] : try send(pending[...])
        pending = []
        let status = avcodec_send_frame(context, nil)
        guard status >= 0 else { throw Self.failure("avcodec_send_frame", status) }
        bytes += try receive()
        return bytes
    }

    /// One frame of at most `frameSamples` samples in, whatever packets are ready out.
    private func send(_ samples: ArraySlice<Int16>) throws(SpeechError) -> [UInt8] {
        // The encoder may still hold the last frame's buffer: then this allocates a fresh one.
        frame.pointee.nb_samples = Int32(frameSamples)
        var status = av_frame_make_writable(frame)
        guard status >= 0, let plane = frame.pointee.data.0 else {
            throw Self.failure("av_frame_make_writable", status)
        }
        plane.withMemoryRebound(to: Float.self, capacity: frameSamples) { floats in
            for (index, sample) in samples.enumerated() { floats[index] = Float(sample) / 32_768 }
        }
        // A short last frame is allowed: the encoder has AV_CODEC_CAP_SMALL_LAST_FRAME.
        frame.pointee.nb_samples = Int32(samples.count)
        frame.pointee.pts = nextPTS
        nextPTS += Int64(samples.count)
        status = avcodec_send_frame(context, frame)
        guard status >= 0 else { throw Self.failure("avcodec_send_frame", status) }
        return try receive()
    }

    /// Every packet the encoder has ready, each behind its ADTS header.
    private func receive() throws(SpeechError) -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            let status = avcodec_receive_packet(context, packet)
            if status == speechrouter_averror_eagain() || status == speechrouter_averror_eof() { return bytes }
            guard status >= 0 else { throw Self.failure("avcodec_receive_packet", status) }
            defer { av_packet_unref(packet) }
            let size = Int(packet.pointee.size)
            bytes += try header.bytes(payload: size)
            bytes += UnsafeBufferPointer(start: packet.pointee.data, count: size)
        }
    }

    private static func failure(_ call: String, _ status: Int32) -> SpeechError {
        var text = [CChar](repeating: 0, count: 128)
        av_strerror(status, &text, text.count)
        let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .engineFailure("\(call) failed: \(message)")
    }
}

/// The fixed part of an ADTS header for AAC-LC mono at one rate, with no CRC.
struct ADTSHeader {
    /// The sampling frequency index of ISO/IEC 14496-3 Table 1.18.
    let frequencyIndex: UInt8
    static let frequencies = [
        96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350,
    ]
    static let size = 7
    /// The 13-bit frame length counts the header.
    static let maxFrameLength = (1 << 13) - 1

    init?(sampleRate: Int) {
        guard let index = Self.frequencies.firstIndex(of: sampleRate) else { return nil }
        frequencyIndex = UInt8(index)
    }

    func bytes(payload: Int) throws(SpeechError) -> [UInt8] {
        let length = payload + Self.size
        guard payload >= 0, length <= Self.maxFrameLength else {
            throw .engineFailure("an AAC frame of \(payload) bytes does not fit in ADTS")
        }
        let profile: UInt8 = 1  // AAC-LC: audio object type 2, minus one
        let channels: UInt8 = 1
        return [
            0xFF,
            0xF1,  // sync word, MPEG-4, layer 0, no CRC
            profile << 6 | frequencyIndex << 2 | channels >> 2,
            (channels & 3) << 6 | UInt8(truncatingIfNeeded: length >> 11),
            UInt8(truncatingIfNeeded: length >> 3),
            UInt8(truncatingIfNeeded: length & 7) << 5 | 0x1F,
            0xFC,  // buffer fullness 0x7FF (variable rate), one raw data block
        ]
    }
}
