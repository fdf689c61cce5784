import Foundation

/// Standard normal noise for hibari's noise branch from a 64-bit seed, the same on every run and
/// platform: SplitMix64 for the uniform bits, Box-Muller for the pairs (one pair per complex
/// value). The reference draws from numpy's generator instead; only the statistics matter.
struct HibariNoise: IteratorProtocol, HibariNoiseSource {
    private var state: UInt64
    /// The second value of the last Box-Muller pair, not yet returned.
    private var spare: Float?

    init(seed: UInt64) {
        state = seed
    }

    /// A seed for one request: FNV-1a over the voice, the speed's bits and the text, so the same
    /// request always gives the same samples.
    static func seed(text: String, voice: String, speed: Double) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        mix(voice.utf8)
        mix([0])
        withUnsafeBytes(of: speed.bitPattern.littleEndian) { mix($0) }
        mix(text.utf8)
        return hash
    }

    private mutating func nextBits() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The next `count` complex values: real and imaginary parts from one Box-Muller pair each,
    /// the values `next()` would give two at a time, eight pairs at once through `VectorMath`
    /// (so they match `next()`'s to a few ulps, not bit for bit; the same calls always give the
    /// same values).
    mutating func fill(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, count: Int) {
        var index = 0
        if spare == nil {
            // The uniforms and angles first, one draw each, into the buffers; then eight of them at a
            // time into normals, in place.
            let whole = count / 8 * 8
            for slot in 0..<whole {
                let bits = nextBits()
                real[slot] = Self.uniform(bits)
                imaginary[slot] = Self.angle(bits)
            }
            while index < whole {
                let uniforms = UnsafeRawPointer(real + index).loadUnaligned(as: VectorMath.Vector.self)
                let angles = UnsafeRawPointer(imaginary + index).loadUnaligned(as: VectorMath.Vector.self)
                let radius = (-2 * VectorMath.log(uniforms)).squareRoot()
                let (sine, cosine) = VectorMath.sinCos(angles)
                UnsafeMutableRawPointer(real + index).storeBytes(of: radius * cosine, as: VectorMath.Vector.self)
                UnsafeMutableRawPointer(imaginary + index).storeBytes(of: radius * sine, as: VectorMath.Vector.self)
                index += 8
            }
        }
        while index < count {
            real[index] = next()!
            imaginary[index] = next()!
            index += 1
        }
    }

    /// A pair's uniform in (0, 1] from the top 24 bits of a draw (converted through Int32, which
    /// holds them exactly and converts in one instruction, where UInt64 takes a branch).
    @inline(__always)
    private static func uniform(_ bits: UInt64) -> Float {
        (Float(Int32(truncatingIfNeeded: bits >> 40)) + 1) * 0x1p-24
    }

    /// A pair's angle in [0, 2π) from the draw's next 24 bits.
    @inline(__always)
    private static func angle(_ bits: UInt64) -> Float {
        Float(Int32(truncatingIfNeeded: (bits >> 16) & 0xFF_FFFF)) * (0x1p-24 * 2 * Float.pi)
    }

    /// The next standard normal value; never nil.
    mutating func next() -> Float? {
        if let spare {
            self.spare = nil
            return spare
        }
        // One 64-bit draw gives both uniforms of a pair, 24 bits each, and the pair is made in
        // float: a third of the time of two draws and double-precision log, sin and cos, and
        // float's 24 bits are all a float sample keeps. u in (0, 1], so log(u) is finite.
        let bits = nextBits()
        let u = Self.uniform(bits)
        let angle = Self.angle(bits)
        let radius = (-2 * log(u)).squareRoot()
        let (sine, cosine) = HibariVocoder.sinCos(angle)
        spare = radius * sine
        return radius * cosine
    }
}

/// Where the vocoder's complex noise comes from: `HibariNoise`, or in tests a fixed sequence of
/// (real, imaginary) values.
protocol HibariNoiseSource {
    /// Writes the next `count` complex values' parts into `real` and `imaginary`.
    mutating func fill(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, count: Int)
}

/// A fixed sequence of values, read as (real, imaginary) pairs; 0 once it runs out.
extension IndexingIterator: HibariNoiseSource where Elements == [Float] {
    mutating func fill(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count {
            real[index] = next() ?? 0
            imaginary[index] = next() ?? 0
        }
    }
}
