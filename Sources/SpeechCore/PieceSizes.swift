/// How long the pieces of one stream are: a short first piece, so the first audio comes soon,
/// then each one `growthPercent` percent of the one before, up to the splitter's limit, so
/// later pieces, made while the listener has audio in hand, cost fewer calls.
///
/// The growth is what a burst of new streams pays for: every stream must have its next piece
/// made before the piece it is playing runs out, so while the pieces grow the work due runs
/// ahead of real time by about the growth factor. Twofold growth needs about three times a
/// stream's real-time CPU at its start; slower growth, less.
///
/// When N streams start at once on T threads, every first piece (a piece costing `k` of CPU
/// plus `r` per second of its audio `a`) runs before any second piece (unless the scheduler
/// pairs them, `SynthesisScheduler.pairingThreshold`), and the last stream to
/// start has its first piece's audio, `a`, to wait for N second pieces: it plays on without a
/// stall only if N·(k + r·g·a) ≤ T·a, where g is the second piece's size over the first. With
/// hibari's costs (k 8 ms, r 0.0125; first piece ~1.4 s) and 100 streams on 2 threads, g = 1.25
/// misses by ~0.1 s and g = 1 holds with ~0.14 s to spare; with Piper's (k 20-28 ms, r 0.092;
/// first piece ~2.3 s) and 16 streams, g = 2 misses by ~1.3 s, g = 1.25 is at the edge (±0.04 s),
/// g = 1 holds by ~0.4 s.
/// (The same reckoning for the third piece against the first two leaves hibari ~0.05 s.) So an
/// engine may keep its first `openingPieces` pieces at the first's size before they grow.
public struct PieceSizes: Sendable, Equatable {
    /// The most characters of the first piece (at least 1).
    public var first: Int
    /// How much longer each piece may be than the one before, in percent (at least 100).
    public var growthPercent: Int
    /// How many pieces, from the first, hold at most `first` characters before the growth
    /// starts (at least 1).
    public var openingPieces: Int

    public init(first: Int, growthPercent: Int = 200, openingPieces: Int = 1) {
        self.first = max(first, 1)
        self.growthPercent = max(growthPercent, 100)
        self.openingPieces = max(openingPieces, 1)
    }

    /// The most characters piece `index` (from 0) may hold, never more than `longest`.
    public func length(ofPiece index: Int, longest: Int) -> Int {
        var length = min(first, longest)
        // Growth that rounds to nothing on a small piece still adds a character.
        let least = growthPercent > 100 ? 1 : 0
        let steps = max(index, 0) - (openingPieces - 1)
        for _ in 0..<min(max(steps, 0), 64) where length < longest {
            let (grown, overflow) = length.multipliedReportingOverflow(by: growthPercent)
            length = overflow ? longest : min(max(grown / 100, length + least), longest)
        }
        return length
    }
}
