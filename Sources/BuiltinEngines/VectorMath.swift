/// exp, log and sin/cos of eight floats at once, for hibari's vocoder, which spends much of its
/// time in them (per bin and frame a sin/cos pair and four exps, and for its noise a log and
/// another sin/cos: glibc's scalar `sincosf` alone took 11% of all of hibari's CPU time).
/// Polynomials after Cephes (S. L. Moshier's single-precision `expf`, `logf`, `sinf`, `cosf`),
/// with their range reductions, written with nothing but vector arithmetic and bit operations on
/// Swift's SIMD types: rounding and integer conversion go through the 1.5·2^23 trick and lane
/// selection through sign-bit masks, because `rounded`, comparisons, `pointwiseMin`,
/// `replacing(with:where:)` and conversions between SIMD types run lane by lane (a first version
/// using them was 4× slower than glibc's scalar functions).
///
/// Accuracy against glibc (`VectorMathTests`): exp within 1 ulp for x in [−87, 88]; log within
/// 1 ulp of the result for x in [1e−30, 1]; sin and cos within 1e−7 for |x| ≤ 10,000. Inputs
/// outside those ranges: exp is clamped to [e^−87.3, e^88], sin/cos lose accuracy beyond
/// |x| ≈ 2^22, log of 0, a negative number or NaN is meaningless but finite; exp and sin/cos of
/// NaN give NaN.
enum VectorMath {
    typealias Vector = SIMD8<Float>
    typealias Integers = SIMD8<Int32>

    /// 1.5·2^23: adding it to x with |x| < 2^22 rounds x to the nearest integer (ties to even)
    /// and leaves that integer, plus 2^22, in the low 23 bits of the sum.
    private static let magic: Float = 12_582_912

    @inline(__always) private static func bits(_ x: Vector) -> Integers { unsafeBitCast(x, to: Integers.self) }
    @inline(__always) private static func float(_ x: Integers) -> Vector { unsafeBitCast(x, to: Vector.self) }

    /// All ones in the lanes where `x` is negative (its sign bit set), zero elsewhere: a comparison
    /// `a < b` as `negative(a - b)`, since SIMD comparisons, too, run lane by lane.
    @inline(__always) private static func negative(_ x: Vector) -> Integers { bits(x) &>> 31 }

    /// The lanes of `b` where `mask` is all ones, of `a` where it is zero.
    @inline(__always)
    private static func select(_ a: Vector, _ b: Vector, _ mask: Integers) -> Vector {
        float((bits(a) & ~mask) | (bits(b) & mask))
    }

    /// e^x in every lane.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        var bounded = select(x, Vector(repeating: 88), negative(88 - x))
        bounded = select(bounded, Vector(repeating: -87.336_54), negative(bounded + 87.336_54))
        // x = n·ln 2 + r with |r| ≤ ln 2 / 2; ln 2 in two parts, so n·ln 2 loses nothing.
        let shifted = bounded * 1.442_695_04 + magic
        let n = shifted - magic
        let r = bounded - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * r * r + r + 1
        // 2^n built from its exponent bits; n is within [−126, 127].
        let exponent = (bits(shifted) & 0x7F_FFFF) &- 0x40_0000
        // A NaN passes the bounds (its differences are not negative) and stays NaN.
        return y * float((exponent &+ 127) &<< 23)
    }

    /// ln x in every lane, for x > 0.
    @inline(__always)
    static func log(_ x: Vector) -> Vector {
        let b = bits(x)
        // x = m·2^e with m in [0.5, 1); e as a float through the same trick as `exp`'s n.
        var e = float((((b &>> 23) & 0xFF) &+ (0x40_0000 - 126)) | 0x4B00_0000) - magic
        var m = float((b & 0x007F_FFFF) | 0x3F00_0000)
        // Below √½ take 2m and one off e, so that m − 1 lies in [−0.29, 0.41].
        let low = negative(m - 0.707_106_781_186_547_524)
        e = e - float(low & bits(Vector(repeating: 1)))
        m = select(m, m + m, low) - 1
        let z = m * m
        var p = Vector(repeating: 7.037_683_629_2e-2)
        p = p * m - 1.151_461_031_0e-1
        p = p * m + 1.167_699_874_0e-1
        p = p * m - 1.242_014_084_6e-1
        p = p * m + 1.424_932_278_7e-1
        p = p * m - 1.666_805_766_5e-1
        p = p * m + 2.000_071_476_5e-1
        p = p * m - 2.499_999_399_3e-1
        p = p * m + 3.333_333_117_4e-1
        let y = p * m * z - e * 2.121_944_4e-4 - z * 0.5
        return m + y + e * 0.693_359_375
    }

    /// sin x and cos x in every lane.
    @inline(__always)
    static func sinCos(_ x: Vector) -> (sine: Vector, cosine: Vector) {
        // x = q·π/2 + r with |r| ≤ π/4; π/2 in three parts, so q·π/2 loses nothing for |q| < 2^13.
        let shifted = x * 0.636_619_772_367_581_343 + magic
        let q = shifted - magic
        let r = x - q * 1.570_312_5 - q * 4.837_512_969_970_703_125e-4 - q * 7.549_789_954_891_882_16e-8
        let z = r * r
        var s = Vector(repeating: -1.951_529_589_1e-4)
        s = s * z + 8.332_160_873_6e-3
        s = s * z - 1.666_665_461_1e-1
        s = s * z * r + r
        var c = Vector(repeating: 2.443_315_711_809_948e-5)
        c = c * z - 1.388_731_625_493_765e-3
        c = c * z + 4.166_664_568_298_827e-2
        c = c * z * z - z * 0.5 + 1
        // The quadrant k = q mod 4 (2^22 is a multiple of 4): sin is s, c, −s, −c and cos is
        // c, −s, −c, s; the signs flip through the sign bit.
        let k = bits(shifted)
        let swap = Integers(repeating: 0) &- (k & 1)
        let sine = float(bits(select(s, c, swap)) ^ ((k & 2) &<< 30))
        let cosine = float(bits(select(c, s, swap)) ^ (((k &+ 1) & 2) &<< 30))
        return (sine, cosine)
    }

    /// The eight floats of `values` from `index` on (which must all be there).
    @inline(__always)
    static func load(_ values: [Float], _ index: Int) -> Vector {
        precondition(index >= 0 && index + 8 <= values.count, "eight values from \(index) of \(values.count)")
        return values.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress! + index).loadUnaligned(as: Vector.self) }
    }

    /// The smaller of `x` and `limit` in every lane (NaN stays NaN).
    @inline(__always)
    static func minimum(_ x: Vector, _ limit: Vector) -> Vector {
        select(x, limit, negative(limit - x))
    }
}
