import CFFTW
import Foundation

/// What hibari's network predicts for one sentence: per 12.5 ms frame, five parts of a spectrum
/// of `HibariVocoder.bins` bins and the F0 that drives its pulse train. The spectra are laid out
/// bin by bin, `frames` values each, as the model's `[1, 601, F]` outputs are.
struct HibariSpectrum: Sendable {
    var frames: Int
    /// `lh`: log magnitude of the harmonic part.
    var harmonicLogMagnitude: [Float]
    /// `theta`: the harmonic part's phase shift, π·tanh(θ).
    var harmonicPhase: [Float]
    /// `ln`: log magnitude of the noise.
    var noiseLogMagnitude: [Float]
    /// `lr`: log magnitude of the free-phase residual.
    var residualLogMagnitude: [Float]
    /// `phi`: the residual's phase.
    var residualPhase: [Float]
    /// `f0` in Hz, one per frame; below 40 Hz a frame is unvoiced.
    var f0: [Float]
}

/// hibari's spectrum-to-waveform step, as its `dsp.py` (hibari-tts 0.2.1) does it:
///
///     S = exp(lh)·e^{iπ·tanh θ}·STFT(pulses(f0)) + exp(ln)·Z + exp(lr)·e^{iφ}
///
/// then one inverse STFT (n_fft 1200, hop 300, periodic Hann, overlap-add normalized by the summed
/// squared window, `center` trimming) at 24 kHz. Pure functions of their inputs; `Z` (complex
/// Gaussian noise) is read from a generator passed in, so a seeded one makes the output
/// reproducible.
///
/// FFTW: plans are made once (`FFTPlans.shared`, Swift's lazy global initialization runs the
/// non-thread-safe planner exactly once) and executed with the new-array functions, which FFTW
/// documents as thread-safe, so any number of threads may run this at the same time.
enum HibariVocoder {
    static let fftSize = 1200
    static let hop = 300
    static let bins = fftSize / 2 + 1
    static let sampleRate = 24_000

