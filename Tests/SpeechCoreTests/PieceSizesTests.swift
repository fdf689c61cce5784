import Testing

@testable import SpeechCore

@Suite struct PieceSizesTests {
    @Test func piecesGrowByTheFactorUpToTheLimit() {
        let twofold = PieceSizes(first: 24)
        #expect((0..<7).map { twofold.length(ofPiece: $0, longest: 400) } == [24, 48, 96, 192, 384, 400, 400])
        let byHalf = PieceSizes(first: 24, growthPercent: 150)
        #expect((0..<9).map { byHalf.length(ofPiece: $0, longest: 400) } == [24, 36, 54, 81, 121, 181, 271, 400, 400])
    }

    @Test func theOpeningPiecesKeepTheFirstsSizeThenTheyGrow() {
        let opening = PieceSizes(first: 24, growthPercent: 125, openingPieces: 2)
        #expect((0..<6).map { opening.length(ofPiece: $0, longest: 400) } == [24, 24, 30, 37, 46, 57])
        let three = PieceSizes(first: 40, growthPercent: 200, openingPieces: 3)
        #expect((0..<6).map { three.length(ofPiece: $0, longest: 100) } == [40, 40, 40, 80, 100, 100])
    }

    @Test func outOfRangeSettingsAreClampedAndNothingTraps() {
        // No growth below 100%, no first piece below one character, no piece above the limit.
        #expect(PieceSizes(first: 24, growthPercent: 10).length(ofPiece: 5, longest: 400) == 24)
        #expect(PieceSizes(first: -3).length(ofPiece: 0, longest: 400) == 1)
        #expect(PieceSizes(first: 1_000).length(ofPiece: 0, longest: 400) == 400)
        // A small piece still grows by at least a character; huge indexes and factors stay bounded.
        #expect(PieceSizes(first: 1, growthPercent: 101).length(ofPiece: 3, longest: 400) == 4)
        #expect(PieceSizes(first: 16, growthPercent: Int.max).length(ofPiece: Int.max, longest: 400) == 400)
        #expect(PieceSizes(first: 16).length(ofPiece: -1, longest: 400) == 16)
        #expect(PieceSizes(first: 16, openingPieces: -5).length(ofPiece: 1, longest: 400) == 32)
        let endless = PieceSizes(first: 16, openingPieces: Int.max)
        #expect(endless.length(ofPiece: Int.max - 1, longest: 400) == 16)
        #expect(endless.length(ofPiece: Int.max, longest: 400) == 32)
    }
}
