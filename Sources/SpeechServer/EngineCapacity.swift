/// How many streams a built-in engine can keep in real time: its measured speed (seconds of
/// audio per second of processor time its synthesis takes), times its threads, with headroom;
/// never more than an explicit cap. A pure value: `StreamAdmission` feeds it and asks it.
struct EngineCapacity: Sendable, Equatable {
    /// Threads in the engine's pool: pieces it synthesizes at the same time.
    let threads: Int
    /// Seconds of audio per second of processor time (one thread's work), an exponentially
    /// weighted average of the pieces synthesized so far, starting from a conservative default.
    private(set) var speed: Double
    /// Whether the measured speed limits admission (else only `cap` does).
    let measured: Bool
    /// The configured most streams at once (`max_concurrent_streams`), if any.
    let cap: Int?

    /// The weight of each new piece in the average.
    static let smoothing = 0.1
    /// The share of the engine's speed admitted streams may count on. The rest absorbs what the
    /// synthesis' own processor time leaves out (resampling, encoding, the HTTP work, clients on
    /// the same machine) and, above all, a burst: streams that start together all want their
    /// first piece at once, and the first of them must have its second piece before the last has
    /// its first. Measured (release, 2 cores, `bench_capacity.py`, 1,000-character streams all
    /// started at once): the most streams without a stall were 0.41-0.51 of speed × threads for
    /// Flite (64 and 80 of a speed near 78), 0.36-0.48 for hibari (75 and 100 of ~105) and
    /// 0.44-0.67 for Piper (8 and 12 of ~9); and under load the speed measured drops (Flite's
    /// from 78 to 66-82, hibari's from 105 to 83-89): with 0.4, one of 66 Flite streams admitted
    /// in a burst of 100 stalled.
    static let headroom = 0.35
    /// Samples above this speed (a piece of silence, a clock that barely moved) are clipped.
    static let fastestSpeed = 1_000.0

    init(threads: Int, defaultSpeed: Double, measured: Bool, cap: Int?) {
        self.threads = max(threads, 1)
        self.speed = min(max(defaultSpeed, 0), Self.fastestSpeed)
        self.measured = measured
        self.cap = cap
    }

    /// The conservative starting speed of an engine by model: about half of what a release
    /// build measured on a 2-core machine (seconds of audio per second of processor time: Piper
    /// about 9, Flite 78, hibari 105, eSpeak NG 750), so a slower machine is not overloaded
    /// before it has measured.
    static func defaultSpeed(model: String) -> Double {
        switch model {
        case "local/flite": 40
        case "local/espeak-ng": 200
        case "local/piper": 5
        case "local/hibari": 50
        default: 1
        }
    }

    /// The most streams admitted at once: at least one, so a slow engine still serves.
    var streams: Int {
        let byMeasure = measured ? Int(max((speed * Double(threads) * Self.headroom).rounded(.down), 1)) : Int.max
        return min(byMeasure, cap ?? Int.max)
    }

    /// Folds in one piece: `audioSeconds` of audio made in `workSeconds` of one thread's time.
    mutating func record(audioSeconds: Double, workSeconds: Double) {
        guard audioSeconds.isFinite, workSeconds.isFinite, audioSeconds > 0, workSeconds > 0 else { return }
        let sample = min(audioSeconds / workSeconds, Self.fastestSpeed)
        speed += Self.smoothing * (sample - speed)
    }
}
