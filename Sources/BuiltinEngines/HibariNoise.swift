import Foundation

/// Standard normal noise for hibari's noise branch from a 64-bit seed, the same on every run and
/// platform: SplitMix64 for the uniform bits, Box-Muller for the pairs (one pair per complex
/// value). The reference draws from numpy's generator instead; only the statistics matter.
struct HibariNoise: IteratorProtocol {
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

    /// The next standard normal value; never nil.
    mutating func next() -> Float? {
        if let spare {
            self.spare = nil
            return spare
        }
        // u in (0, 1], so log(u) is finite.
        let u = (Double(nextBits() >> 11) + 1) / 9_007_199_254_740_992
        let angle = Double(nextBits() >> 11) / 9_007_199_254_740_992 * 2 * Double.pi
        let radius = (-2 * log(u)).squareRoot()
        spare = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }
}
