#if PIPER
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
        private let handle: OpaquePointer
        let sampleRate: Int

        /// Loads the model: seconds of work, so call it off the event loop.
        init(voice: PiperVoice, model: String, tokens: String, onnxThreads: Int) throws {
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
                            return SherpaOnnxCreateOfflineTts(&config)
                        }
                    }
                }
            }
            guard let created else {
                throw SpeechError.engineFailure("sherpa-onnx could not load the Piper model \(model)")
            }
            self.handle = created
            self.sampleRate = Int(SherpaOnnxOfflineTtsSampleRate(created))
        }

        deinit {
            SherpaOnnxDestroyOfflineTts(handle)
        }

        /// Speaks sentences of phonemes (none empty), one after the other. `speed` > 1 is faster:
        /// sherpa-onnx runs the model with a length scale of 1 / speed. Blocks while synthesizing.
        /// Like Piper, scales the audio so its peak is full scale.
        func generate(sentences: [[Unicode.Scalar]], speed: Float) throws -> [Int16] {
            var codepoints = sentences.flatMap { $0.map { Int32(bitPattern: $0.value) } }
            var lengths = sentences.map { Int32($0.count) }
            var config = SherpaOnnxGenerationConfig()
            config.speed = speed
            config.silence_scale = 1
            let audio = codepoints.withUnsafeMutableBufferPointer { codepoints in
                lengths.withUnsafeMutableBufferPointer { lengths in
                    config.phoneme_codepoints = UnsafePointer(codepoints.baseAddress)
                    config.phoneme_codepoints_lens = UnsafePointer(lengths.baseAddress)
                    config.phoneme_codepoints_num_sentences = Int32(lengths.count)
                    return SherpaOnnxOfflineTtsGenerateWithConfig(handle, "", &config, nil, nil)
                }
            }
            guard let audio else { throw SpeechError.engineFailure("sherpa-onnx could not synthesize") }
            defer { SherpaOnnxDestroyOfflineTtsGeneratedAudio(audio) }
            let samples = UnsafeBufferPointer(start: audio.pointee.samples, count: Int(max(audio.pointee.n, 0)))
            let peak = samples.reduce(Float(0)) { max($0, abs($1)) }
            guard peak > 1e-8 else { return [Int16](repeating: 0, count: samples.count) }
            let scale = 32_767 / peak
            return samples.map { Int16(($0 * scale).rounded().clamped(to: -32_767...32_767)) }
        }
    }
#endif
