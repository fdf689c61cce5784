public import SpeechCore

/// Where every source's audio goes on its way to the client: resampled to 24 kHz, encoded into
/// the response's format by one encoder (so pieces join into one continuous stream), with the
/// characters spoken counted for billing. Built-in engines and upstream providers both write
/// here. One sink per response, advanced by one task at a time (it owns C state).
///
/// The encoder is made on first use: upstream audio that passes through untouched never needs
/// one (making a LAME encoder costs more than the rest of such a request).
public final class AudioSink {
    private let format: AudioFormat
    private var madeEncoder: (any AudioEncoder)?
    private var resampler: Resampler?
    private let progress: SpeechProgress?
    /// Samples at the output rate given to the encoder so far.
    private var samplesEncoded = 0

    public init(format: AudioFormat, progress: SpeechProgress?) {
        self.format = format
        self.progress = progress
    }

    private var encoder: any AudioEncoder {
        get throws(SpeechError) {
            if let madeEncoder { return madeEncoder }
            let encoder = try format.makeEncoder()
            madeEncoder = encoder
            return encoder
        }
    }

    /// Bytes that open the stream (a WAV header, Ogg Opus's header pages), before any audio.
    public func begin() throws(SpeechError) -> [UInt8] { try encoder.begin() }

    /// Samples at any rate, resampled and encoded.
    public func write(_ audio: PCMAudio) throws(SpeechError) -> [UInt8] {
        guard !audio.samples.isEmpty else { return [] }
        if audio.sampleRate == AudioFormat.outputSampleRate { return try encode(audio.samples) }
        if resampler?.inputRate != audio.sampleRate {
            // A change of rate mid-stream (it does not happen with one source) starts a new filter.
            let tail = try resampler?.flush() ?? []
            resampler = try Resampler(from: audio.sampleRate, to: AudioFormat.outputSampleRate)
            return try encode(tail + resampler!.process(audio.samples))
        }
        return try encode(resampler!.process(audio.samples))
    }

    /// Output-rate samples encoded, counted so word timings wait for their audio.
    private func encode(_ samples: [Int16]) throws(SpeechError) -> [UInt8] {
        samplesEncoded += samples.count
        progress?.noteAudio(written: Double(samplesEncoded) / Double(AudioFormat.outputSampleRate))
        return try encoder.encode(samples)
    }

    /// Counts `characters` of the input as spoken: their audio has been written.
    public func spoke(characters: Int) {
        progress?.add(characters)
    }

    /// What the resampler and the encoder still hold; call once, at the end of the stream.
    public func finish() throws(SpeechError) -> [UInt8] {
        let encoder = try self.encoder
        return try encode(resampler?.flush() ?? []) + encoder.finish()
    }
}

extension PCMAudio {
    /// Below this a sample counts as silence (about -36 dBFS).
    static let silenceThreshold: Int16 = 500

    /// How many samples `duration` of this audio holds.
    func sampleCount(for duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int((Double(seconds) + Double(attoseconds) * 1e-18) * Double(sampleRate))
    }

    /// This audio with the silence at its start (`leading`) and its end (`trailing`) cut down to
    /// at most `kept` each; the words' times move with the start. Audio that is all silence is
    /// left as it is.
    func trimmingSilence(leading: Bool, trailing: Bool, keeping kept: Duration) -> PCMAudio {
        guard leading || trailing,
            let first = samples.firstIndex(where: { abs(Int32($0)) >= Int32(Self.silenceThreshold) }),
            let last = samples.lastIndex(where: { abs(Int32($0)) >= Int32(Self.silenceThreshold) })
        else { return self }
        let keep = sampleCount(for: kept)
        let start = leading ? max(first - keep, 0) : 0
        let end = trailing ? min(last + 1 + keep, samples.count) : samples.count
        guard start > 0 || end < samples.count else { return self }
        var trimmed = self
        trimmed.samples = Array(samples[start..<end])
        let shift = Double(start) / Double(max(sampleRate, 1))
        trimmed.words = words?.map { $0.shifted(by: -shift, characters: 0) }
        return trimmed
    }

    /// The silence to append so that this audio ends with at least `pause` of it: nothing when
    /// its own trailing silence is long enough.
    func silencePadding(toLast pause: Duration) -> PCMAudio {
        let trailing = samples.reversed().prefix { abs(Int32($0)) < Int32(Self.silenceThreshold) }.count
        let wanted = sampleCount(for: pause)
        return PCMAudio(samples: [Int16](repeating: 0, count: max(wanted - trailing, 0)), sampleRate: sampleRate)
    }
}
