import Foundation
import Testing

@testable import BuiltinEngines

@Suite struct VectorMathTests {
    /// Eight lanes from `start`, `step` apart.
    func lanes(_ start: Float, _ step: Float) -> VectorMath.Vector {
        var vector = VectorMath.Vector()
        for lane in 0..<8 { vector[lane] = start + Float(lane) * step }
        return vector
    }

    @Test func expIsWithinAnUlpOfLibm() {
        var worst: Float = 0
        for start in stride(from: Float(-87), to: 87.9, by: 0.0917) {
            let x = lanes(start, 0.0137)
            let y = VectorMath.exp(x)
            for lane in 0..<8 { worst = max(worst, abs(y[lane] - exp(x[lane])) / exp(x[lane]).ulp) }
        }
        #expect(worst <= 1, "\(worst) ulp")
        let edges = VectorMath.exp(VectorMath.Vector(.nan, 100, -100, 0, 1, -1, 7, 88))
        #expect(edges[0].isNaN && edges[1] == exp(88) && edges[2] > 0 && edges[2] < 1e-37)
        #expect(edges[3] == 1 && abs(edges[4] - exp(1)) <= exp(Float(1)).ulp && edges[7] == exp(88))
    }

    @Test func logIsWithinAnUlpOfLibmOnBoxMullersRange() {
        var worst: Float = 0
        var start: Float = 1e-30
        while start <= 1 {
            var x = VectorMath.Vector()
            for lane in 0..<8 { x[lane] = min(1, start * (1 + Float(lane) * 0.01)) }
            let y = VectorMath.log(x)
            for lane in 0..<8 { worst = max(worst, abs(y[lane] - log(x[lane])) / max(log(x[lane]).ulp, .leastNormalMagnitude)) }
            start *= 1.0013
        }
        #expect(worst <= 1, "\(worst) ulp")
        #expect(VectorMath.log(VectorMath.Vector(repeating: 1)) == VectorMath.Vector(repeating: 0))
    }

    @Test func sinAndCosAreWithinATenMillionthOfLibm() {
        var worst: (sine: Float, cosine: Float) = (0, 0)
        for start in stride(from: Float(-10_000), to: 10_000, by: 0.731) {
            let x = lanes(start, 0.37)
            let (sine, cosine) = VectorMath.sinCos(x)
            for lane in 0..<8 {
                worst.sine = max(worst.sine, abs(sine[lane] - sin(x[lane])))
                worst.cosine = max(worst.cosine, abs(cosine[lane] - cos(x[lane])))
            }
        }
        #expect(worst.sine <= 1e-7 && worst.cosine <= 1e-7, "\(worst)")
        let nan = VectorMath.sinCos(VectorMath.Vector(repeating: .nan))
        #expect(nan.sine[0].isNaN && nan.cosine[7].isNaN)
    }

    @Test func minimumCapsAndKeepsNaN() {
        let capped = VectorMath.minimum(VectorMath.Vector(-1, 6.9, 7, 7.1, 1e30, -1e30, .nan, .infinity), .init(repeating: 7))
        #expect(Array(capped.indices.map { capped[$0] }.prefix(6)) == [-1, 6.9, 7, 7, 7, -1e30])
        #expect(capped[6].isNaN && capped[7] == 7)
    }

    /// The noise filled eight pairs at a time is `next()`'s, pair for pair, to a few ulps.
    @Test func noiseFilledInBulkIsTheNoiseDrawnOneByOne() {
        var bulk = HibariNoise(seed: 42)
        var single = HibariNoise(seed: 42)
        let count = 1_003
        var real = [Float](repeating: 0, count: count)
        var imaginary = [Float](repeating: 0, count: count)
        real.withUnsafeMutableBufferPointer { real in
            imaginary.withUnsafeMutableBufferPointer { imaginary in
                bulk.fill(real: real.baseAddress!, imaginary: imaginary.baseAddress!, count: count)
            }
        }
        var worst: Float = 0
        for index in 0..<count {
            worst = max(worst, abs(real[index] - single.next()!), abs(imaginary[index] - single.next()!))
        }
        #expect(worst < 1e-5, "\(worst)")
        #expect(bulk.next() == single.next(), "both go on from the same state")
    }
}
