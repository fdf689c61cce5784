/// How long the pieces of one stream are: a short first piece, so the first audio comes soon,
/// then each one `growthPercent` percent of the one before, up to the splitter's limit, so
/// later pieces, made while the listener has audio in hand, cost fewer calls.
///
/// The growth is what a burst of new streams pays for: every stream must have its next piece
/// made before the piece it is playing runs out, so while the pieces grow the work due runs
/// ahead of real time by about the growth factor. Twofold growth needs about three times a
/// stream's real-time CPU at its start; slower growth, less.
public struct PieceSizes: Sendable, Equatable {
    /// The most characters of the first piece (at least 1).
    public var first: Int
    /// How much longer each piece may be than the one before, in percent (at least 100).
    public var growthPercent: Int

    public init(first: Int, growthPercent: Int = 200) {
        self.first = max(first, 1)
        self.growthPercent = max(growthPercent, 100)
    }

    /// The most characters piece `index` (from 0) may hold, never more than `longest`.
    public func length(ofPiece index: Int, longest: Int) -> Int {
        var length = min(first, longest)
        // Growth that rounds to nothing on a small piece still adds a character.
        let least = growthPercent > 100 ? 1 : 0
        for _ in 0..<min(max(index, 0), 64) where length < longest {
            let (grown, overflow) = length.multipliedReportingOverflow(by: growthPercent)
            length = overflow ? longest : min(max(grown / 100, length + least), longest)
        }
        return length
    }
}