    /// Periodic Hann window, computed in double and rounded to float as numpy does.
    static let window: [Float] = (0..<fftSize).map {
        Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(fftSize)))
    }
    /// The analysis window for the pulse train: a unit cosine then peaks at 1 in the STFT, so
    /// exp(lh) is the harmonic's magnitude.
    static let analysisWindow: [Float] = window.map { $0 / Float(fftSize / 4) }
    /// The synthesis window with the inverse transform's 1/n_fft folded in.
    static let synthesisWindow: [Float] = window.map { $0 / Float(fftSize) }

    /// Band-limited pulse train for `f0` (Hz per frame, linearly interpolated to samples): every
    /// harmonic below 11 kHz at unit amplitude, Σ_{h≤H} cos(h·t) = sin((H+½)t) / (2 sin(t/2)) − ½.
    /// Unvoiced samples (interpolated F0 at or below 40 Hz) are 0. `f0.count × hop` samples.
    static func pulses(f0: [Float]) -> [Float] {
        let frames = f0.count
        guard frames > 0 else { return [] }
        let threshold: Float = 40
        let maximumFrequency: Float = 11_000
        let half = hop / 2
        // Sample j of frame k lies at k + (j + ½)/hop − ½ frames: between frames k−1 and k in
        // the first half of the hop, k and k+1 in the second (align_corners=False interpolation).
        let weights: [Float] = (0..<hop).map {
            let position = (Double($0) + 0.5) / Double(hop) - 0.5
            return Float(position - (position / 1).rounded(.down))
        }
        let padded = [f0[0]] + f0 + [f0[frames - 1]]
        var output = [Float](repeating: 0, count: frames * hop)
        var cumulative = 0.0
        for frame in 0..<frames {
            for j in 0..<hop {
                let u = weights[j]
                let v = 1 - u
                let (before, after) =
                    j < half ? (padded[frame], padded[frame + 1]) : (padded[frame + 1], padded[frame + 2])
                var frequency = before * v + after * u
                let voiced = frequency > threshold
                frequency = max(frequency, threshold)
                // Phase accumulates in double, as the reference's cumsum does, and wraps to [0, 2π).
                cumulative += Double(frequency)
                var cycles = cumulative * (1.0 / Double(sampleRate))
                cycles -= cycles.rounded(.towardZero)
                let t = Float(cycles * 2 * Double.pi)
                guard voiced else { continue }
                let harmonics = (maximumFrequency / frequency).rounded(.down) + 0.5
                var denominator = sin(t * 0.5) * 2
                var value = sin(harmonics * t)
                if abs(denominator) <= 2e-3 {
                    // The limit of sin((H+½)t) / (2 sin(t/2)) as t → 0, as the reference takes it.
                    denominator = 1
                    value = harmonics
                } else {
                    value /= denominator
                }
                output[frame * hop + j] = value - 0.5
            }
        }
        return output
    }

    /// The waveform of `spectrum`, `frames × hop` samples. `noise` gives the complex noise Z bin by
    /// bin and frame by frame within a bin, the order of the reference's `standard_normal((601,
    /// 2F))` read as (real, imaginary) pairs.
    static func waveform(of spectrum: HibariSpectrum, noise: inout some HibariNoiseSource) -> [Float] {
        let frames = spectrum.frames
        precondition(
            spectrum.f0.count == frames
                && [
                    spectrum.harmonicLogMagnitude, spectrum.harmonicPhase, spectrum.noiseLogMagnitude,
                    spectrum.residualLogMagnitude, spectrum.residualPhase,
                ].allSatisfy { $0.count == bins * frames }, "every spectrum must hold bins × frames values")
        guard frames > 0 else { return [] }
        let center = fftSize / 2
        // torch.stft(center=True): frame f covers samples [f·hop − n_fft/2, f·hop + n_fft/2) of
        // the pulse train, reflected at its ends; padded once, so frame f starts at f·hop here.
        let excitation = pulses(f0: spectrum.f0)
        let padded = (-center..<excitation.count + center).map { excitation[reflected($0, count: excitation.count)] }
        let transform = FFTFrame(plans: FFTPlans.shared)
        let blocks = fftSize / hop
        var sum = [Float](repeating: 0, count: (frames + blocks - 1) * hop)
        let (rotation, additive) = factors(of: spectrum, noise: &noise)
        let (samples, bands) = (transform.samples, transform.bands)
        for frame in 0..<frames {
            let start = frame * hop
            for n in 0..<fftSize {
                samples[n] = padded[start + n] * analysisWindow[n]
            }
            transform.forward()
            let base = 2 * frame * bins
            for bin in 0..<bins {
                let (real, imaginary) = (bands[2 * bin], bands[2 * bin + 1])
                let (rotationReal, rotationImaginary) = (rotation[base + 2 * bin], rotation[base + 2 * bin + 1])
                bands[2 * bin] = real * rotationReal - imaginary * rotationImaginary + additive[base + 2 * bin]
                bands[2 * bin + 1] = real * rotationImaginary + imaginary * rotationReal + additive[base + 2 * bin + 1]
            }
            // A real signal's DC and Nyquist bins are real; the inverse transform ignores the rest.
            bands[1] = 0
            bands[2 * bins - 1] = 0
            transform.inverse()
            for n in 0..<fftSize {
                sum[start + n] += samples[n] * synthesisWindow[n]
            }
        }
        return (0..<frames * hop).map { sample in
            let position = sample + center
            return sum[position] * inverseWindowSum(at: position, frames: frames)
        }
    }

    /// The factors of S for every bin and frame, stored frame by frame as (real, imaginary) pairs:
    /// the harmonic part's rotation exp(lh)·e^{iπ·tanh θ}, and the noise plus the residual,
    /// exp(ln)·Z + exp(lr)·e^{iφ}. One pass over the model's bin-major layout (15% less time than
    /// reading the five spectra bin by bin for every frame), eight frames of a bin at a time
    /// through `VectorMath` (the scalar functions, which took a fifth of hibari's CPU time, for
    /// the frames left over).
    static func factors(of spectrum: HibariSpectrum, noise: inout some HibariNoiseSource)
        -> (rotation: [Float], additive: [Float])
    {
        let frames = spectrum.frames
        let count = bins * frames
        var noiseReal = [Float](repeating: 0, count: count)
        var noiseImaginary = [Float](repeating: 0, count: count)
        noiseReal.withUnsafeMutableBufferPointer { real in
            noiseImaginary.withUnsafeMutableBufferPointer { imaginary in
                noise.fill(real: real.baseAddress!, imaginary: imaginary.baseAddress!, count: count)
            }
        }
        var rotation = [Float](repeating: 0, count: 2 * count)
        var additive = [Float](repeating: 0, count: 2 * count)
        let limit = VectorMath.Vector(repeating: 7)
        for bin in 0..<bins {
            var frame = 0
            while frame + 8 <= frames {
                let index = bin * frames + frame
                func load(_ values: [Float]) -> VectorMath.Vector { VectorMath.load(values, index) }
                let tanh = 1 - 2 / (VectorMath.exp(2 * load(spectrum.harmonicPhase)) + 1)
                let (sine, cosine) = VectorMath.sinCos(tanh * Float.pi)
                let magnitude = VectorMath.exp(VectorMath.minimum(load(spectrum.harmonicLogMagnitude), limit))
                let noiseScale = VectorMath.exp(VectorMath.minimum(load(spectrum.noiseLogMagnitude), limit))
                let residual = VectorMath.exp(VectorMath.minimum(load(spectrum.residualLogMagnitude), limit))
                let (residualSine, residualCosine) = VectorMath.sinCos(load(spectrum.residualPhase))
                let (rotationReal, rotationImaginary) = (cosine * magnitude, sine * magnitude)
                let additiveReal = load(noiseReal) * noiseScale + residualCosine * residual
                let additiveImaginary = load(noiseImaginary) * noiseScale + residualSine * residual
                for lane in 0..<8 {
                    let out = 2 * ((frame + lane) * bins + bin)
                    rotation[out] = rotationReal[lane]
                    rotation[out + 1] = rotationImaginary[lane]
                    additive[out] = additiveReal[lane]
                    additive[out + 1] = additiveImaginary[lane]
                }
                frame += 8
            }
            for frame in frame..<frames {
                let index = bin * frames + frame
                let out = 2 * (frame * bins + bin)
                let (sine, cosine) = sinCos(fastTanh(spectrum.harmonicPhase[index]) * Float.pi)
                let magnitude = limitedExp(spectrum.harmonicLogMagnitude[index])
                rotation[out] = cosine * magnitude
                rotation[out + 1] = sine * magnitude
                let noiseScale = limitedExp(spectrum.noiseLogMagnitude[index])
                let residual = limitedExp(spectrum.residualLogMagnitude[index])
                let (residualSine, residualCosine) = sinCos(spectrum.residualPhase[index])
                additive[out] = noiseReal[index] * noiseScale + residualCosine * residual
                additive[out + 1] = noiseImaginary[index] * noiseScale + residualSine * residual
            }
        }
        return (rotation, additive)
    }

    /// 1 / the summed squared window of the frames that overlap `position` (constant 1/1.5
    /// inside, tapered at both ends).
    private static func inverseWindowSum(at position: Int, frames: Int) -> Float {
        var total: Float = 0
        let block = position / hop
        let offset = position % hop
        for k in 0..<(fftSize / hop) where block - k >= 0 && block - k < frames {
            let weight = window[k * hop + offset]
            total += weight * weight
        }
        return 1 / max(total, 1e-11)
    }

    /// tanh(x) as 1 − 2 / (e^{2x} + 1): glibc's tanhf goes through expm1f and cost a tenth of
    /// all synthesis time; this is within 2e-7 of it (absolute), which is what a phase needs.
    /// ±∞ and NaN come out as tanh gives them (±1, NaN).
    static func fastTanh(_ x: Float) -> Float { 1 - 2 / (exp(2 * x) + 1) }

    /// sin(x) and cos(x) in one call.
    static func sinCos(_ x: Float) -> (sine: Float, cosine: Float) {
        var (sine, cosine): (Float, Float) = (0, 0)
        cfftw_sincosf(x, &sine, &cosine)
        return (sine, cosine)
    }

    /// exp(x) with x capped at 7, as the reference caps its magnitudes.
    private static func limitedExp(_ x: Float) -> Float { exp(min(x, 7)) }

    /// numpy's "reflect" padding: index `i` of a signal of `count` samples mirrored at both ends
    /// (without repeating the edge sample), as often as needed.
    static func reflected(_ i: Int, count: Int) -> Int {
        guard count > 1 else { return 0 }
        let period = 2 * (count - 1)
        var index = i % period
        if index < 0 { index += period }
        return index < count ? index : period - index
    }

    /// 16-bit samples the way hibari writes WAV files: clipped to ±1, scaled by 32767 and
    /// truncated; NaN becomes silence.
    static func pcm(_ samples: [Float]) -> [Int16] {
        samples.map { sample in
            guard !sample.isNaN else { return 0 }
            return Int16(min(max(sample, -1), 1) * 32767)
        }
    }
}

