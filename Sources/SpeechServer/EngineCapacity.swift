/// How many streams a built-in engine can keep in real time: its measured speed (seconds of
/// audio one of its threads makes per second of synthesis), times its threads, with headroom;
/// never more than an explicit cap. A pure value: `StreamAdmission` feeds it and asks it.
struct EngineCapacity: Sendable, Equatable {
    /// Threads in the engine's pool: pieces it synthesizes at the same time.
    let threads: Int
    /// Seconds of audio per second of one thread's work, an exponentially weighted average of
    /// the pieces synthesized so far, starting from a conservative default.
    private(set) var speed: Double
    /// Whether the measured speed limits admission (else only `cap` does).
    let measured: Bool
    /// The configured most streams at once (`max_concurrent_streams`), if any.
    let cap: Int?

    /// The weight of each new piece in the average.
    static let smoothing = 0.1
    /// The share of the engine's speed admitted streams may count on: the rest absorbs the
    /// encoding, the pauses between pieces, and a slower piece.
    static let headroom = 0.75
    /// Samples above this speed (a piece of silence, a clock that barely moved) are clipped.
    static let fastestSpeed = 1_000.0

    init(threads: Int, defaultSpeed: Double, measured: Bool, cap: Int?) {
        self.threads = max(threads, 1)
        self.speed = min(max(defaultSpeed, 0), Self.fastestSpeed)
        self.measured = measured
        self.cap = cap
    }

    /// The conservative starting speed of an engine by model: about half of what a release
    /// build measured on a 2-core machine (Piper about 10 s of audio per thread-second, Flite
    /// over 40, eSpeak NG more), so a slower machine is not overloaded before it has measured.
    static func defaultSpeed(model: String) -> Double {
        switch model {
        case "local/flite": 20
        case "local/espeak-ng": 30
        case "local/piper": 5
        case "local/hibari": 20
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
