import SpeechCore

/// One Piper voice's VITS model, loaded into our ONNX Runtime (`OnnxRuntime`), run as Piper
/// runs it: each sentence's phonemes become ids (`^`, then each phoneme's id followed by `_`'s,
/// then `$`), and the model takes them with their length, the voice's three scales (noise, length
/// divided by the speed, noise width) and, for a voice of several speakers, the speaker id.
///
/// The session runs on the calling thread alone (one intra-op thread; pieces run side by side on
/// the scheduler's threads, one per core). ONNX Runtime's CPU arena keeps the memory runs needed,
/// so the next run finds it ready (without it a 2,000-character request took 8× the page faults
/// and 9% more CPU); but it keeps the most that runs ever needed together for as long as the
/// session lives (after 100 Piper streams the server stayed at 754 MB against 233 MB idle), so
/// `releaseFreeMemory()` gives it back once the server is idle.
// @unchecked: the session allows concurrent runs and everything else is immutable.
final class PiperModel: @unchecked Sendable {
    let sampleRate: Int
    private let session: OnnxSession
    private let voice: PiperVoice
    private let ids: PhonemeIDs

    /// The ids that frame and separate a sentence's phonemes, and every phoneme's own.
    struct PhonemeIDs: Sendable {
        var pad: Int64
        var begin: Int64
        var end: Int64
        var phonemes: [Unicode.Scalar: Int64]

        init(_ map: [Unicode.Scalar: Int], voice path: String) throws {
            func id(_ symbol: Unicode.Scalar) throws -> Int64 {
                guard let id = map[symbol] else {
                    throw SpeechError.engineFailure("Piper voice \(path) has no id for \"\(symbol)\" in its phoneme_id_map")
                }
                return Int64(id)
            }
            pad = try id("_")
            begin = try id("^")
            end = try id("$")
            phonemes = map.mapValues(Int64.init)
        }

        /// Piper's ids for one sentence; phonemes without an id are left out.
        func sentence(_ phonemes: [Unicode.Scalar]) -> [Int64] {
            var ids: [Int64] = [begin, pad]
            ids.reserveCapacity(2 * phonemes.count + 3)
            for phoneme in phonemes {
                guard let id = self.phonemes[phoneme] else { continue }
                ids.append(id)
                ids.append(pad)
            }
            ids.append(end)
            return ids
        }
    }

    /// Loads the model: seconds of work, so call it off the event loop. Throws when ONNX Runtime
    /// cannot load it or it lacks Piper's inputs.
    init(_ voice: PiperVoice, runtime: OnnxRuntime) throws {
        ids = try PhonemeIDs(voice.phonemeIDs, voice: voice.modelPath)
        session = try runtime.session(modelPath: voice.modelPath, threads: 1)
        let expected = voice.speakerCount > 1 ? 4 : 3
        let inputs = try session.inputCount
        guard inputs == expected else {
            throw SpeechError.engineFailure(
                "Piper model \(voice.modelPath) has \(inputs) inputs; a Piper voice of \(voice.speakerCount) speaker(s) has \(expected)")
        }
        sampleRate = voice.sampleRate
        self.voice = voice
    }

    /// Speaks sentences of phonemes, one model run each, one after the other, in the voice of
    /// `speaker` (0 for a single-speaker model; below the model's speaker count). `speed` > 1 is
    /// faster. Blocks while synthesizing; the samples are scaled so the peak is full scale.
    func generate(sentences: [[Unicode.Scalar]], speaker: Int, speed: Float) throws -> [Int16] {
        var samples: [Float] = []
        for sentence in sentences where !sentence.isEmpty {
            samples.append(contentsOf: try run(ids.sentence(sentence), speaker: speaker, speed: speed))
        }
        return Self.fullScale(samples)
    }

    /// Gives the blocks of ONNX Runtime's arena that no run is using back to malloc: one run of
    /// the shortest input (`^ _ $`, 0.08 s of audio) that ends by shrinking the arena.
    func releaseFreeMemory() throws {
        _ = try run(ids.sentence([]), speaker: 0, speed: 1, releasingArenaMemory: true)
    }

    private func run(_ ids: [Int64], speaker: Int, speed: Float, releasingArenaMemory: Bool = false) throws -> [Float] {
        var inputs: [(name: String, tensor: OnnxTensor)] = [
            ("input", .int64(ids, shape: [1, ids.count])),
            ("input_lengths", .int64([Int64(ids.count)], shape: [1])),
            ("scales", .float([voice.noiseScale, voice.lengthScale / speed, voice.noiseW], shape: [3])),
        ]
        if voice.speakerCount > 1 {
            inputs.append(("sid", .int64([Int64(speaker)], shape: [1])))
        }
        return try session.run(inputs, outputs: ["output"], releasingArenaMemory: releasingArenaMemory)[0].values
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

