import SpeechCore

/// An engine whose model loads and runs on the built-in engines' shared `SynthesisScheduler`
/// (Piper, hibari).
protocol ScheduledEngine: SpeechEngine {}

extension ScheduledEngine {
    /// Runs `load` (the model's C loading) on `scheduler`, has `make` build the engine from what
    /// it loaded, and speaks one word in `voice` so the first request does not pay ONNX
    /// Runtime's first-run cost.
    static func start<Loaded: Sendable>(
        on scheduler: SynthesisScheduler, warmUpVoice voice: String,
        loading load: @escaping @Sendable () throws -> Loaded, then make: (Loaded) -> Self
    ) async throws -> Self {
        let engine = make(try await scheduler.run(load))
        _ = try await engine.synthesize("Hi.", voice: voice, speed: 1)
        return engine
    }
}
