import SpeechCore

/// A built-in engine whose pieces feed its measured speed to `StreamAdmission`: each piece's audio
/// against the processor time its synthesis took (`SynthesisCPUTime`).
struct MeasuredEngine: SpeechEngine {
    let engine: any SpeechEngine
    let admission: StreamAdmission

    var model: SpeechModel { engine.model }
    var parallelism: Int { engine.parallelism }
    var pieceSizes: PieceSizes { engine.pieceSizes }
    var queuedPieces: Int { engine.queuedPieces }

    func snapshot() -> any SpeechEngine {
        MeasuredEngine(engine: engine.snapshot(), admission: admission)
    }

    func releaseIdleMemory() async { await engine.releaseIdleMemory() }

    func synthesize(_ text: String, voice: String, speed: Double) async throws -> PCMAudio {
        let id = engine.model.id
        let inFlight = admission.pieceStarts(model: id)
        let clock = ContinuousClock()
        let start = clock.now
        let processorTime = SynthesisCPUTime()
        var audioSeconds = 0.0
        defer {
            let elapsed = start.duration(to: clock.now).components
            admission.pieceEnded(
                model: id, inFlight: inFlight, audioSeconds: audioSeconds,
                wallSeconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18,
                processorSeconds: processorTime.seconds)
        }
        let audio = try await SynthesisCPUTime.$tally.withValue(processorTime) {
            try await engine.synthesize(text, voice: voice, speed: speed)
        }
        if audio.sampleRate > 0 { audioSeconds = Double(audio.samples.count) / Double(audio.sampleRate) }
        return audio
    }
}