/// FFTW plans for hibari's 1200-point real transforms, made once for the process.
// @unchecked: the plans are immutable after init, and FFTW's new-array execute functions may run
// one plan on many threads at once.
final class FFTPlans: @unchecked Sendable {
    fileprivate let forwardPlan: fftwf_plan
    fileprivate let inversePlan: fftwf_plan
    let size: Int

    static let shared = FFTPlans(size: HibariVocoder.fftSize)

    private init(size: Int) {
        self.size = size
        // FFTW_ESTIMATE plans without touching the arrays, and picks the same algorithm in every
        // process (FFTW_MEASURE could pick another per run, and the same request must give the
        // same bytes). The plans use SIMD: every array they run on comes from fftwf_alloc, so it
        // has the alignment of the arrays planned with (FFTW_UNALIGNED would forbid SIMD).
        let flags = UInt32(FFTW_ESTIMATE)
        guard let real = fftwf_alloc_real(size), let complex = fftwf_alloc_complex(size / 2 + 1) else {
            fatalError("FFTW could not allocate \(size)-point buffers")
        }
        defer {
            fftwf_free(real)
            fftwf_free(complex)
        }
        // A 1-D real plan of any size exists for FFTW_ESTIMATE; NULL would mean a broken library.
        guard let forward = fftwf_plan_dft_r2c_1d(Int32(size), real, complex, flags),
            let inverse = fftwf_plan_dft_c2r_1d(Int32(size), complex, real, flags)
        else { fatalError("FFTW could not plan a \(size)-point real transform") }
        forwardPlan = forward
        inversePlan = inverse
    }

