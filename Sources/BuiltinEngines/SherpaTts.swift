import CSherpaOnnx
import SpeechCore

/// One loaded sherpa-onnx offline TTS model (a Piper VITS voice) behind a small Swift surface.
///
/// Thread safety: sherpa-onnx's `Generate` is a `const` member that keeps no state between
/// calls, and the ONNX Runtime session under it may be run from several threads at once
/// (ONNX Runtime documents `Session::Run` as thread-safe), so one handle serves every thread
/// of the engine's pool. Each call gets its own result, freed before the call returns.
// @unchecked: the handle is only read after creation and freed once, in deinit.
final class SherpaTts: @unchecked Sendable {
    private let sherpa: SherpaOnnxLibrary
    private let handle: OpaquePointer
    let sampleRate: Int

    /// Loads the model: seconds of work, so call it off the event loop.
    init(sherpa: SherpaOnnxLibrary, voice: PiperVoice, model: String, tokens: String, onnxThreads: Int) throws {
        var config = SherpaOnnxOfflineTtsConfig()
        let created: OpaquePointer? = model.withCString { model in
            tokens.withCString { tokens in
                "".withCString { empty in
                    "cpu".withCString { provider in
                        config.model.vits.model = model
                        config.model.vits.tokens = tokens
                        config.model.vits.lexicon = empty
                        config.model.vits.data_dir = empty
                        config.model.vits.dict_dir = empty
                        config.model.vits.noise_scale = voice.noiseScale
                        config.model.vits.noise_scale_w = voice.noiseW
                        config.model.vits.length_scale = voice.lengthScale
                        config.model.num_threads = Int32(onnxThreads)
                        config.model.provider = provider
                        config.max_num_sentences = 1
                        config.silence_scale = 1
                        return sherpa.createOfflineTts(&config)
                    }
                }
            }
        }
        guard let created else {
            throw SpeechError.engineFailure("sherpa-onnx could not load the Piper model \(model)")
        }
        let sampleRate = Int(sherpa.offlineTtsSampleRate(created))
        guard sampleRate > 0 else {
            sherpa.destroyOfflineTts(created)
            throw SpeechError.engineFailure("sherpa-onnx reports a sample rate of \(sampleRate) for \(model)")
        }
        self.sherpa = sherpa
        self.handle = created
        self.sampleRate = sampleRate
    }

    deinit {
        sherpa.destroyOfflineTts(handle)
    }

    /// Speaks sentences of phonemes (none empty), one after the other, in the voice of
    /// `speaker` (0 for a single-speaker model; below the model's speaker count). `speed` > 1 is faster:
    /// sherpa-onnx runs the model with a length scale of 1 / speed. Blocks while synthesizing.
    func generate(sentences: [[Unicode.Scalar]], speaker: Int, speed: Float) throws -> [Int16] {
        var codepoints = sentences.flatMap { $0.map { Int32(bitPattern: $0.value) } }
        var lengths = sentences.map { Int32($0.count) }
        var config = SherpaOnnxGenerationConfig()
        config.speed = speed
        config.sid = Int32(clamping: speaker)
        config.silence_scale = 1
        let audio = codepoints.withUnsafeMutableBufferPointer { codepoints in
            lengths.withUnsafeMutableBufferPointer { lengths in
                config.phoneme_codepoints = UnsafePointer(codepoints.baseAddress)
                config.phoneme_codepoints_lens = UnsafePointer(lengths.baseAddress)
                config.phoneme_codepoints_num_sentences = Int32(lengths.count)
                return sherpa.offlineTtsGenerateWithConfig(handle, "", &config, nil, nil)
            }
        }
        guard let audio else { throw SpeechError.engineFailure("sherpa-onnx could not synthesize") }
        defer { sherpa.destroyOfflineTtsGeneratedAudio(audio) }
        let count = Int(audio.pointee.n)
        guard count >= 0, count == 0 || audio.pointee.samples != nil else {
            throw SpeechError.engineFailure("sherpa-onnx returned \(count) samples without a buffer")
        }
        guard count == 0 || Int(audio.pointee.sample_rate) == sampleRate else {
            throw SpeechError.engineFailure(
                "sherpa-onnx returned audio at \(audio.pointee.sample_rate) Hz instead of \(sampleRate) Hz")
        }
        return Self.fullScale(UnsafeBufferPointer(start: audio.pointee.samples, count: count))
    }

    /// Like Piper, scales the audio so its peak is full scale. A sample that is not finite (a
    /// model can produce NaN) becomes silence rather than trapping in the conversion.
    static func fullScale(_ samples: some Collection<Float>) -> [Int16] {
        let peak = samples.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
        guard peak > 1e-8 else { return [Int16](repeating: 0, count: samples.count) }
        let scale = 32_767 / peak
        return samples.map { $0.isFinite ? Int16(($0 * scale).rounded().clamped(to: -32_767...32_767)) : 0 }
    }
}
