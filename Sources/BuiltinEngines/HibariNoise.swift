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
        // One 64-bit draw gives both uniforms of a pair, 24 bits each, and the pair is made in
        // float: a third of the time of two draws and double-precision log, sin and cos, and
        // float's 24 bits are all a float sample keeps. u in (0, 1], so log(u) is finite.
        let bits = nextBits()
        let u = (Float(bits >> 40) + 1) * 0x1p-24
        let angle = Float((bits >> 16) & 0xFF_FFFF) * (0x1p-24 * 2 * Float.pi)
        let radius = (-2 * log(u)).squareRoot()
        let (sine, cosine) = HibariVocoder.sinCos(angle)
        spare = radius * sine
        return radius * cosine
    }
}