    deinit {
        fftwf_destroy_plan(forwardPlan)
        fftwf_destroy_plan(inversePlan)
    }
}

/// One thread's 1200-point transform and its memory, allocated by FFTW (SIMD-aligned) once per
/// waveform and reused for every frame: `samples` (`size` values) and `bands` (`size/2 + 1`
/// (re, im) pairs). Not Sendable: one waveform call owns it.
final class FFTFrame {
    let samples: UnsafeMutableBufferPointer<Float>
    let bands: UnsafeMutableBufferPointer<Float>
    private let plans: FFTPlans

    init(plans: FFTPlans) {
        // fftwf_alloc_real of size + 2 floats: the same bytes and alignment as size/2 + 1 complex.
        guard let samples = fftwf_alloc_real(plans.size), let bands = fftwf_alloc_real(plans.size + 2) else {
            fatalError("FFTW could not allocate \(plans.size)-point buffers")
        }
        self.samples = UnsafeMutableBufferPointer(start: samples, count: plans.size)
        self.bands = UnsafeMutableBufferPointer(start: bands, count: plans.size + 2)
        self.samples.initialize(repeating: 0)
        self.bands.initialize(repeating: 0)
        self.plans = plans
    }

    deinit {
        fftwf_free(samples.baseAddress)
        fftwf_free(bands.baseAddress)
    }

    /// The unnormalized forward transform of `samples` into `bands`.
    func forward() {
        bands.baseAddress!.withMemoryRebound(to: fftwf_complex.self, capacity: plans.size / 2 + 1) {
            fftwf_execute_dft_r2c(plans.forwardPlan, samples.baseAddress!, $0)
        }
    }

    /// The unnormalized inverse transform (`size` times the inverse DFT) of `bands` into
    /// `samples`. Overwrites `bands`.
    func inverse() {
        bands.baseAddress!.withMemoryRebound(to: fftwf_complex.self, capacity: plans.size / 2 + 1) {
            fftwf_execute_dft_c2r(plans.inversePlan, $0, samples.baseAddress!)
        }
    }
}
