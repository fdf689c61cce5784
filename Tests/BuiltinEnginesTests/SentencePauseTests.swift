import AudioPipeline
import BuiltinEngines
import SpeechCore
import Testing

@Suite struct SentencePauseTests {
    /// Three sentences through the pipeline, as a request is spoken: every built-in engine
    /// (Piper and hibari where installed) leaves at least 150 ms of near-silence between them.
    /// Pieces are synthesized apart and eSpeak NG trims the silence after a last sentence, so
    /// before the pipeline padded sentence ends its longest gap was 0.04 s.
    @Test func everyEngineLeavesAPauseAtEachSentenceEnd() async throws {
        let text = "The first sentence is here. The second one follows it! Is this the third one?"
        for engine in try await LocalEngines.start().engines {
            var bytes: [UInt8] = []
            for try await chunk in SpeechAudioStream(
                engine: engine, text: text, voice: engine.model.defaultVoice, speed: 1, format: .pcm)
            {
                bytes += chunk
            }
            let samples = stride(from: 0, to: bytes.count - 1, by: 2).map {
                Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)
            }
            let pauses = interiorSilences(samples, atLeast: AudioFormat.outputSampleRate * 150 / 1000)
            #expect(pauses >= 2, "\(engine.model.id): \(pauses) pauses of 150 ms or more")
        }
    }

    /// Runs of near-silence (below about -36 dBFS) of at least `length` samples, between the
    /// first and the last sound.
    func interiorSilences(_ samples: [Int16], atLeast length: Int) -> Int {
        let loud = samples.indices.filter { abs(Int32(samples[$0])) >= 500 }
        guard let first = loud.first, let last = loud.last else { return 0 }
        return zip(loud, loud.dropFirst()).filter { $1 - $0 >= length && $0 >= first && $1 <= last }.count
    }
}
